"""``monitor``: the lab's storage at a glance, for a person or for cron.

The guide's report (timestamp, each mount's total/used/free/percent, warnings) plus each tier's
usage and thresholds, the bytes per dataset and per project as the catalog places them (its kept
sums, ``labvault.tiers.totals``: no file is visited), and trends with days until full
(``labvault.tiers.forecast``). The catalog is read through a ``SqlRows`` (plain SQL), so the report
needs no SQLAlchemy.

Mounts are the file systems of the folder tiers, one entry per file system (tiers sharing one are
listed together) with the strictest thresholds of those tiers; percent is ``used / total`` as the
guide computes it. Status: ``critical`` past a critical threshold or a folder tier that is missing,
``warn`` past a warn threshold or a growing trend that fills a mount or tier within
:data:`FULL_SOON_DAYS`, else ``ok``; the report's status is the worst.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NamedTuple

from labvault.catalog.plain import SqlRows
from labvault.tiers import history
from labvault.tiers.forecast import Trend, trend_of
from labvault.tiers.lab import LabConfig, Tier
from labvault.tiers.totals import largest, tier_totals
from labvault.tiers.types import TierUsage
from labvault.tiers.usage import tier_usage

FULL_SOON_DAYS = 7.0
EXIT_CODES = {"ok": 0, "warn": 1, "critical": 2}
_RANK = {"ok": 0, "warn": 1, "critical": 2}


class Disk(NamedTuple):
    total: int
    used: int
    free: int


@dataclass(frozen=True)
class MountUsage:
    """One file system holding folder tiers (statvfs): bytes, percent used, status, trend."""

    mount: str
    tiers: tuple[str, ...]
    total: int
    used: int
    free: int
    percent: float
    warn_percent: float
    critical_percent: float
    status: str
    trend: Trend


@dataclass(frozen=True)
class TierReport:
    """A tier's usage (as ``tier list`` reports it) with its thresholds and trend."""

    name: str
    where: str
    used: int | None
    capacity: int | None
    free: int | None
    percent: float | None
    warn_percent: float
    critical_percent: float
    status: str
    unit_bytes: int
    objects: int
    units: int
    datasets: int
    monthly_cost: float
    trend: Trend


@dataclass(frozen=True)
class GroupUsage:
    """Bytes the catalog places for one dataset (all versions and parts) or one project."""

    name: str
    bytes: int
    units: int
    objects: int
    tiers: dict[str, int]


@dataclass(frozen=True)
class MonitorReport:
    """The whole report; ``exit_code`` is 0 ok, 1 warn, 2 critical. ``datasets`` and ``projects``
    are the largest ``top`` (``*_total`` counts them all); ``recorded`` the history rows written."""

    timestamp: str
    status: str
    exit_code: int
    mounts: tuple[MountUsage, ...]
    tiers: tuple[TierReport, ...]
    datasets: tuple[GroupUsage, ...]
    datasets_total: int
    projects: tuple[GroupUsage, ...]
    projects_total: int
    warnings: tuple[str, ...]
    recorded: int


def project_of(name: str) -> str:
    """A unit's project: its name's first ``_``-separated word (``sentiment_20241113_run001`` and
    ``sentiment_reviews`` are project ``sentiment``)."""
    return name.split("_", 1)[0] or name


