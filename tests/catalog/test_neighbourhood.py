"""The lineage neighbourhood (catalog/neighbourhood.py): without the node cap it is the graph
``lineage(direction="both")`` finds; with it, at most the cap, said to be cut, nearest levels first."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault import api
from labvault.api.browse import lineage_neighbourhood
from labvault.catalog import NewVersion
from labvault.catalog.lineage import lineage
from labvault.catalog.neighbourhood import neighbourhood
from labvault.catalog.schema import edges, entities, versions
from labvault.catalog.store import Catalog
from labvault.errors import CatalogError

N = 12
dags = st.sets(st.tuples(st.integers(0, N - 1), st.integers(0, N - 1)).filter(lambda e: e[0] < e[1]), max_size=30)


def _fill(cat: Catalog, pairs: set[tuple[int, int]]) -> list[int]:
    with cat.engine.begin() as conn:
        conn.execute(sa.delete(versions))
        conn.execute(sa.delete(entities))
    api.register_many([NewVersion("dataset", f"d{i}") for i in range(N)], catalog_url=cat.url)
    with cat.engine.begin() as conn:
        ids = [int(i) for i in conn.execute(sa.select(versions.c.id).order_by(versions.c.id)).scalars()]
        if pairs:
            conn.execute(sa.insert(edges), [{"src_id": ids[a], "dst_id": ids[b], "relation": "input"}
                                            for a, b in sorted(pairs)])
    return ids


def test_uncapped_neighbourhood_is_the_lineage(cat: Catalog) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(pairs=dags, start=st.integers(0, N - 1), depth=st.integers(1, 4))
    def check(pairs: set[tuple[int, int]], start: int, depth: int) -> None:
        _fill(cat, pairs)
        ref = f"d{start}"
        for direction in ("up", "down", "both"):
            got = neighbourhood(cat, "dataset", ref, direction=direction, depth=depth, max_nodes=N)
            want = lineage(cat, "dataset", ref, direction=direction, depth=depth)
            assert not got.truncated
            assert got.graph.root == want.root
            assert {(n.id, n.depth) for n in got.graph.nodes} == {(n.id, n.depth) for n in want.nodes}
            assert set(got.graph.edges) == set(want.edges)

    check()


def test_node_cap_keeps_the_nearest_and_says_so(cat: Catalog) -> None:
    # d0 -> d1..d10 (level 1), d1 -> d11 (level 2)
    _fill(cat, {(0, i) for i in range(1, 11)} | {(1, 11)})
    full = neighbourhood(cat, "dataset", "d0", depth=3, max_nodes=N)
    assert len(full.graph.nodes) == N and not full.truncated
    cut = neighbourhood(cat, "dataset", "d0", depth=3, max_nodes=5)
    assert len(cut.graph.nodes) == 5 and cut.truncated
    assert {n.depth for n in cut.graph.nodes} == {0, 1}
    kept = {n.id for n in cut.graph.nodes}
    assert all(e.src in kept and e.dst in kept for e in cut.graph.edges) and len(cut.graph.edges) == 4
    shallow = lineage_neighbourhood("dataset", "d1", depth=1, catalog_url=cat.url)
    assert sorted(n.name for n in shallow.graph.nodes) == ["d0", "d1", "d11"] and not shallow.truncated
    with pytest.raises(CatalogError, match="depth 0 is out of range"):
        neighbourhood(cat, "dataset", "d0", depth=0)
    with pytest.raises(CatalogError, match="node cap 0 is out of range"):
        neighbourhood(cat, "dataset", "d0", max_nodes=0)
