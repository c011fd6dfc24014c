"""The usage history (``lab_usage``): what ``monitor --record`` appends and the forecast reads.

A mount's rows have ``tier`` NULL and ``mount`` the mount point; a tier's rows have ``tier`` its
name and ``mount`` its folder or URL. ``total`` 0 means the capacity was unknown (a bucket without
``capacity``). Each series is one index range (``ix_lab_usage_mount_at`` / ``ix_lab_usage_tier_at``),
newest :data:`MAX_POINTS` at most.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from labvault.catalog.lab_schema import lab_usage
from labvault.catalog.store import Catalog

MAX_POINTS = 10_000


@dataclass(frozen=True)
class UsageRow:
    """One measurement to append: a mount's (``tier`` None) or a tier's."""

    tier: str | None
    mount: str
    used: int
    total: int


def mount_history(cat: Catalog, mount: str, since: datetime) -> list[tuple[datetime, int]]:
    u = lab_usage
    return _series(cat, sa.and_(u.c.mount == mount, u.c.tier.is_(None), u.c.at >= since))


def tier_history(cat: Catalog, tier: str, since: datetime) -> list[tuple[datetime, int]]:
    u = lab_usage
    return _series(cat, sa.and_(u.c.tier == tier, u.c.at >= since))


def _series(cat: Catalog, where: sa.ColumnElement[bool]) -> list[tuple[datetime, int]]:
    q = sa.select(lab_usage.c.at, lab_usage.c.used).where(where).order_by(lab_usage.c.at.desc()).limit(MAX_POINTS)
    with cat.read() as conn:
        return [(r.at, int(r.used)) for r in conn.execute(q)][::-1]


def append_usage(cat: Catalog, at: datetime, rows: list[UsageRow]) -> int:
    """Append ``rows`` measured at ``at`` in one transaction; returns how many."""
    if not rows:
        return 0
    values = [{"at": at, "tier": r.tier, "mount": r.mount, "used": r.used, "total": r.total} for r in rows]

    def write(conn: sa.Connection) -> None:
        conn.execute(sa.insert(lab_usage), values)

    cat.write(write)
    return len(values)
