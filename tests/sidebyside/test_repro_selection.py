"""``repro``'s selection flags side by side with dvc: ``-p`` (the pipeline of each target), ``-P``
(every pipeline), ``--glob`` (wildcards over stage names, ``foreach`` items included) and
``--force-downstream`` (once a stage runs, everything after it runs): the same stages run, in the
same order where the order is fixed."""

from __future__ import annotations

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
