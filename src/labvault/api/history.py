"""What the lab recorded over time: storage usage per tier or mount, and backup drills::

    from labvault import api

    for at, used in api.usage_history(tier="hot", days=90).points:
        print(at, used)
    for d in api.backup_drills(limit=5):
        print(d.at, d.policy, d.ok)

Both read the catalog only (``monitor --record`` and ``backup drill`` write the rows) and are
bounded: at most ``tiers.history.MAX_POINTS`` points, at most ``limit`` drills.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from labvault.api.lab import lab_catalog
from labvault.catalog import backup_log
from labvault.catalog.store import now as _now
from labvault.errors import UsageError
from labvault.tiers import history as _history
from labvault.tiers import load as _load

PathLike = str | os.PathLike[str]

__all__ = ["DrillRecord", "UsageHistory", "backup_drills", "usage_history"]

MAX_DRILLS = 500


@dataclass(frozen=True)
class UsageHistory:
    """Bytes used by one tier (or mount) at each recorded time (ISO 8601, UTC), oldest first."""

    tier: str | None
    mount: str | None
    points: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class DrillRecord:
    """One recorded ``backup drill``: the snapshot rehearsed, files compared, and the failures."""

    at: str
    policy: str
    target: str
    snapshot: str
    ok: bool
    files: int
    bytes: int
    failures: tuple[str, ...]


def usage_history(tier: str | None = None, mount: str | None = None, days: float = 90.0,
                  lab: PathLike | None = None, catalog_url: str | None = None,
                  at: datetime | None = None) -> UsageHistory:
    """The recorded usage of ``tier`` or of ``mount`` (exactly one) over the last ``days``."""
    if (tier is None) == (mount is None):
        raise UsageError("name a tier or a mount, not both or neither", "pass tier=NAME or mount=PATH")
    if days <= 0:
        raise UsageError(f"days must be positive, got {days:g}", "pass a number of days such as 90")
    cat = lab_catalog(_load.load_lab(lab), catalog_url)
    since = (at or _now()) - timedelta(days=days)
    rows = _history.tier_history(cat, tier, since) if tier is not None else _history.mount_history(cat, str(mount), since)
    return UsageHistory(tier, mount, tuple((t.isoformat(timespec="seconds"), used) for t, used in rows))


def backup_drills(policy: str | None = None, limit: int = 20, lab: PathLike | None = None,
                  catalog_url: str | None = None) -> list[DrillRecord]:
    """The newest ``limit`` recorded drills (of ``policy``, or of every policy), newest first."""
    if not 1 <= limit <= MAX_DRILLS:
        raise UsageError(f"limit must be between 1 and {MAX_DRILLS}, got {limit}", "pass a smaller limit")
    cat = lab_catalog(_load.load_lab(lab), catalog_url)
    rows = backup_log.drills(cat, policy, limit)
    return [DrillRecord(r.at.isoformat(timespec="seconds"), r.policy, r.target, r.snapshot, bool(r.ok),
                        int(r.files), int(r.bytes), tuple((r.failures or "").splitlines())) for r in rows]
