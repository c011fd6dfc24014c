"""Properties of ``.dir`` manifests: byte-identical to dvc_data's, safe to parse, round-trippable."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from name_strategies import hex_oids, relpaths, tree_entries

from labvault.core.tree import Tree
from labvault.errors import ManifestError


@pytest.mark.interop
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree_entries)
@example(
    [("a-b/c", "0" * 32), ("a/b", "1" * 32), ("a.b", "2" * 32), ("aB", "3" * 32), ("a b", "4" * 32)]
)
@example(
    [("\U0001f600", "0" * 32), ("\uff21", "1" * 32), ("e\u0301", "2" * 32), ("\u00e9", "3" * 32)]
)
@example([])
def test_manifest_bytes_match_dvc(dvc_oids, entries):
    tree = Tree.from_pairs(entries)
    want = dvc_oids.tree(entries)
    assert tree.to_bytes() == want["manifest"].encode("utf-8")
    assert tree.oid() == want["oid"]


@settings(max_examples=300, deadline=None)
@given(tree_entries)
def test_valid_manifests_round_trip(entries):
    tree = Tree.from_pairs(entries)
    data = tree.to_bytes()
    again = Tree.parse(data)
    assert again == tree
    assert again.to_bytes() == data
    assert again.oid() == tree.oid()
    # the order of entries in the input does not matter
    shuffled = json.dumps([{"relpath": r, "md5": o} for r, o in reversed(entries)]).encode()
    assert Tree.parse(shuffled).oid() == tree.oid()


component = st.sampled_from(["a", "b", "data", "\u00e9", "x y", "..a", "a..", "...", ".a"])
escaping = st.one_of(
    # leading slash: absolute
    st.lists(component, min_size=1, max_size=3).map(lambda cs: "/" + "/".join(cs)),
    # a '..' component anywhere
    st.tuples(st.lists(component, max_size=2), st.lists(component, max_size=2)).map(
        lambda t: "/".join([*t[0], "..", *t[1]])
    ),
    # a '.' component anywhere
    st.tuples(st.lists(component, max_size=2), st.lists(component, max_size=2)).map(
        lambda t: "/".join([*t[0], ".", *t[1]])
    ),
    # an empty component: doubled, leading or trailing slash
    st.tuples(st.lists(component, min_size=1, max_size=2), st.lists(component, max_size=2)).map(
        lambda t: "/".join([*t[0], "", *t[1]])
    ),
    st.sampled_from(
        [
            "",
            ".",
            "..",
            "../x",
            "a/../../b",
            "./a",
            "a/./b",
            "a//b",
            "a/",
            "/",
            "//x",
            "x/..",
            "a/b/../../..",
        ]
    ),
)


@settings(max_examples=300, deadline=None)
@given(tree_entries, escaping, hex_oids, st.integers(0, 30))
@example([], "../x", "0" * 32, 0)
@example([], "/abs", "0" * 32, 0)
@example([], "a/../../b", "0" * 32, 0)
@example([], "./a", "0" * 32, 0)
@example([], "a//b", "0" * 32, 0)
def test_parse_rejects_escaping_relpaths(entries, bad, oid, where):
    raw = [{"md5": o, "relpath": r} for r, o in entries]
    raw.insert(min(where, len(raw)), {"md5": oid, "relpath": bad})
    with pytest.raises(ManifestError):
        Tree.parse(json.dumps(raw).encode())


@settings(max_examples=100, deadline=None)
@given(relpaths, hex_oids)
@example("c:data.csv", "0" * 32)
@example("a:", "0" * 32)
@example("a\\..\\..\\b", "0" * 32)
def test_parse_accepts_any_safe_relpath(rel, oid):
    """Every name a POSIX folder can hold (':' and '\\' included) must survive parse."""
    assume(all(part not in ("", ".", "..") for part in rel.split("/")))
    tree = Tree.parse(json.dumps([{"md5": oid, "relpath": rel}]).encode())
    assert tree.as_dict() == {rel: oid}
