"""What a lab's dashboard watches: backup drills, each policy's last good snapshot, usage history,
and the alerts drawn from them::

    from labvault import api

    for a in api.alerts(stale_days=2):
        print(a.severity, a.source, a.message)

``lab`` and ``catalog_url`` are found as for every lab function (``labvault.api.lab``). Alerts are
the monitor's warnings, policies whose latest drill failed, and policies with no snapshot newer
than ``stale_days``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from labvault.api.backup import backup_list
from labvault.api.lab import lab_catalog
from labvault.api.monitor import monitor
from labvault.catalog import backup_log
from labvault.catalog.store import now
from labvault.errors import UsageError
from labvault.tiers import history as _history
from labvault.tiers import load as _load

PathLike = str | os.PathLike[str]

__all__ = ["Alert", "BackupStatus", "DrillRecord", "UsagePoint", "alerts", "backup_drills", "backup_status",
           "usage_history"]


@dataclass(frozen=True)
class DrillRecord:
    at: str
    policy: str
    target: str
    snapshot: str
    ok: bool
    files: int
    bytes: int
    failures: tuple[str, ...]


@dataclass(frozen=True)
class BackupStatus:
    """One policy: its newest snapshot (``last_success``, ISO 8601) and its age, its latest drill,
    and whether it is ``stale`` (no snapshot, or none newer than the threshold)."""

    policy: str
    target: str
    schedule: str | None
    snapshots: int
    last_success: str | None
    age_days: float | None
    last_drill: DrillRecord | None
    stale: bool


@dataclass(frozen=True)
class Alert:
    severity: str  # warn | critical
    source: str  # monitor | drill | backup
    subject: str
    message: str


@dataclass(frozen=True)
class UsagePoint:
    at: str
    used: int


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds") + "Z"


def backup_drills(policy: str | None = None, lab: PathLike | None = None,
                  catalog_url: str | None = None) -> list[DrillRecord]:
    """The recorded drills (``backup drill``), newest first."""
    cat = lab_catalog(_load.load_lab(lab), catalog_url)
    return [DrillRecord(_iso(r.at), r.policy, r.target, r.snapshot, bool(r.ok), int(r.files), int(r.bytes),
                        tuple((r.failures or "").splitlines())) for r in backup_log.drills(cat, policy)]


def _parse_time(text: str) -> datetime:
    """A snapshot's time as naive UTC (a time without an offset is taken as UTC)."""
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo is not None else t


def backup_status(lab: PathLike | None = None, catalog_url: str | None = None, stale_days: float = 2.0,
                  at: datetime | None = None) -> list[BackupStatus]:
    """Each backup policy of the lab config, in the config's order (none: an empty list)."""
    if stale_days <= 0:
        raise UsageError(f"stale_days must be positive, got {stale_days:g}", "pass a number of days such as 2")
    config = _load.load_lab(lab)
    if not config.backups:
        return []
    when = at or now()
    snaps = backup_list(lab=lab)
    drills = backup_drills(lab=lab, catalog_url=catalog_url)
    out = []
    for p in config.backups:
        mine = [s for s in snaps if s.policy == p.name]
        newest = max((_parse_time(s.time) for s in mine), default=None)
        age = (when - newest).total_seconds() / 86400 if newest is not None else None
        drill = next((d for d in drills if d.policy == p.name), None)
        out.append(BackupStatus(p.name, p.target, p.schedule, len(mine), _iso(newest) if newest else None,
                                round(age, 3) if age is not None else None, drill,
                                age is None or age > stale_days))
    return out


def usage_history(tier: str | None = None, mount: str | None = None, days: float = 30.0,
                  lab: PathLike | None = None, catalog_url: str | None = None,
                  at: datetime | None = None) -> list[UsagePoint]:
    """The recorded usage (``monitor --record``) of a tier or a mount over the last ``days``, oldest first."""
    if (tier is None) == (mount is None):
        raise UsageError("name either a tier or a mount", "e.g. tier=hot")
    if days <= 0:
        raise UsageError(f"days must be positive, got {days:g}", "pass a number of days such as 30")
    since = (at or now()) - timedelta(days=days)
    with lab_catalog(_load.load_lab(lab), catalog_url).sql_rows() as rows:
        found = (_history.tier_history(rows, tier, since) if tier is not None
                 else _history.mount_history(rows, str(mount), since))
    return [UsagePoint(_iso(t), used) for t, used in found]


def alerts(lab: PathLike | None = None, catalog_url: str | None = None, stale_days: float = 2.0,
           at: datetime | None = None) -> list[Alert]:
    """The monitor's warnings, failed latest drills and stale backups: critical ones first."""
    found = []
    for w in monitor(lab, catalog_url, at=at).warnings:
        severity, _, text = w.partition(": ")
        found.append(Alert("critical" if severity == "critical" else "warn", "monitor", "storage", text or w))
    for s in backup_status(lab, catalog_url, stale_days, at):
        if s.last_drill is not None and not s.last_drill.ok:
            found.append(Alert("critical", "drill", s.policy,
                               f"the latest drill of {s.policy} ({s.last_drill.at}, snapshot {s.last_drill.snapshot}) "
                               f"found {len(s.last_drill.failures)} file(s) that did not match"))
        if s.stale:
            what = f"its newest snapshot is {s.age_days:.1f} days old" if s.age_days is not None else "it has no snapshot"
            found.append(Alert("warn", "backup", s.policy, f"backup policy {s.policy}: {what} "
                                                           f"(stale after {stale_days:g} days)"))
    return sorted(found, key=lambda a: (a.severity != "critical", a.source, a.subject))
