"""Keyset pages of versions: the query behind every list of the dashboard and its JSON API.

A page is the versions of one kind ordered newest first by ``(created_at, id)``, a total order; the
next page starts strictly after the last row's key, so a page never repeats a version, and a version
registered between two fetches (created now, so before every key) never shows up twice. Filters: an
exact name, a name prefix, a tag (or alias), a search expression (``labvault.catalog.filters``),
only the latest version of each name, and the path roots a reader may not see (``hidden``) unless
one of ``allowed`` covers them.

How a page is found, a bounded amount of work whatever the catalog's size (docs/design.md, "Pages
of the catalog", has the plans and the worst case):

* an exact name: that name's versions in page order, an index range from the key on
  (``ix_versions_entity_created``), every other condition checked per version;
* "the latest of each name" is the mark ``versions.is_head`` (kept by triggers, ``catalog.heads``):
  a column checked per version, and with nothing else to lead, the walk below runs along the
  partial index of the marked versions only (``ix_versions_heads``);
* else every condition that names a set of versions of its own (a ``metrics.KEY``, ``params.KEY``,
  tag or alias condition of a top-level ``and``; the name prefix, or with "the latest" the newest
  version of each name under the prefix) is read first, up to ``DRIVE_CAP`` version ids. The smallest set under the cap leads:
  its ids are looked up by primary key and sorted (at most ``DRIVE_CAP`` rows); every other
  condition is checked per version;
* which set is the smallest is counted in the database (up to the cap), and the counts are
  remembered for ``SIZE_TTL`` seconds per catalog and set (``_SIZES``), so the next pages of a
  list do not count again. A remembered count only chooses which set leads, never which versions
  match: any count, however stale, gives the same page (the lead set's ids are read afresh, and a
  set that grew past the cap since makes the page walk instead), at worst with a slower plan
  (``tests/catalog/test_browse_sizes.py`` plants wrong counts and compares pages);
* when no set is under the cap, the versions of the kind (the marked ones only, for the latest)
  are walked newest first from the key on along ``(kind, created_at, id)``, every condition checked
  per version, until the page is full.
  Each condition then holds for at least ``DRIVE_CAP`` versions, so a page is usually found after
  a few thousand versions; the worst case is matches bunched at the old end of the list.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from labvault.catalog.filters import (
    BoolOp,
    Compare,
    Node,
    Not,
    compile_node,
    conjuncts,
    id_parts,
    parse,
    probe,
)
from labvault.catalog.heads import HEAD_ONE
from labvault.catalog.links import LINK_CAP
from labvault.catalog.queries import load_entries
from labvault.catalog.refs import kinds
from labvault.catalog.schema import entities, versions
from labvault.catalog.store import Catalog
from labvault.catalog.types import Entry

DRIVE_CAP = 5_000
SIZE_TTL = 30.0  # seconds a set's count is trusted to choose the lead (it cannot change a page)
_SIZES_KEPT = 512
_SIZES: OrderedDict[tuple[Hashable, ...], tuple[float, int]] = OrderedDict()
_sizes_lock = threading.Lock()


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


def _prefix_upper(prefix: str) -> str | None:
    """The smallest string above every string starting with ``prefix`` (code point order)."""
    chars = list(prefix)
    while chars:
        point = ord(chars[-1]) + 1
        if point <= 0x10FFFF:
            chars[-1] = chr(0xE000 if 0xD800 <= point <= 0xDFFF else point)
            return "".join(chars)
        chars.pop()
    return None


def prefix_condition(conn: sa.Connection, prefix: str) -> Any:
    """``entities.name`` starts with ``prefix``, as an index range in byte order (code point order
    for UTF-8): SQLite compares bytes; on PostgreSQL the pattern operators ``~>=~`` and ``~<~``
    do, whatever the database's collation, and read ``ix_entities_kind_name_pattern``."""
    name = entities.c.name
    upper = _prefix_upper(prefix)
    if conn.dialect.name == "postgresql":
        low = name.op("~>=~", is_comparison=True)(prefix)
        return sa.and_(low, name.op("~<~", is_comparison=True)(upper)) if upper is not None else low
    return sa.and_(name >= prefix, name < upper) if upper is not None else name >= prefix


