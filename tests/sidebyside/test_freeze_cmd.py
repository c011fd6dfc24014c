"""``freeze`` and ``unfreeze``, side by side: the same dvc.yaml and .dvc bytes after each, the
same refusals, and the same stages run by ``repro`` afterwards."""

from __future__ import annotations

import pytest

from tests.sidebyside.gen import W_PY
from tests.sidebyside.harness import SideBySide, describe

pytestmark = pytest.mark.interop

PIPELINE = """\
# the pipeline
stages:
  a:   # first
    cmd: python w.py a.txt -- seed.txt
    deps:
      - seed.txt
    outs:
      - a.txt
    meta: {owner: bob}
  b:
    cmd: python w.py b.txt -- a.txt
    deps: [a.txt]
    outs: [b.txt]
    frozen: false
  grid:
    foreach: [1, 2]
    do:
      cmd: python w.py g${item}.txt
      outs:
        - g${item}.txt
"""


def test_freeze_and_unfreeze(sbs: SideBySide) -> None:
    sbs.write({"w.py": W_PY, "seed.txt": "1\n", "dvc.yaml": PIPELINE}).git_commit("pipeline")
    sbs.write({"raw.txt": "raw\n"})
    sbs.run_ok("add", "raw.txt")
    every = ["a", "b", "grid@1", "grid@2"]
    assert sbs.repro() == (every, every)
    steps = [("freeze", "a"), ("freeze", "a"), ("freeze", "raw.txt.dvc"), ("freeze", "b"), ("unfreeze", "b"),
             ("unfreeze", "raw.txt.dvc"), ("freeze", "dvc.yaml:b")]
    for cmd, target in steps:
        sbs.run_ok(cmd, target)
        for rel in ("dvc.yaml", "raw.txt.dvc"):
            lv, dvc = sbs.read(rel)
            assert lv == dvc, f"{rel} after {cmd} {target}\n--- labvault\n{lv.decode()}\n--- dvc\n{dvc.decode()}"
    for bad in ("grid@1", "nosuch"):
        lv, dvc = sbs.run("freeze", bad)
        assert lv.returncode != 0 and dvc.returncode != 0, describe(lv, dvc)
    sbs.write({"seed.txt": "2\n"})
    assert sbs.repro() == ([], [])  # a and b frozen: a's changed dependency is not looked at
    sbs.run_ok("unfreeze", "a")
    sbs.run_ok("unfreeze", "b")
    assert sbs.read("dvc.yaml")[0] == sbs.read("dvc.yaml")[1]
    assert sbs.repro() == (["a", "b"], ["a", "b"])
    sbs.assert_same_lock()
