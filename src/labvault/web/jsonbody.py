"""Response bodies of the JSON API, encoded by orjson in one pass over dataclasses and values.

The API answers with the shapes of ``api.jsonshape.to_json`` (the command line's ``--json``):
dataclasses as objects with their fields in order, tuples as arrays, datetimes in ISO 8601.
orjson writes those shapes directly from the objects, without first building the plain
dicts and lists that ``json.dumps`` needs: a page of 50 catalog entries encodes in about 1/25 of
the time (tests/property/test_jsonbody_model.py checks that the decoded bodies equal ``to_json``).

Where orjson declines (an integer beyond 64 bits, which ``params`` may hold), the body is
encoded the plain way instead. Two values differ from ``json.dumps``: a float that is not a
number (NaN, infinity), which orjson writes as ``null`` where ``json.dumps`` writes a token that
is not JSON at all; and the spelling of some floats (``1e-5`` for ``1e-05``, the same number).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from labvault.api.jsonshape import to_json

_OPTIONS = orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    """What orjson cannot write itself (named tuples, sets, other objects): ``to_json``'s form."""
    shaped = to_json(value)
    if shaped is value:
        raise TypeError(f"{type(value).__name__} is not JSON")
    return shaped


def json_bytes(doc: Any) -> bytes:
    """``doc`` as compact JSON (UTF-8, no spaces), with ``to_json``'s shapes."""
    try:
        return orjson.dumps(doc, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(to_json(doc), ensure_ascii=False, separators=(",", ":")).encode()
