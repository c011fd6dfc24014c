"""The graph's output index answers "which output overlaps this path" as a scan of every output would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from labvault.pipelines.dag import _PathIndex, paths_overlap

parts = st.sampled_from(["a", "b", "ab", "a.b", "c-d"])
paths = st.lists(parts, min_size=1, max_size=4).map("/".join)


@given(st.lists(paths, max_size=12), st.lists(paths, min_size=1, max_size=12))
def test_index_finds_an_overlapping_path_exactly_when_one_exists(held: list[str], queries: list[str]) -> None:
    index = _PathIndex()
    kept: list[str] = []
    for p in held:  # outputs never overlap each other (the graph refuses that first)
        if not any(paths_overlap(p, k) for k in kept):
            index.add(p, p)
            kept.append(p)
    for q in queries:
        found = index.overlapping(q)
        expected = [k for k in kept if paths_overlap(q, k)]
        if not expected:
            assert found is None
        else:
            assert found is not None and paths_overlap(q, found)
            # the first in insertion order, as the linear scan returned
            assert found == expected[0]


@given(st.lists(paths, max_size=12), st.lists(paths, min_size=1, max_size=12))
def test_index_finds_every_overlapping_path(held: list[str], queries: list[str]) -> None:
    """A dependency on a folder needs every output inside it, not just one."""
    index = _PathIndex()
    kept: list[str] = []
    for p in held:
        if not any(paths_overlap(p, k) for k in kept):
            index.add(p, p)
            kept.append(p)
    for q in queries:
        found = index.all_overlapping(q)
        assert len(found) == len(set(found))
        assert set(found) == {k for k in kept if paths_overlap(q, k)}
