"""Backup drills in the catalog (revision 0006): one ``backup_drills`` row per ``backup drill``.

A row says which policy and snapshot were rehearsed, when, how many files were restored and
compared, and whether every byte matched (with the failures as text), so that a lab can show when
its backups were last proven restorable.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol

import sqlalchemy as sa

from labvault.catalog.backup_schema import backup_drills
from labvault.catalog.store import Catalog


class DrillOutcome(Protocol):
    @property
    def target(self) -> str: ...
    @property
    def snapshot(self) -> str: ...
    @property
    def ok(self) -> bool: ...
    @property
    def sampled(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def failed(self) -> tuple[str, ...]: ...


def record_drill(cat: Catalog, policy: str, r: DrillOutcome) -> None:
    row = {"at": datetime.now(timezone.utc).replace(tzinfo=None), "policy": policy, "target": r.target,
           "snapshot": r.snapshot, "ok": r.ok, "files": r.sampled, "bytes": r.bytes,
           "failures": "\n".join(r.failed) or None}

    def write(conn: sa.Connection) -> None:
        conn.execute(backup_drills.insert().values(**row))

    cat.write(write)


def drills(cat: Catalog, policy: str | None = None) -> list[sa.Row[tuple[object, ...]]]:
    """The recorded drills, newest first."""
    q = sa.select(backup_drills).order_by(backup_drills.c.at.desc(), backup_drills.c.id.desc())
    if policy is not None:
        q = q.where(backup_drills.c.policy == policy)
    with cat.read() as conn:
        return list(conn.execute(q).all())
