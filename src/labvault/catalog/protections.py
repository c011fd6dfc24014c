"""Protected paths in the catalog (revision 0007, ``protections``): record, forget, list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from labvault.catalog.access_schema import protections
from labvault.catalog.store import Catalog


@dataclass(frozen=True)
class Protection:
    path: str
    kind: str  # repo | lab
    target: str
    content_hash: str | None
    immutable: bool
    at: datetime
    by: str


def record_protection(cat: Catalog, p: Protection) -> None:
    """Insert or replace the row of ``p.path``."""

    def write(conn: sa.Connection) -> None:
        conn.execute(protections.delete().where(protections.c.path == p.path))
        conn.execute(protections.insert().values(path=p.path, kind=p.kind, target=p.target,
                                                 content_hash=p.content_hash, immutable=p.immutable,
                                                 at=p.at, by=p.by))

    cat.write(write)


def forget_protection(cat: Catalog, path: str) -> bool:
    def write(conn: sa.Connection) -> bool:
        return bool(conn.execute(protections.delete().where(protections.c.path == path)).rowcount)

    return cat.write(write)


def protection_list(cat: Catalog, paths: list[str] | None = None) -> list[Protection]:
    q = sa.select(protections).order_by(protections.c.path)
    if paths is not None:
        q = q.where(protections.c.path.in_(paths))
    with cat.read() as conn:
        return [Protection(r.path, r.kind, r.target, r.content_hash, bool(r.immutable), r.at, r.by)
                for r in conn.execute(q)]
