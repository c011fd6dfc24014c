"""What needs a person's attention in the lab, in one list::

    from labvault import api

    for a in api.alerts():
        print(a.level, a.source, a.message)

The monitor's warnings (a mount or tier past its thresholds, or filling up), backup policies
whose newest snapshot is older than ``stale_hours`` (or that have none), and policies whose newest
recorded drill failed or that were never drilled. ``level`` is ``critical`` or ``warn``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from labvault.api.backup import backup_list
from labvault.api.history import backup_drills
from labvault.api.monitor import monitor
from labvault.catalog.store import now as _now
from labvault.errors import LabvaultError, UsageError
from labvault.tiers import load as _load

PathLike = str | os.PathLike[str]

__all__ = ["Alert", "alerts"]


@dataclass(frozen=True)
class Alert:
    level: str  # critical | warn
    source: str  # storage | backup | drill
    subject: str  # the mount, tier or backup policy
    message: str


def _parse(ts: str) -> datetime | None:
    try:
        t = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo is None else t.astimezone(timezone.utc).replace(tzinfo=None)


def alerts(lab: PathLike | None = None, catalog_url: str | None = None, stale_hours: float = 48.0,
           at: datetime | None = None) -> list[Alert]:
    """Every alert, critical first (see the module docstring); ``at`` (naive UTC) stands for now."""
    if stale_hours <= 0:
        raise UsageError(f"stale_hours must be positive, got {stale_hours:g}", "pass a number of hours such as 48")
    config = _load.load_lab(lab)
    now = at or _now()
    out: list[Alert] = []
    report = monitor(lab, catalog_url, at=now)
    level = "critical" if report.status == "critical" else "warn"
    out += [Alert(level, "storage", w.split(":", 1)[0], w) for w in report.warnings]
    for policy in config.backups:
        try:
            snaps = backup_list(policy.name, lab)
        except LabvaultError as e:
            out.append(Alert("critical", "backup", policy.name, f"cannot list snapshots: {str(e).splitlines()[0]}"))
            continue
        newest = _parse(snaps[-1].time) if snaps else None
        if newest is None:
            out.append(Alert("critical", "backup", policy.name, "no snapshot yet: run `labvault backup run`"))
        elif now - newest > timedelta(hours=stale_hours):
            age = (now - newest).total_seconds() / 3600
            out.append(Alert("warn", "backup", policy.name, f"newest snapshot is {age:.0f} hours old"))
        drills = backup_drills(policy.name, 1, lab, catalog_url)
        if not drills:
            out.append(Alert("warn", "drill", policy.name, "never drilled: run `labvault backup drill`"))
        elif not drills[0].ok:
            out.append(Alert("critical", "drill", policy.name,
                             f"the drill of {drills[0].at} failed ({len(drills[0].failures)} files differ)"))
    return sorted(out, key=lambda a: a.level != "critical")
