"""``repro``'s selection flags side by side with dvc: ``-p`` (the pipeline of each target), ``-P``
(every pipeline), ``--glob`` (wildcards over stage names, ``foreach`` items included) and
``--force-downstream`` (once a stage runs, everything after it runs): the same stages run, in the
same order where the order is fixed."""

from __future__ import annotations

import hashlib

import pytest

from tests.sidebyside.gen import W_PY
from tests.sidebyside.harness import SideBySide, dvc_ran, parse_json

pytestmark = pytest.mark.interop

# two pipelines: a -> b -> c, and x alone; f is a foreach of two items hanging off a
PIPELINE = """\
stages:
  a:
    cmd: python w.py a.txt -- seed.txt {extra}
    deps: [seed.txt]
    outs: [a.txt]
  b:
    cmd: python w.py b.txt -- a.txt
    deps: [a.txt]
    outs: [b.txt]
  c:
    cmd: python w.py c.txt -- b.txt
    deps: [b.txt]
    outs: [c.txt]
  x:
    cmd: python w.py x.txt -- x_seed.txt
    deps: [x_seed.txt]
    outs: [x.txt]
  f:
    foreach: [one, two]
    do:
      cmd: python w.py f_${{item}}.txt -- a.txt
      deps: [a.txt]
      outs:
        - f_${{item}}.txt
"""


def _repro(sbs: SideBySide, *args: str) -> tuple[list[str], list[str]]:
    lv, dvc = sbs.run_ok("repro", *args, lv_args=["repro", "--json", *args])
    return [r["address"] for r in parse_json(lv) if r["action"] in ("ran", "restored")], dvc_ran(dvc.stdout)


def _built(sbs: SideBySide) -> None:
    sbs.write({"w.py": W_PY, "seed.txt": "1\n", "x_seed.txt": "1\n", "dvc.yaml": PIPELINE.format(extra="")})
    sbs.git_commit("pipeline")
    lv, dvc = _repro(sbs)
    assert sorted(lv) == sorted(dvc) == ["a", "b", "c", "f@one", "f@two", "x"]


def test_pipeline_and_all_pipelines(sbs: SideBySide) -> None:
    _built(sbs)
    sbs.write({"seed.txt": "2\n", "x_seed.txt": "2\n"})
    # -p b: b's whole pipeline (a, b, c and f), not x's
    lv, dvc = _repro(sbs, "-p", "b")
    assert sorted(lv) == sorted(dvc) == ["a", "b", "c", "f@one", "f@two"]
    assert lv.index("a") < lv.index("b") < lv.index("c")
    # -P: every pipeline, whatever the target
    lv, dvc = _repro(sbs, "-P", "c")
    assert lv == dvc == ["x"]


def test_glob_targets(sbs: SideBySide) -> None:
    _built(sbs)
    sbs.write({"seed.txt": "3\n", "x_seed.txt": "3\n"})
    # f's items need a (changed): it runs first; b, c and x are not asked for
    lv, dvc = _repro(sbs, "--glob", "f@*")
    assert lv[0] == dvc[0] == "a" and sorted(lv) == sorted(dvc) == ["a", "f@one", "f@two"]
    lv, dvc = _repro(sbs, "--glob", "[bx]")
    assert sorted(lv) == sorted(dvc) == ["b", "x"]
    # a pattern matching nothing: dvc falls back to every stage (an empty target list); labvault
    # refuses with one line, so that a typo never runs a whole pipeline
    lv_bad, dvc_bad = sbs.run("repro", "--glob", "nothing*")
    assert dvc_bad.returncode == 0 and "Stage 'a' didn't change" in dvc_bad.stdout
    assert lv_bad.returncode == 2 and lv_bad.stderr == "error: no stage matches 'nothing*': stages: a, b, c, f@one, f@two, x\n"


