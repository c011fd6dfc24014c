"""The fast reader of plain pointer files gives exactly what the YAML parser gives, or steps aside."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from labvault.workspace.pointer import _parse_fast, parse_pointer

_hex = st.text("0123456789abcdef", min_size=32, max_size=32)
_words = st.sampled_from(["data", "big.bin", "yes", "No", "null", "true", "on", "x1", "a/b-c_d.e", "TRUE", "Off"])
_path = st.one_of(_words, st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), min_size=1, max_size=12))
_value = st.one_of(_hex, _hex.map(lambda h: h + ".dir"), st.integers(0, 10**12).map(str), _path,
                   st.sampled_from(["md5", "true", "false", "1e3", "0x1F", "007", "12345678901234567890123456789012"]))
_key = st.sampled_from(["md5", "size", "nfiles", "hash", "path", "isexec", "cache", "remote"])


_typed = {
    "md5": st.one_of(_hex, _hex.map(lambda h: h + ".dir")),
    "size": st.integers(0, 10**12).map(str),
    "nfiles": st.integers(0, 10**6).map(str),
    "hash": st.just("md5"),
    "isexec": st.just("true"),
    "path": _path,
}


@st.composite
def pointer_texts(draw: st.DrawFn) -> str:
    """Mostly plain pointers, with now and then a stray key, value, indent or header."""
    lines = [draw(st.sampled_from(["outs:"] * 8 + ["md5: x", "outs: []"]))]
    for _ in range(draw(st.integers(1, 3))):
        keys = draw(st.lists(st.sampled_from(list(_typed)), min_size=1, max_size=6, unique=True))
        for j, k in enumerate(keys):
            if draw(st.integers(0, 9)) == 0:
                k = draw(_key)
            value = draw(_value) if draw(st.integers(0, 9)) == 0 else draw(_typed.get(k, _value))
            indent = "- " if j == 0 else draw(st.sampled_from(["  "] * 9 + ["   "]))
            lines.append(f"{indent}{k}: {value}")
    text = "\n".join(lines)
    return text + draw(st.sampled_from(["\n", "\n", "", " \n"]))


@settings(max_examples=600, deadline=None)
@given(pointer_texts())
def test_fast_parse_agrees_with_yaml(text: str) -> None:
    fast = _parse_fast(text)
    if fast is None:
        return
    assert fast == yaml.safe_load(text)
    assert [list(o) for o in fast["outs"]] == [list(o) for o in yaml.safe_load(text)["outs"]]  # key order too


def test_plain_pointers_take_the_fast_path() -> None:
    text = "outs:\n- md5: 36b1ef7ee3784c854cc589d97b52d645.dir\n  size: 4294967296\n  nfiles: 3\n  hash: md5\n  path: data\n"
    assert _parse_fast(text) == yaml.safe_load(text)
    assert parse_pointer(text, "x.dvc").outs[0].nfiles == 3
    for odd in ("outs:\n- md5: 12345678901234567890123456789012\n  path: a\n", "outs:\n- path: yes\n",
                "outs:\n- path: data # comment\n", "outs:\r\n- path: data\r\n", "md5: abc\nouts:\n- path: a\n"):
        assert _parse_fast(odd) is None, odd