@dataclass(frozen=True)
class _Set:
    """A condition that names a set of versions: read (up to the cap) first, or checked per version."""

    members: sa.Select[Any]  # the ids of the versions it names
    check: Any  # the same condition checked for one version
    bound: sa.Select[Any] | None = None  # rows at least as many as the members, cheaper to count
    key: tuple[Hashable, ...] = ()  # what the set is, for remembering its count (empty: not remembered)


# The newest version of its name (``catalog.heads``); the literal lets SQLite use the partial index.
IS_HEAD = versions.c.is_head == sa.literal_column(HEAD_ONE)


def _latest_set(conn: sa.Connection, ekind: str, prefix: str) -> _Set:
    """The newest version of each name under ``prefix``: one lookup per name (the highest
    ``seq``, ``uq_versions_entity_seq``), so its bound is the names under the prefix."""
    newest = sa.alias(versions, "newest")
    latest_id = (sa.select(newest.c.id).where(newest.c.entity_id == entities.c.id)
                 .order_by(newest.c.seq.desc()).limit(1).scalar_subquery())
    named = [entities.c.kind == ekind, prefix_condition(conn, prefix)]
    # its check is IS_HEAD, which every latest page has among its plain conditions already
    return _Set(sa.select(latest_id).where(*named), sa.true(), sa.select(entities.c.id).where(*named),
                ("latest", ekind, prefix))


def _prefix_set(conn: sa.Connection, ekind: str, vkind: str, prefix: str) -> _Set:
    members = (sa.select(versions.c.id).join(entities, entities.c.id == versions.c.entity_id)
               .where(versions.c.kind == vkind, entities.c.kind == ekind, prefix_condition(conn, prefix)))
    return _Set(members, prefix_condition(conn, prefix), key=("prefix", ekind, vkind, prefix))


def _tree(f: VersionFilter) -> Node | None:
    nodes = [parse(f.where)] if f.where else []
    if f.tag:
        nodes.append(Compare("tag", "=", f.tag, "text", 0))
    tree: Node | None = None
    for node in nodes:
        tree = node if tree is None else BoolOp("and", tree, node)
    return tree


def conditions(conn: sa.Connection, f: VersionFilter, vkind: str, cap: int = DRIVE_CAP) -> list[Any]:
    """The page's conditions, shaped so that the database starts where the module docstring says."""
    ekind = "experiment" if vkind == "run" else vkind
    latest = f.latest and vkind != "run"
    plain: list[Any] = [versions.c.kind == vkind]
    sets: list[_Set] = []
    if f.name is not None:  # one name: its versions in page order lead, whatever else is asked
        plain.append(versions.c.entity_id == sa.select(entities.c.id).where(
            entities.c.kind == ekind, entities.c.name == f.name).scalar_subquery())
    if latest:
        plain.append(IS_HEAD)
        if f.name_prefix:
            sets.append(_latest_set(conn, ekind, f.name_prefix))
    elif f.name_prefix:
        sets.append(_prefix_set(conn, ekind, vkind, f.name_prefix))
    if latest and f.name_prefix:
        plain.append(prefix_condition(conn, f.name_prefix))  # also when the latest set does not lead
    fence = conn.dialect.name == "postgresql"
    tree = _tree(f)
    for node in conjuncts(tree) if tree is not None else []:
        parts = id_parts(node, vkind)
        if parts is None:
            plain.append(compile_node(node, vkind))
        else:
            union = sa.union_all(*(sa.select(t.c.version_id).where(c) for t, c in parts)).subquery()
            sets.append(_Set(sa.select(union), probe(parts, fence), key=("node", vkind, node)))
    if f.hidden:
        hidden = sa.or_(*(_under(h) for h in f.hidden))
        plain.append(sa.or_(versions.c.path.is_(None), ~hidden, *(_under(a) for a in f.allowed)))
    sizes = [(n, i) for i, s in enumerate(sets if f.name is None else []) if (n := _size(conn, s, cap)) < cap]
    if not sizes:
        return plain + [s.check for s in sets]
    lead = min(sizes)[1]
    rows = list(conn.execute(sets[lead].members.limit(cap)).scalars())
    if len(rows) >= cap:  # it grew past the cap since it was counted (PostgreSQL reads each statement afresh)
        return plain + [s.check for s in sets]
    ids = sorted({int(v) for v in rows if v is not None})
    # The lead set's ids as a list: both databases then look each one up by primary key (a
    # subquery here let PostgreSQL hash every version of the kind instead). PostgreSQL gets them
    # as one array parameter, ``id = ANY(:lead)``: binding thousands of parameters one by one
    # cost more than the lookups.
    listed = (versions.c.id == sa.any_(sa.bindparam("lead", ids, type_=postgresql.ARRAY(sa.BigInteger)))
              if conn.dialect.name == "postgresql" else versions.c.id.in_(ids))
    return plain + [listed if i == lead else s.check for i, s in enumerate(sets)]