def test_force_downstream(sbs: SideBySide) -> None:
    _built(sbs)
    # a's command changes but not its output: plain repro runs a alone ...
    sbs.write({"dvc.yaml": PIPELINE.format(extra="seed.txt")})
    lv, dvc = _repro(sbs, "--dry")
    lv_dry = sbs.lv("repro", "--dry", "--json")
    assert [r["address"] for r in parse_json(lv_dry) if r["action"] == "would-run"] == ["a"]
    # ... with --force-downstream, everything after it runs too (x is not after a)
    lv, dvc = _repro(sbs, "--force-downstream")
    assert lv[0] == dvc[0] == "a" and sorted(lv) == sorted(dvc) == ["a", "b", "c", "f@one", "f@two"]
    sbs.assert_same_lock()
    lv, dvc = _repro(sbs, "--force-downstream")
    assert lv == dvc == []  # nothing changed: nothing forced


def _lv_would_run(sbs: SideBySide, *args: str) -> list[str]:
    return [r["address"] for r in parse_json(sbs.lv("repro", "--dry", "--json", *args)) if r["action"] == "would-run"]


def _dvc_would_run(sbs: SideBySide, *args: str) -> list[str]:
    return dvc_ran(sbs.dvc("repro", "--dry", *args).stdout)


def _drop_data(sbs: SideBySide) -> None:
    """As a fresh clone that never pulled: no outputs in the workspace, an empty cache."""
    import shutil

    for root in sbs.roots:
        for name in ("a.txt", "b.txt", "c.txt", "x.txt", "f_one.txt", "f_two.txt"):
            (root / name).unlink()
        shutil.rmtree(root / ".dvc" / "cache")
        shutil.rmtree(root / ".dvc" / "tmp", ignore_errors=True)


def test_allow_missing(sbs: SideBySide) -> None:
    _built(sbs)
    sbs.git_commit("ran")
    _drop_data(sbs)
    # without the flag every stage with missing data would run (dvc's --dry stops with an error at
    # b, whose dependency a.txt it tries to read); with it, none
    assert sorted(_lv_would_run(sbs)) == ["a", "b", "c", "f@one", "f@two", "x"]
    assert _lv_would_run(sbs, "--allow-missing") == _dvc_would_run(sbs, "--allow-missing") == []
    # a real change still counts: c's command (dvc 3.67's --dry stops here with an error, reading
    # c's missing dependency b.txt; its status agrees that c changed)
    sbs.write({"dvc.yaml": PIPELINE.format(extra="").replace("c.txt -- b.txt", "c.txt -- b.txt b.txt")})
    assert _lv_would_run(sbs, "--allow-missing") == ["c"]
    assert "changed command" in sbs.dvc("status", "c").stdout
    sbs.git("checkout", "dvc.yaml")
    # a ran again with another seed (its new a.txt recorded), then its output went: the deleted
    # dependency of b and f now differs from what a records, so they are modified; c's is as b
    # records it
    sbs.write({"seed.txt": "5\n"})
    lv, dvc = _repro(sbs, "-s", "a")
    assert lv == dvc == ["a"]
    for root in sbs.roots:
        (root / "a.txt").unlink()
        (root / "seed.txt").unlink()
    assert sorted(_lv_would_run(sbs, "--allow-missing")) == ["b", "f@one", "f@two"]
    # and run for real: b is run from a.txt as a records it (pulled back here by checkout)
    sbs.write({"seed.txt": "5\n"})
    sbs.run_ok("checkout", "a.txt")
    lv, dvc = _repro(sbs, "--allow-missing", "b")
    assert lv == dvc == ["b"]
    sbs.assert_same_lock()


