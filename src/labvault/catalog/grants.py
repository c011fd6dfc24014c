"""Access grants in the catalog (revision 0007, ``access_grants``): one row per principal and path.

``permission`` is ``read`` or ``write`` (write implies read). The rows are the record the
``access`` commands apply to the file system with POSIX ACLs, and that ``access check`` compares
the file system with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from labvault.catalog.access_schema import access_grants
from labvault.catalog.store import Catalog


@dataclass(frozen=True)
class Grant:
    principal_kind: str  # user | group
    principal: str
    permission: str  # read | write
    path: str
    target: str
    at: datetime
    by: str


def _row(r: sa.Row[tuple[object, ...]]) -> Grant:
    m = r._mapping
    return Grant(str(m["principal_kind"]), str(m["principal"]), str(m["permission"]), str(m["path"]),
                 str(m["target"]), m["at"], str(m["by"]))  # type: ignore[arg-type]


def set_grant(cat: Catalog, g: Grant | None, kind: str, principal: str, path: str) -> None:
    """Make the row of (``kind``, ``principal``, ``path``) be ``g`` (None: no row)."""
    c = access_grants.c

    def write(conn: sa.Connection) -> None:
        conn.execute(access_grants.delete().where(c.principal_kind == kind, c.principal == principal, c.path == path))
        if g is not None:
            conn.execute(access_grants.insert().values(principal_kind=g.principal_kind, principal=g.principal,
                                                       permission=g.permission, path=g.path, target=g.target,
                                                       at=g.at, by=g.by))

    cat.write(write)


def grants(cat: Catalog, paths: list[str] | None = None, principals: list[tuple[str, str]] | None = None) -> list[Grant]:
    """Recorded grants, by path then principal; only those on ``paths`` / of ``principals`` when given."""
    c = access_grants.c
    q = sa.select(access_grants).order_by(c.path, c.principal_kind, c.principal)
    if paths is not None:
        q = q.where(c.path.in_(paths))
    if principals is not None:
        q = q.where(sa.or_(sa.false(), *(sa.and_(c.principal_kind == k, c.principal == n) for k, n in principals)))
    with cat.read() as conn:
        return [_row(r) for r in conn.execute(q)]