def monitor(rows: SqlRows, lab: LabConfig, now: datetime, window_days: float = 30.0, top: int = 20) -> MonitorReport:
    """The report from the catalog read through ``rows`` (nothing recorded: see :func:`usage_rows`)."""
    since = now - timedelta(days=window_days)
    usages = tier_usage(lab, tier_totals(rows))
    mounts = _mounts(lab.tiers)
    warnings: list[str] = []
    mount_reports = []
    for point, tiers, disk in mounts:
        warn = min(t.warn_percent for t in tiers)
        crit = min(t.critical_percent for t in tiers)
        percent = round(disk.used / disk.total * 100, 2) if disk.total else 0.0
        status = _threshold_status(percent, warn, crit)
        trend = trend_of([*history.mount_history(rows, point, since), (now, disk.used)], disk.total, window_days)
        names = tuple(t.name for t in tiers)
        if status != "ok":
            warnings.append(f"{status}: {point} is {percent:.1f}% full (warn at {warn:g}%, critical at {crit:g}%; "
                            f"tier{'s' if len(names) > 1 else ''} {', '.join(names)})")
        status = _with_trend(status, trend, point, warnings)
        mount_reports.append(MountUsage(point, names, disk.total, disk.used, disk.free, percent, warn, crit, status,
                                        trend))
    tier_reports = []
    for tier, u in zip(lab.tiers, usages, strict=True):
        trend = trend_of([*history.tier_history(rows, tier.name, since), *([(now, u.used)] if u.used is not None
                                                                          else [])], u.capacity, window_days)
        status = u.status
        if status == "missing":
            status = "critical"
            warnings.append(f"critical: tier {tier.name}: {tier.where} does not exist (is it mounted?)")
        elif status != "ok" and (tier.capacity is not None or not tier.is_local):  # else: its mount says it
            warnings.append(f"{status}: tier {tier.name} is {u.percent:.1f}% of its capacity "
                            f"(warn at {tier.warn_percent:g}%, critical at {tier.critical_percent:g}%)")
        if tier.capacity is not None or not tier.is_local:
            status = _with_trend(status, trend, f"tier {tier.name}", warnings)
        tier_reports.append(_tier_report(tier, u, status, trend))
    datasets, n_datasets = largest(rows, "dataset", top)
    projects, n_projects = largest(rows, "project", top)
    worst = max([m.status for m in mount_reports] + [t.status for t in tier_reports], key=_RANK.__getitem__,
                default="ok")
    return MonitorReport(now.isoformat(timespec="seconds") + "Z", worst, EXIT_CODES[worst], tuple(mount_reports),
                         tuple(tier_reports), tuple(GroupUsage(*g) for g in datasets), n_datasets,
                         tuple(GroupUsage(*g) for g in projects), n_projects, tuple(warnings), 0)


def usage_rows(report: MonitorReport) -> list[history.UsageRow]:
    """What ``--record`` appends for ``report``: a row per mount and per tier with a known use."""
    rows = [history.UsageRow(None, m.mount, m.used, m.total) for m in report.mounts]
    return rows + [history.UsageRow(t.name, t.where, t.used, t.capacity or 0) for t in report.tiers
                   if t.used is not None]


def with_warning(report: MonitorReport, status: str, text: str) -> MonitorReport:
    """``report`` with one more warning (``"STATUS: text"``), its status raised to ``status`` at least."""
    worst = max(report.status, status, key=_RANK.__getitem__)
    return replace(report, status=worst, exit_code=EXIT_CODES[worst], warnings=(*report.warnings, f"{status}: {text}"))


def _threshold_status(percent: float, warn: float, crit: float) -> str:
    return "critical" if percent >= crit else "warn" if percent >= warn else "ok"


def _with_trend(status: str, trend: Trend, what: str, warnings: list[str]) -> str:
    days = trend.days_until_full
    if days is None or days > FULL_SOON_DAYS or trend.slope_per_day is None:
        return status
    warnings.append(f"warn: {what} will be full in about {days:.1f} days at the current rate "
                    f"(+{trend.slope_per_day / 1024**3:.2f} GiB a day)")
    return status if status == "critical" else "warn"


def _tier_report(tier: Tier, u: TierUsage, status: str, trend: Trend) -> TierReport:
    return TierReport(u.name, u.where, u.used, u.capacity, u.free, u.percent, tier.warn_percent,
                      tier.critical_percent, status, u.unit_bytes, u.objects, u.units, u.datasets, u.monthly_cost,
                      trend)


def mount_point(path: str) -> str:
    """The mount point of the file system holding ``path`` (its real path, walked up)."""
    p = os.path.realpath(path)
    while not os.path.ismount(p):
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    return p


def _mounts(tiers: Sequence[Tier]) -> list[tuple[str, list[Tier], Disk]]:
    """Folder tiers grouped by file system (``st_dev``), in tier order; missing folders are left out
    (the tier reports them)."""
    by_dev: dict[int, tuple[str, list[Tier], Disk]] = {}
    for t in tiers:
        if t.path is None:
            continue
        try:
            dev = os.stat(t.path).st_dev
            if dev not in by_dev:
                total, used, free = shutil.disk_usage(t.path)
                by_dev[dev] = (mount_point(str(t.path)), [], Disk(total, used, free))
        except OSError:
            continue
        by_dev[dev][1].append(t)
    return list(by_dev.values())
