"""The usage history (``lab_usage``): what ``monitor --record`` appends and the forecast reads.

A mount's rows have ``tier`` NULL and ``mount`` the mount point; a tier's rows have ``tier`` its
name and ``mount`` its folder or URL. ``total`` 0 means the capacity was unknown (a bucket without
``capacity``). Each series is one index range (``ix_lab_usage_mount_at`` / ``ix_lab_usage_tier_at``),
newest :data:`MAX_POINTS` at most. The reads are plain SQL on a ``SqlRows`` (``monitor`` reads
without SQLAlchemy; see ``labvault.catalog.plain``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from labvault.catalog.plain import SqlRows

if TYPE_CHECKING:
    from labvault.catalog.store import Catalog

MAX_POINTS = 10_000


@dataclass(frozen=True)
class UsageRow:
    """One measurement to append: a mount's (``tier`` None) or a tier's."""

    tier: str | None
    mount: str
    used: int
    total: int


def mount_history(rows: SqlRows, mount: str, since: datetime) -> list[tuple[datetime, int]]:
    return _series(rows, "mount = :key AND tier IS NULL", mount, since)


def tier_history(rows: SqlRows, tier: str, since: datetime) -> list[tuple[datetime, int]]:
    return _series(rows, "tier = :key", tier, since)


def _series(rows: SqlRows, where: str, key: str, since: datetime) -> list[tuple[datetime, int]]:
    params: dict[str, Any] = {"key": key, "since": rows.stamp(since), "n": MAX_POINTS}
    found = rows.all(f"SELECT at, used FROM lab_usage WHERE {where} AND at >= :since ORDER BY at DESC LIMIT :n",
                     params)
    return [(rows.time(at), int(used)) for at, used in reversed(found)]


def append_usage(cat: Catalog, at: datetime, rows: list[UsageRow]) -> int:
    """Append ``rows`` measured at ``at`` in one transaction; returns how many."""
    import sqlalchemy as sa  # here: a monitor that only reads never loads SQLAlchemy

    from labvault.catalog.lab_schema import lab_usage

    if not rows:
        return 0
    values = [{"at": at, "tier": r.tier, "mount": r.mount, "used": r.used, "total": r.total} for r in rows]

    def write(conn: sa.Connection) -> None:
        conn.execute(sa.insert(lab_usage), values)

    cat.write(write)
    return len(values)
