"""A version's lineage refs, bounded: the first few of each side with the totals, and keyset pages.

A version's ``inputs`` (the versions it was made from) and ``outputs`` (the versions made from it)
have no bound: a dataset read by every run of a lab has as many outputs as there were runs. The
dashboard's lists and its JSON API therefore carry at most ``LINK_CAP`` refs of each side per
entry, with the number of refs in all (``load_entries(..., link_cap=LINK_CAP)``), and page the
rest (``link_page``).

Order: a side's refs are paged by the other version's id (``edges.src_id`` for inputs, along
``ix_edges_dst_src``; ``edges.dst_id`` for outputs, along the primary key), an index range from
the cursor on. The capped list (``side_rows``, read by ``queries.load_entries`` in its
``UNION ALL``) is the first ``LINK_CAP`` refs in that order, then sorted by their text as the
full lists of ``labvault catalog show`` are, so that a version with at most ``LINK_CAP`` refs on
a side shows exactly the full list. Every step is an index range of at most
``LINK_CAP`` (or ``limit + 1``) rows per version, except the totals: ``count(*)`` in the
database over the version's index range (index-only, no row reaches Python).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from labvault.catalog.refs import kinds, resolve
from labvault.catalog.schema import edges, entities, versions
from labvault.catalog.store import Catalog

LINK_CAP = 10  # refs of each side an entry carries in the dashboard's lists and JSON API
SIDES = ("inputs", "outputs")
_NO_BOUND = 2**62  # above every version id

_other = sa.alias(versions, "linked")
_other_entity = sa.alias(entities, "linked_entity")


def _columns(side: str, table: Any = edges) -> tuple[Any, Any]:
    """(this version's column, the other version's column) of ``table`` (``edges`` or an alias) for ``side``."""
    if side == "inputs":
        return table.c.dst_id, table.c.src_id
    if side == "outputs":
        return table.c.src_id, table.c.dst_id
    raise ValueError(f"unknown lineage side {side!r}")


def ref_text(kind: str, name: str, version: str) -> str:
    """A ref as an entry's ``inputs`` and ``outputs`` hold it: ``KIND:NAME@VERSION``."""
    return f"{kind}:{name}@{version}"


def _refs(mine: Any, theirs: Any, edge_rows: Any = edges) -> sa.Select[Any]:
    """``(vid, other, kind, name, version)`` of the edges ``edge_rows`` (``edges`` or a join ending in it)."""
    return (sa.select(mine.label("vid"), theirs.label("other"), _other.c.kind, _other_entity.c.name,
                      _other.c.version)
            .select_from(edge_rows.join(_other, _other.c.id == theirs)
                         .join(_other_entity, _other_entity.c.id == _other.c.entity_id)))


def side_rows(side: str, cap: int, dialect: str) -> sa.Subquery:
    """Rows ``(vid, total, kind, name, version)``: for each version in ``:ids``, its first
    ``cap`` refs of ``side``, each row carrying the side's total (``count(*)``; one row of nulls
    for a version with no ref). PostgreSQL reads the refs with a ``LATERAL`` subquery (an index
    range under ``LIMIT cap``); SQLite, which has no ``LATERAL``, finds the ``cap``-th other id
    first (an index range, ``LIMIT 1 OFFSET cap-1``; none when there are fewer), then joins the
    range up to it. Either way a version's bound and total are computed once (``OFFSET 0`` keeps
    PostgreSQL from folding that subquery into the join)."""
    if cap < 1:
        raise ValueError(f"a link cap must be at least 1, not {cap}")
    mine, theirs = _columns(side)
    all_rows = sa.alias(edges, "counted")
    total = sa.select(sa.func.count()).select_from(all_rows).where(_columns(side, all_rows)[0] == versions.c.id)
    columns = [versions.c.id.label("vid"), total.scalar_subquery().label("total")]
    if dialect != "postgresql":
        nth_rows = sa.alias(edges, "nth")
        nth_mine, nth_theirs = _columns(side, nth_rows)
        nth = (sa.select(nth_theirs).where(nth_mine == versions.c.id)
               .order_by(nth_theirs).limit(1).offset(cap - 1).scalar_subquery())
        columns.append(sa.func.coalesce(nth, _NO_BOUND).label("bound"))
    bounds = (sa.select(*columns).where(versions.c.id.in_(sa.bindparam("ids", expanding=True)))
              .offset(0).subquery("bounds"))
    if dialect == "postgresql":
        firsts = (sa.select(theirs.label("other")).where(mine == bounds.c.vid).order_by(theirs).limit(cap)
                  .lateral("firsts"))
        upto, other_id = bounds.outerjoin(firsts, sa.true()), firsts.c.other
    else:
        upto, other_id = bounds.outerjoin(edges, sa.and_(mine == bounds.c.vid, theirs <= bounds.c.bound)), theirs
    upto = (upto.outerjoin(_other, _other.c.id == other_id)
            .outerjoin(_other_entity, _other_entity.c.id == _other.c.entity_id))
    return (sa.select(bounds.c.vid, bounds.c.total, _other.c.kind, _other_entity.c.name, _other.c.version)
            .select_from(upto).subquery(f"first_{side}"))


def link_page(conn: sa.Connection, version_id: int, side: str, limit: int, after: int | None = None
              ) -> tuple[list[str], int | None]:
    """Up to ``limit`` refs of ``side`` of one version after the other id ``after``, in id order,
    and the id the next page starts after (None: this is the last)."""
    mine, theirs = _columns(side)
    query = _refs(mine, theirs).where(mine == version_id)
    if after is not None:
        query = query.where(theirs > after)
    rows = conn.execute(query.order_by(theirs).limit(limit + 1)).all()
    page = [ref_text(kind, name, version) for _vid, _o, kind, name, version in rows[:limit]]
    return page, int(rows[limit - 1].other) if len(rows) > limit else None


def side_page(cat: Catalog, kind: str, ref: str, side: str, limit: int, after: int | None = None
              ) -> tuple[list[str], int | None]:
    """``link_page`` of the version ``ref`` names (``NAME``, ``NAME@VERSION``, ``NAME@ALIAS``)."""
    with cat.read() as conn:
        return link_page(conn, resolve(conn, kinds(kind)[1], ref), side, limit, after)