def _size(conn: sa.Connection, s: _Set, cap: int) -> int:
    """The set's members (ids that are not null) counted up to ``cap`` in the database, not read
    out; or, when it has one, its ``bound`` counted instead (an estimate from above: a set whose
    bound reaches the cap is not read first even if fewer of its rows are members). Remembered
    for ``SIZE_TTL`` seconds (see the module docstring: a count only picks the plan)."""
    if not s.key:
        return _count(conn, s, cap)
    key = (conn.engine.url.render_as_string(hide_password=False), cap, *s.key)
    now = time.monotonic()
    with _sizes_lock:
        hit = _SIZES.get(key)
    if hit is not None and now - hit[0] < SIZE_TTL:
        return hit[1]
    n = _count(conn, s, cap)
    with _sizes_lock:
        _SIZES[key] = (now, n)
        _SIZES.move_to_end(key)
        while len(_SIZES) > _SIZES_KEPT:
            _SIZES.popitem(last=False)
    return n


def forget_sizes() -> None:
    """Drop every remembered count (the next pages count again)."""
    with _sizes_lock:
        _SIZES.clear()


def _count(conn: sa.Connection, s: _Set, cap: int) -> int:
    if s.bound is not None:
        bound = s.bound.limit(cap).subquery()
        return int(conn.execute(sa.select(sa.func.count()).select_from(bound)).scalar_one())
    members = s.members.limit(cap).subquery()
    return int(conn.execute(sa.select(sa.func.count(members.c[0]))).scalar_one())


def _names_entity(f: VersionFilter) -> bool:
    """Whether a condition of ``f`` reads ``entities.name`` of the version's own entity (a name
    prefix, or ``name`` in the search expression); an exact ``name`` is a subquery of its own."""
    def mentions(node: Node) -> bool:
        if isinstance(node, BoolOp):
            return mentions(node.left) or mentions(node.right)
        if isinstance(node, Not):
            return mentions(node.operand)
        return node.field == "name"

    tree = _tree(f)
    return bool(f.name_prefix) or (tree is not None and mentions(tree))


def page_rows(conn: sa.Connection, f: VersionFilter, limit: int, after: PageKey | None = None,
              cap: int = DRIVE_CAP) -> list[tuple[int, datetime]]:
    """``(id, created_at)`` of up to ``limit + 1`` versions after ``after``, in page order."""
    vkind = kinds(f.kind)[1]
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")  # as queries.search: compiling costs more than running
    conds = conditions(conn, f, vkind, cap)
    if after is not None:
        conds.append(sa.tuple_(versions.c.created_at, versions.c.id) < sa.tuple_(after.created, after.id))
    query = sa.select(versions.c.id, versions.c.created_at).where(*conds)
    if _names_entity(f):  # a condition on the name: join the version's entity
        query = query.select_from(versions.join(entities, entities.c.id == versions.c.entity_id))
    query = query.order_by(versions.c.created_at.desc(), versions.c.id.desc()).limit(limit + 1)
    return [(int(i), c) for i, c in conn.execute(query)]


def page(cat: Catalog, f: VersionFilter, limit: int, after: PageKey | None = None,
         link_cap: int | None = LINK_CAP) -> tuple[list[Entry], PageKey | None]:
    """Up to ``limit`` versions after ``after``, and the key of the next page (None: this is the
    last); each entry's lineage refs bounded by ``link_cap`` (``catalog.links``; None: whole)."""
    with cat.read() as conn:
        rows = page_rows(conn, f, limit, after)
        entries = load_entries(conn, [i for i, _ in rows[:limit]], link_cap)
    nxt = PageKey(rows[limit - 1][1], rows[limit - 1][0]) if len(rows) > limit else None
    return entries, nxt
