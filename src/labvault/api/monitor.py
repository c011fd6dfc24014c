"""The storage monitor::

    from labvault import api

    report = api.monitor(record=True, prometheus="/var/lib/node_exporter/labvault.prom")
    for w in report.warnings:
        print(w)
    raise SystemExit(report.exit_code)      # 0 ok, 1 warn, 2 critical: for cron

``lab`` and ``catalog_url`` are found as for every lab function (``labvault.api.lab``). A report
that only reads an SQLite catalog at the newest schema is read with ``sqlite3`` alone (no
SQLAlchemy, ``labvault.catalog.plain``); recording, verifying, PostgreSQL and a catalog that must
be migrated first open the catalog as every other command does.
"""

from __future__ import annotations

import os
from datetime import datetime

from labvault.catalog.plain import now as _now
from labvault.catalog.plain import sqlite_rows
from labvault.errors import UsageError
from labvault.tiers import load as _load
from labvault.tiers import monitor as _monitor
from labvault.tiers.forecast import Trend
from labvault.tiers.lab import LabConfig, catalog_url_of

PathLike = str | os.PathLike[str]
MonitorReport = _monitor.MonitorReport
MountUsage = _monitor.MountUsage
TierReport = _monitor.TierReport
GroupUsage = _monitor.GroupUsage

__all__ = ["GroupUsage", "MonitorReport", "MountUsage", "TierReport", "Trend", "monitor"]


def monitor(lab: PathLike | None = None, catalog_url: str | None = None, record: bool = False,
            prometheus: PathLike | None = None, window_days: float = 30.0, top: int = 20,
            at: datetime | None = None, verify: bool = False) -> MonitorReport:
    """Usage per mount (statvfs), per tier, per dataset and per project (from the catalog, no file
    walk), with thresholds, trends over the last ``window_days`` of recorded history and days until
    full. ``record`` appends this measurement to the history (a row per mount and per tier);
    ``prometheus`` writes the metrics there (node_exporter textfile format, atomically). ``at``
    (naive UTC) stands for the current time. ``verify`` first recomputes the catalog's per-tier,
    per-project and per-dataset sums from its placements; if they disagree it rebuilds them and
    the report warns. The report's ``exit_code``: 0 ok, 1 warn, 2 critical."""
    if window_days <= 0:
        raise UsageError(f"window_days must be positive, got {window_days:g}", "pass a number of days such as 30")
    if top < 0:
        raise UsageError(f"top must be 0 or more, got {top}", "pass how many datasets and projects to list")
    config = _load.load_lab(lab)
    url = catalog_url_of(config, catalog_url)
    when = at or _now()
    report = None
    if not (record or verify):
        with sqlite_rows(url) as rows:
            if rows is not None:
                report = _monitor.monitor(rows, config, when, window_days, top)
    if report is None:
        report = _from_catalog(url, config, when, record, verify, window_days, top)
    if prometheus is not None:
        from labvault.tiers import prometheus as _prometheus

        _prometheus.write_textfile(report, prometheus)
    return report


def _from_catalog(url: str, config: LabConfig, when: datetime, record: bool, verify: bool, window_days: float,
                  top: int) -> MonitorReport:
    from dataclasses import replace

    from labvault.catalog import lab_totals
    from labvault.catalog.store import open_catalog
    from labvault.tiers.history import append_usage

    cat = open_catalog(url)
    drifted: list[str] = []
    if verify:
        with cat.read() as conn:
            drifted = lab_totals.drift(conn)
        if drifted:
            cat.write(lab_totals.rebuild)
    with cat.sql_rows() as rows:
        report = _monitor.monitor(rows, config, when, window_days, top)
    if drifted:
        report = _monitor.with_warning(report, "warn", (
            f"the catalog's sums per tier, project and dataset disagreed with its placements in {len(drifted)} "
            f"row{'s' if len(drifted) > 1 else ''} (first: {drifted[0]}); rebuilt from the placements"))
    if record:
        report = replace(report, recorded=append_usage(cat, when, _monitor.usage_rows(report)))
    return report
