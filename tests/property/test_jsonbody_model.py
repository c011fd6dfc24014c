"""The JSON API's bodies (``web.jsonbody.json_bytes``: orjson straight from the objects) against the
plain way (``to_json``, then ``json.dumps``), decoded, over the random nests of
test_jsonshape_model.py: the same values in the same order. Floats that are not finite are
``null`` in both, as the API documents (``json.dumps`` would write tokens that are not JSON)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from test_jsonshape_model import Point, entries, values

from labvault.api.jsonshape import to_json
from labvault.catalog.types import Entry
from labvault.web.jsonbody import json_bytes


def _decoded(body: bytes | str) -> Any:
    return json.loads(body, parse_constant=lambda _token: None)


def _plain(value: Any) -> Any:
    return _decoded(json.dumps(to_json(value), ensure_ascii=False, separators=(",", ":")))


@given(values)
def test_a_body_decodes_to_the_to_json_shape(value: Any) -> None:
    decoded, plain = _decoded(json_bytes(value)), _plain(value)
    assert decoded == plain
    if isinstance(plain, dict):  # objects keep their key order
        assert list(decoded) == list(plain)


@given(st.lists(entries, min_size=1, max_size=5), st.none() | st.text(max_size=10))
def test_a_page_body_keeps_the_field_order(page: list[Entry], nxt: str | None) -> None:
    doc = {"items": page, "next": nxt}
    decoded = _decoded(json_bytes(doc))
    assert decoded == _plain(doc)
    assert [list(e) for e in decoded["items"]] == [list(e) for e in to_json(page)]


def test_integers_past_64_bits_and_named_tuples_still_encode() -> None:
    doc = {"big": 10**30, "point": Point(1, (2, 3)), "nan": float("nan")}
    assert _decoded(json_bytes(doc)) == {"big": 10**30, "point": [1, [2, 3]], "nan": None}
