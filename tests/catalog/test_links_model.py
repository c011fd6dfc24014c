"""``load_entries(..., link_cap=K)`` and ``links.link_page`` against the plain way on random
catalogs (both backends): the full lists read one version at a time, each side cut to the ``K``
refs of the lowest version ids (in text order), the totals counted from the full lists; and the
pages of a side, joined, are the full list in version-id order."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault.catalog.links import SIDES, link_page
from labvault.catalog.queries import load_entries
from labvault.catalog.schema import edges, entities, versions
from labvault.catalog.store import Catalog
from labvault.catalog.types import BoundedEntry
from tests.catalog.test_load_entries_model import _fill, _plain, catalogs


def _by_id(conn: sa.Connection, vid: int, side: str) -> list[str]:
    """The refs of ``side`` in the other version's id order, read an edge at a time."""
    mine, theirs = (edges.c.dst_id, edges.c.src_id) if side == "inputs" else (edges.c.src_id, edges.c.dst_id)
    refs = []
    for other in sorted(conn.execute(sa.select(theirs).where(mine == vid)).scalars()):
        o = conn.execute(sa.select(versions.c.kind, versions.c.version, entities.c.name)
                         .join(entities, entities.c.id == versions.c.entity_id).where(versions.c.id == other)).one()
        refs.append(f"{o.kind}:{o.name}@{o.version}")
    return refs


def test_bounded_entries_and_side_pages_are_the_plain_reading(cat: Catalog) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(spec=catalogs, cap=st.integers(1, 4), limit=st.integers(1, 5))
    def check(spec: tuple[list[dict[str, Any]], list[tuple[int, int]], dict[str, set[str]]], cap: int,
              limit: int) -> None:
        with cat.engine.begin() as conn:
            ids = _fill(conn, *spec)
        with cat.read() as conn:
            fast = load_entries(conn, [*ids, max(ids) + 1000], link_cap=cap)
            assert [e.id for e in fast] == ids
            for got in fast:
                assert isinstance(got, BoundedEntry)
                plain = _plain(conn, got.id)
                for side in SIDES:
                    ordered = _by_id(conn, got.id, side)
                    assert sorted(ordered) == list(getattr(plain, side))
                    assert getattr(got, f"{side}_total") == len(ordered)
                    assert getattr(got, side) == tuple(sorted(ordered[:cap]))
                    paged: list[str] = []
                    after: int | None = None
                    while True:
                        refs, after = link_page(conn, got.id, side, limit, after)
                        assert len(refs) <= limit and (after is None or len(refs) == limit)
                        paged += refs
                        if after is None:
                            break
                    assert paged == ordered
                rest = {k: v for k, v in vars(got).items() if k not in ("inputs", "outputs", "inputs_total",
                                                                         "outputs_total")}
                assert rest == {k: v for k, v in vars(plain).items() if k not in ("inputs", "outputs")}

    check()
