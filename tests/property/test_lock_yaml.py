"""dvc.lock text: labvault's writer against the real dvc's serializer, on generated entries.

Long and odd ``cmd`` values (wrapped at ruamel's width of 80, colons, ``#``, quotes, leading
spaces, line breaks, unicode, lists of commands), long paths and params of every YAML type, both
for a lock written from scratch and for one updated in place (dvc parses the old file with its
round-trip loader and dumps it again; labvault reads it with its YAML 1.2 loader)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.property.conftest import IN_CI, ROOT, dvc_python

from labvault.core.yaml12 import dump_yaml
from labvault.pipelines.lock import SCHEMA, LockFile

pytestmark = pytest.mark.interop

ORACLE_SCRIPT = ROOT / "tests" / "oracle" / "dvc_lockfile.py"


class DvcLock:
    """A client of tests/oracle/dvc_lockfile.py: one request line out, one answer line back."""

    def __init__(self, python: Path) -> None:
        env = dict(os.environ, DVC_NO_ANALYTICS="1")
        self.proc = subprocess.Popen(
            [str(python), str(ORACLE_SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, encoding="utf-8", env=env,
        )
        self.request({"op": "ping"})

    def request(self, req: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"dvc lock oracle died (exit {self.proc.poll()})")
        out: dict[str, Any] = json.loads(line)
        if "error" in out:
            raise RuntimeError(f"dvc lock oracle failed: {out['error']}\n{out.get('trace', '')}")
        return out

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def dvc_lock() -> Iterator[DvcLock]:
    python = dvc_python()
    if not python.exists():
        msg = f"dvc's python not found at {python}: run `make dvc-oracle`"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    client = DvcLock(python)
    try:
        yield client
    finally:
        client.close()


# Text a command line or a params value holds: printable characters of any script, tabs and line
# breaks, weighted towards YAML's special characters, spaces and long runs (control characters,
# which ruamel writes as escapes, are left out).
_SPECIAL = st.sampled_from([":", ": ", " #", "#", "'", '"', "\\", "-", "- ", "?", "&", "*", "!", "|", ">",
                            "%", "@", "`", "{", "}", "[", "]", ",", " ", "  ", "\t", "\n", "\r\n", "é",
                            "日本", "\U0001f600", "yes", "null", "~", "1e3", "0x1F", "$", "${x}"])
_CHARS = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn", "Zl", "Zp")), max_size=12)
_PIECE = st.one_of(_SPECIAL, _CHARS, st.just("a" * 30), st.just("word "))
_TEXT = st.lists(_PIECE, max_size=14).map("".join)
_WORDS = st.lists(_PIECE, min_size=1, max_size=14).map("".join).filter(bool)
_CMD = st.one_of(_WORDS, st.lists(_WORDS, min_size=1, max_size=4))
_SEGMENT = st.text("abcXYZ019_. -", min_size=1, max_size=30).filter(lambda s: s not in (".", ".."))
_PATH = st.lists(_SEGMENT, min_size=1, max_size=6).map("/".join)
_MD5 = st.binary(min_size=16, max_size=16).map(bytes.hex)
_SCALAR = st.one_of(
    # floats as params files spell them (up to 12 significant digits), and no subnormals: ruamel's
    # round-trip loader re-writes a float of 16-17 digits in exponent form with its last digit
    # changed, and a subnormal in other digits (5e-324 as 4e-324), which labvault does not
    # imitate (see docs/design.md, Pipelines)
    st.none(), st.booleans(), st.integers(),
    st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False)
    .map(lambda f: float(f"{f:.12g}")).filter(lambda f: f == 0 or abs(f) >= 2.2250738585072014e-308),
    _TEXT,
)
_KEY = st.tuples(st.sampled_from("abz_"), st.text("abcxyz019_.-", max_size=40)).map("".join)
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEY, inner, max_size=3)),
    max_leaves=6,
)


@st.composite
def _entry(draw: st.DrawFn) -> dict[str, Any]:
    def files() -> list[dict[str, Any]]:
        paths = sorted(set(draw(st.lists(_PATH, max_size=3))))
        return [{"path": p, "hash": "md5", "md5": draw(_MD5), "size": draw(st.integers(0, 2**40))} for p in paths]

    entry: dict[str, Any] = {"cmd": draw(_CMD)}
    deps = files()
    if deps:
        entry["deps"] = deps
    params = draw(st.dictionaries(_KEY, _VALUE, max_size=4))
    if params:
        entry["params"] = {"params.yaml": {k: params[k] for k in sorted(params)}}
    outs = files()
    if outs:
        entry["outs"] = outs
    return entry


_NAME = st.tuples(st.sampled_from("abt"), st.text("abcxyz019_@-", max_size=20)).map("".join)
_STAGES = st.dictionaries(_NAME, _entry(), min_size=1, max_size=3)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stages=_STAGES)
def test_fresh_lock_text_is_dvcs(dvc_lock: DvcLock, stages: dict[str, Any]) -> None:
    doc = {"schema": SCHEMA, "stages": stages}
    assert dump_yaml(doc) == dvc_lock.request({"op": "dump", "data": doc})["text"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(before=_STAGES, after=_STAGES)
def test_updated_lock_text_is_dvcs(dvc_lock: DvcLock, tmp_path: Path, before: dict[str, Any],
                                   after: dict[str, Any]) -> None:
    """A lock dvc wrote, then some stages rewritten: labvault keeps the others as dvc re-dumps them."""
    old = dvc_lock.request({"op": "dump", "data": {"schema": SCHEMA, "stages": before}})["text"]
    path = tmp_path / "dvc.lock"
    path.write_text(old, encoding="utf-8")
    lock = LockFile(path)
    for name, entry in after.items():
        lock.set(name, entry)
    lock.save()
    theirs = dvc_lock.request({"op": "update", "text": old, "stages": after})["text"]
    assert path.read_text(encoding="utf-8") == theirs
