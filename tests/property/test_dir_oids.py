"""labvault names a folder on disk exactly as ``dvc add`` (dvc_data's build) does."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from name_strategies import SORT_TWINS, folder_specs

from labvault.workspace.repo import init_repo
from labvault.workspace.scan import Scanner

pytestmark = pytest.mark.interop

_counter = itertools.count()


@pytest.fixture(scope="module")
def scan_repo() -> Iterator[object]:
    with tempfile.TemporaryDirectory(prefix="lv-prop-") as d:
        yield init_repo(Path(d), no_scm=True)


def materialize(base: Path, spec: dict) -> None:
    base.mkdir()
    for rel, content in spec["files"].items():
        p = base / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    for rel in spec["empty_dirs"]:
        (base / rel).mkdir(parents=True, exist_ok=True)
    for rel, target in spec["links"].items():
        p = base / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(base / target, p.parent), p)


def check_folder(repo, dvc_oids, spec: dict) -> None:
    rel = f"d{next(_counter)}"
    materialize(repo.root / rel, spec)
    for legacy in (False, True):
        want = dvc_oids.build(repo.root / rel, legacy=legacy)
        got = Scanner(repo, store=False, legacy=legacy).scan(rel)
        assert got is not None
        assert got.tree is not None
        assert sorted(got.tree.entries) == sorted(map(tuple, want["entries"])), f"legacy={legacy}"
        assert got.tree.to_bytes() == want["manifest"].encode("utf-8"), f"legacy={legacy}"
        assert got.oid == want["oid"], f"legacy={legacy}"
        assert got.nfiles == len(want["entries"])


def _twins() -> dict:
    files = {}
    for i, a in enumerate(SORT_TWINS):
        files[f"{a}/f"] = f"{i}\r\n".encode()
        files[f"{a}x"] = b""
    return {"files": files, "empty_dirs": ["zz/empty"], "links": {"lnk": "a/f"}}


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(folder_specs())
@example({"files": {}, "empty_dirs": [], "links": {}})
@example({"files": {}, "empty_dirs": ["a/b/c", "d"], "links": {}})
@example(
    {
        "files": {"a-b/c": b"1", "a/b": b"2", "a.b": b"3", "aB": b"4", "a b": b"5"},
        "empty_dirs": [],
        "links": {},
    }
)
@example(
    {
        "files": {
            "\u00e9": b"nfc",
            "e\u0301": b"nfd",
            "\U0001f600/\u4e2d\u6587": b"",
            "\uff21": b"x",
        },
        "empty_dirs": [],
        "links": {},
    }
)
@example(
    {
        "files": {"crlf.txt": b"a\r\nb\r\n", "bin": b"\x00\r\n"},
        "empty_dirs": [],
        "links": {"sub/link": "crlf.txt"},
    }
)
@example(_twins())
def test_folder_oids_match_dvc(scan_repo, dvc_oids, spec):
    check_folder(scan_repo, dvc_oids, spec)


def test_folder_with_non_utf8_name_matches_dvc(scan_repo, dvc_oids):
    """A name that is not valid UTF-8 (legal on POSIX): dvc names it through surrogate escapes."""
    rel = f"d{next(_counter)}"
    base = scan_repo.root / rel
    base.mkdir()
    with open(os.path.join(os.fsencode(base), b"caf\xe9.txt"), "wb") as f:
        f.write(b"latin-1 name\r\n")
    (base / "ok.txt").write_bytes(b"fine")
    for legacy in (False, True):
        want = dvc_oids.build(base, legacy=legacy)
        got = Scanner(scan_repo, store=False, legacy=legacy).scan(rel)
        assert got is not None and got.oid == want["oid"]
