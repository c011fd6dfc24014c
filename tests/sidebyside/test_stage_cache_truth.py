"""Stage outputs whose objects left the cache, side by side with dvc: ``status`` reports each as
"not in cache" (before "deleted" or "modified", as dvc does) and ``repro`` runs that stage again,
so that its objects are back in the cache; nothing is trusted because dvc.lock says it was saved.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from labvault import api
from tests.sidebyside.harness import SideBySide, parse_json

pytestmark = pytest.mark.interop

# s writes one file; t writes a folder of two files from it (both record a line in log.txt, which
# is no output: it tells which stages ran). Inputs are written by the test, so both copies hold
# the same bytes and dvc.lock files can be compared byte for byte.
MAKE_T = "import os,sys; os.makedirs('od', exist_ok=True); open('od/x','w').write('x' + open('out.txt').read()); " \
    "open('od/y','w').write('y\\n'); open('log.txt','a').write(sys.argv[1] + '\\n')"
PIPELINE = f"""\
stages:
  s:
    cmd: python -c "import sys; open('out.txt','w').write(open('a.txt').read()); open('log.txt','a').write('s\\\\n')"
    deps:
      - a.txt
    outs:
      - out.txt
  t:
    cmd: python -c "{MAKE_T}" t
    deps:
      - out.txt
    outs:
      - od
"""


def _object(root: Path, data: bytes) -> Path:
    oid = hashlib.md5(data).hexdigest()
    return root / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]


def _drop(sbs: SideBySide, data: bytes) -> None:
    """Delete the cache object holding ``data`` in both copies, as a cleanup outside either tool."""
    for root in sbs.roots:
        obj = _object(root, data)
        assert obj.is_file(), obj
        obj.unlink()


def _status(sbs: SideBySide) -> tuple[dict[str, list[str]], dict[str, object]]:
    """labvault's changed stages with their reasons; dvc's ``status --json``."""
    lv, dvc = sbs.run_ok("status", "--json")
    ours = parse_json(lv)
    return {s["address"]: s["reasons"] for s in ours["stages"] if s["changed"]}, parse_json(dvc)


def _log(sbs: SideBySide) -> tuple[str, str]:
    return tuple(r.decode() for r in sbs.read("log.txt"))  # type: ignore[return-value]


def test_a_stage_output_whose_objects_left_the_cache(sbs: SideBySide) -> None:
    sbs.write({"a.txt": "a\n", "dvc.yaml": PIPELINE}).git_commit("pipeline")
    assert sbs.repro() == (["s", "t"], ["s", "t"])
    sbs.git_commit("ran")
    assert _status(sbs) == ({}, {})

    # one file's object inside the folder output goes; the workspace still holds the folder
    _drop(sbs, b"y\n")
    ours, theirs = _status(sbs)
    assert theirs == {"t": [{"changed outs": {"od": "not in cache"}}]}
    assert ours == {"t": ["out not in cache: od"]}
    assert "out not in cache: od" in sbs.lv("status").stdout

    # the folder goes from the workspace too: still "not in cache" first, as dvc says
    for root in sbs.roots:
        (root / "od" / "y").unlink()
    ours, theirs = _status(sbs)
    assert theirs == {"t": [{"changed outs": {"od": "not in cache"}}]}
    assert ours == {"t": ["out not in cache: od"]}

    # repro runs t again (not s), and the objects are back
    assert sbs.repro() == (["t"], ["t"])
    assert _log(sbs) == ("s\nt\nt\n", "s\nt\nt\n")
    for root in sbs.roots:
        assert _object(root, b"y\n").is_file()
    assert _status(sbs) == ({}, {})
    sbs.assert_same_lock()


def test_a_file_output_whose_object_left_the_cache(sbs: SideBySide) -> None:
    sbs.write({"a.txt": "a\n", "dvc.yaml": PIPELINE}).git_commit("pipeline")
    assert sbs.repro() == (["s", "t"], ["s", "t"])
    _drop(sbs, b"a\n")
    ours, theirs = _status(sbs)
    assert theirs == {"s": [{"changed outs": {"out.txt": "not in cache"}}]}
    assert ours == {"s": ["out not in cache: out.txt"]}
    # s runs again; out.txt's content is the same, so t does not
    assert sbs.repro() == (["s"], ["s"])
    for root in sbs.roots:
        assert _object(root, b"a\n").is_file()
    assert _status(sbs) == ({}, {})
    sbs.assert_same_lock()


def test_a_deleted_tracked_output_with_its_objects_gone_is_not_in_cache(sbs: SideBySide) -> None:
    """A ``.dvc``-tracked folder deleted from the workspace whose objects left the cache: dvc says
    "not in cache" rather than "deleted" (checkout could not bring it back); labvault too, and
    names the files whose objects are gone."""
    sbs.write({"d/f1": "1\n", "d/f2": "2\n"})
    sbs.run_ok("add", "d")
    sbs.git_commit("d")
    _drop(sbs, b"1\n")
    for root in sbs.roots:
        for f in ("f1", "f2"):
            (root / "d" / f).unlink()
        (root / "d").rmdir()
    lv, dvc = sbs.run_ok("status", "--json")
    assert parse_json(dvc) == {"d.dvc": [{"changed outs": {"d": "not in cache"}}]}
    outputs = parse_json(lv)["outputs"]
    assert [(o["path"], o["status"], o["missing"]) for o in outputs] == [("d", "not_in_cache", ["f1"])]
    # with every object there, a deleted output is just "deleted", on both sides
    for root in sbs.roots:
        _object(root, b"1\n").parent.mkdir(parents=True, exist_ok=True)
        _object(root, b"1\n").write_bytes(b"1\n")
    lv, dvc = sbs.run_ok("status", "--json")
    assert parse_json(dvc) == {"d.dvc": [{"changed outs": {"d": "deleted"}}]}
    assert [o["status"] for o in parse_json(lv)["outputs"]] == ["deleted"]


def test_objects_held_elsewhere_count_as_cached(sbs: SideBySide) -> None:
    """A spill tier holds objects the cache gave up: a stage whose objects are there is not run
    again (the library's ``elsewhere`` hook, as the API wires it for a repo that spilled)."""
    from labvault.pipelines.repro import pipeline_status
    from labvault.workspace.repo import open_repo

    sbs.write({"a.txt": "a\n", "dvc.yaml": PIPELINE}).git_commit("pipeline")
    sbs.run_ok("repro")
    gone = hashlib.md5(b"y\n").hexdigest()
    _object(sbs.lv_root, b"y\n").unlink()
    repo = open_repo(sbs.lv_root)
    asked: list[set[str]] = []

    def holds_it(oids: set[str]) -> set[str]:
        asked.append(set(oids))
        return oids & {gone}

    assert not any(s.changed for s in pipeline_status(repo, elsewhere=holds_it))
    assert asked == [{gone}]
    assert [s.address for s in pipeline_status(repo, elsewhere=lambda oids: set()) if s.changed] == ["t"]
    assert [s.address for s in api.stage_status(repo=sbs.lv_root) if s.changed] == ["t"]
