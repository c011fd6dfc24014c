"""Keyset pages of versions: the query behind every list of the dashboard and its JSON API.

A page is the versions of one kind ordered newest first by ``(created_at, id)``; the next page
starts strictly after the last row's key, so reading page N costs the same as page 1 (an index range
read from the key, never an OFFSET). Filters: a name prefix, a tag (or alias), a search expression
(``labvault.catalog.filters``), only the latest version of each name, and the path roots a reader
may not see (``hidden``) unless one of ``allowed`` covers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from labvault.catalog.filters import parse
from labvault.catalog.queries import load_entries
from labvault.catalog.refs import kinds
from labvault.catalog.schema import aliases, entities, tags, versions
from labvault.catalog.search_plan import plan_condition
from labvault.catalog.store import Catalog
from labvault.catalog.types import Entry


@dataclass(frozen=True)
class PageKey:
    """Where a page ends: the last row's ``created_at`` and ``id``."""

    created: datetime
    id: int


@dataclass(frozen=True)
class VersionFilter:
    kind: str
    name: str | None = None
    name_prefix: str | None = None
    tag: str | None = None
    where: str | None = None
    latest: bool = False
    hidden: tuple[str, ...] = ()  # path roots not shown ...
    allowed: tuple[str, ...] = ()  # ... unless under one of these


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _under(root: str) -> sa.ColumnElement[bool]:
    root = root.rstrip("/") or "/"
    return sa.or_(versions.c.path == root, versions.c.path.like(_like_prefix(root.rstrip("/") + "/"), escape="\\"))


def _conditions(conn: sa.Connection, f: VersionFilter, vkind: str, limit: int) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = [versions.c.kind == vkind]
    if f.name is not None:
        conds.append(entities.c.name == f.name)
    if f.name_prefix:
        conds.append(entities.c.name.like(_like_prefix(f.name_prefix), escape="\\"))
    if f.tag:
        conds.append(sa.or_(
            versions.c.id.in_(sa.select(tags.c.version_id).where(tags.c.tag == f.tag)),
            versions.c.id.in_(sa.select(aliases.c.version_id).where(aliases.c.alias == f.tag)),
        ))
    if f.where:
        conds.append(plan_condition(conn, parse(f.where), vkind, limit))
    if f.latest and vkind != "run":
        other = sa.alias(versions, "newer")
        conds.append(~sa.exists().where(other.c.entity_id == versions.c.entity_id, other.c.seq > versions.c.seq))
    if f.hidden:
        hidden = sa.or_(*(_under(h) for h in f.hidden))
        visible = sa.or_(versions.c.path.is_(None), ~hidden, *(_under(a) for a in f.allowed))
        conds.append(visible)
    return conds


def page(cat: Catalog, f: VersionFilter, limit: int, after: PageKey | None = None) -> tuple[list[Entry], PageKey | None]:
    """Up to ``limit`` versions after ``after``, and the key of the next page (None: this is the last)."""
    vkind = kinds(f.kind)[1]
    with cat.read() as conn:
        if f.where and conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL jit = off")  # as queries.search: planning costs more than running
        conds = _conditions(conn, f, vkind, limit)
        if after is not None:
            conds.append(sa.or_(versions.c.created_at < after.created,
                                sa.and_(versions.c.created_at == after.created, versions.c.id < after.id)))
        query = (sa.select(versions.c.id, versions.c.created_at)
                 .join(entities, entities.c.id == versions.c.entity_id)
                 .where(*conds)
                 .order_by(versions.c.created_at.desc(), versions.c.id.desc())
                 .limit(limit + 1))
        rows = [(int(i), c) for i, c in conn.execute(query)]
        entries = load_entries(conn, [i for i, _ in rows[:limit]])
    nxt = PageKey(rows[limit - 1][1], rows[limit - 1][0]) if len(rows) > limit else None
    return entries, nxt