def test_pull_instead_of_running(sbs: SideBySide) -> None:
    """``repro --pull`` in a clone that never pulled: stages changed only by missing data get
    their outputs from the remote (nothing runs); a stage that must run first gets its missing
    ``.dvc``-tracked input."""
    for root in sbs.roots:
        (root / ".dvc" / "config").write_text(f"[core]\n    remote = r\n['remote \"r\"']\n    url = {root}-remote\n")
    sbs.write({"w.py": W_PY, "seed.txt": "1\n", "x_seed.txt": "1\n", "dvc.yaml": PIPELINE.format(extra="")})
    sbs.run_ok("add", "x_seed.txt")
    sbs.git_commit("pipeline")
    _repro(sbs)
    sbs.run_ok("push")
    sbs.git_commit("ran")
    _drop_data(sbs)
    for root in sbs.roots:
        (root / "x_seed.txt").unlink()
    lv, dvc = _repro(sbs, "--pull")
    assert lv == dvc == []
    for rel in ("a.txt", "c.txt", "f_two.txt", "x.txt", "x_seed.txt"):
        ours, theirs = sbs.read(rel)
        assert ours == theirs != b""
    assert sbs.stage_status() == ({}, {})
    # x's command changes: x runs, after its missing input x_seed.txt is pulled; the rest pulls
    _drop_data(sbs)
    for root in sbs.roots:
        (root / "x_seed.txt").unlink()
    sbs.write({"dvc.yaml": PIPELINE.format(extra="").replace("x.txt -- x_seed.txt", "x.txt -- x_seed.txt x_seed.txt")})
    dry = parse_json(sbs.lv("repro", "--pull", "--dry", "--json"))
    assert {r["address"]: r["action"] for r in dry} == {
        "a": "would-pull", "b": "would-pull", "c": "would-pull", "f@one": "would-pull", "f@two": "would-pull",
        "x": "would-run"}
    lv, dvc = _repro(sbs, "--pull")
    assert lv == dvc == ["x"]
    assert sbs.read("x_seed.txt") == (b"1\n", b"1\n")
    sbs.assert_same_lock()


def test_commit_records_stages_without_running_them(sbs: SideBySide) -> None:
    """``commit`` of a stage (as ``dvc commit``): after its command was run by hand, or an output
    object left the cache, dvc.lock records the stage as it is now and the cache holds its
    outputs; nothing runs. A missing output fails with one line, dvc.lock untouched."""
    sbs.write({"w.py": W_PY, "seed.txt": "1\n", "x_seed.txt": "1\n", "dvc.yaml": PIPELINE.format(extra="")})
    sbs.run_ok("add", "x_seed.txt")
    sbs.git_commit("pipeline")
    _repro(sbs)
    # b's output edited by hand, and x_seed.txt (a .dvc output) too: one commit names both
    sbs.write({"b.txt": "made by hand\n", "x_seed.txt": "2\n"})
    sbs.run_ok("commit", "-f", "b", "x_seed.txt.dvc")
    sbs.assert_same_lock()
    assert sbs.read("x_seed.txt.dvc")[0] == sbs.read("x_seed.txt.dvc")[1]
    for root in sbs.roots:
        oid = hashlib.md5(b"made by hand\n").hexdigest()
        assert (root / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]).is_file()
    # c and x depend on what changed: both tools now say they must run, nothing else
    assert sbs.stage_status() == ({"c": True, "x": True}, {"c": True, "x": True})
    # an object gone from the cache: commit with no target stores it again, and records c and x
    # (every stage) as they are now
    oid = hashlib.md5(sbs.read("a.txt")[0]).hexdigest()
    for root in sbs.roots:
        (root / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]).unlink()
    sbs.run_ok("commit", "-f")
    assert sbs.stage_status() == ({}, {})
    for root in sbs.roots:
        assert (root / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]).is_file()
    sbs.assert_same_lock()
    # a missing output: one error line, dvc.lock as it was
    before = sbs.read("dvc.lock")
    for root in sbs.roots:
        (root / "c.txt").unlink()
    lv, dvc = sbs.run("commit", "-f", "c")
    assert lv.returncode != 0 and dvc.returncode != 0
    assert lv.stderr.count("\n") == 1 and "output c.txt does not exist" in lv.stderr
    assert sbs.read("dvc.lock") == before
