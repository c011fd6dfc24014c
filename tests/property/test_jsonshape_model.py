"""The fast JSON shaping (``to_json``: field names cached per type, no deep copy) against the plain
way (``dataclasses.asdict`` first), over random nests of dataclasses, containers and scalars (no
defaultdict inside a dataclass: asdict itself fails on one before Python 3.12)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from hypothesis import given
from hypothesis import strategies as st

from labvault.api.jsonshape import to_json, to_json_reference
from labvault.catalog.types import Entry, Location


@dataclass(frozen=True)
class Pair:
    left: Any
    right: Any = None


@dataclass
class Holder:
    items: list[Any] = field(default_factory=list)
    named: dict[str, Any] = field(default_factory=dict)


class Point(NamedTuple):
    x: Any
    y: Any


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
                    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
keys = st.text(max_size=6)
locations = st.builds(Location, st.text(max_size=6), st.text(max_size=12), st.none() | st.text(max_size=4))
entries = st.builds(
    Entry, kind=st.sampled_from(["dataset", "model", "run"]), name=st.text(max_size=8), version=st.text(max_size=4),
    id=st.integers(1, 10**9), created=st.text(max_size=20), size=st.none() | st.integers(0, 10**12),
    card=st.dictionaries(keys, scalars, max_size=3), metrics=st.dictionaries(keys, st.floats(allow_nan=False), max_size=3),
    params=st.dictionaries(keys, scalars | st.lists(scalars, max_size=3), max_size=3),
    tags=st.lists(st.text(max_size=5), max_size=3).map(tuple), locations=st.lists(locations, max_size=3).map(tuple),
    splits=st.dictionaries(keys, st.dictionaries(keys, scalars, max_size=3), max_size=2),
)


def _nest(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(inner, max_size=4), st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(keys, inner, max_size=4), st.dictionaries(keys, inner, max_size=3).map(OrderedDict),
        st.builds(Pair, inner, inner), st.builds(Holder, st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
        st.builds(Point, inner, inner),
    )


values = st.recursive(st.one_of(scalars, locations, entries), _nest, max_leaves=12)


@given(values)
def test_to_json_is_the_asdict_shape(value: Any) -> None:
    fast, plain = to_json(value), to_json_reference(value)
    assert fast == plain
    assert type(fast) is type(plain)


@given(st.lists(entries, min_size=1, max_size=5))
def test_a_page_of_entries_shapes_alike(page: list[Entry]) -> None:
    shaped = to_json(page)
    assert shaped == to_json_reference(page)
    assert [e["name"] for e in shaped] == [e.name for e in page]
    assert all(isinstance(e["tags"], list) and isinstance(e["locations"], list) for e in shaped)
