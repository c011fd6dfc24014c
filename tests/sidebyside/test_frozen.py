"""Frozen stages, side by side: deps and params are not looked at, outputs are; a missing output
is shown by ``status`` and stops ``repro``; a modified one is recorded in dvc.lock as it is."""

from __future__ import annotations

import pytest

from tests.sidebyside.gen import W_PY
from tests.sidebyside.harness import SideBySide, describe

pytestmark = pytest.mark.interop

PIPELINE = """\
stages:
  a:
    cmd: python w.py a.txt -- seed.txt
    deps:
      - seed.txt
    outs:
      - a.txt{frozen}
  b:
    cmd: python w.py b.txt -- a.txt
    deps:
      - a.txt
    outs:
      - b.txt
"""


def test_frozen_stage(sbs: SideBySide) -> None:
    sbs.write({"w.py": W_PY, "seed.txt": "1\n", "dvc.yaml": PIPELINE.format(frozen="")}).git_commit("pipeline")
    assert sbs.repro() == (["a", "b"], ["a", "b"])
    sbs.write({"dvc.yaml": PIPELINE.format(frozen="\n    frozen: true")}).git_commit("freeze a")

    # a changed dependency of a frozen stage is not looked at
    sbs.write({"seed.txt": "2\n"})
    assert sbs.stage_status() == ({}, {})
    assert sbs.repro() == ([], [])

    # a missing output is shown, and stops repro with an error, dvc.lock untouched
    lock = sbs.assert_same_lock()
    sbs.remove("a.txt")
    lv_changed, dvc_changed = sbs.stage_status()
    assert lv_changed == dvc_changed == {"a": True, "b": True}
    lv, dvc = sbs.run("repro", lv_args=["repro", "--json"])
    assert lv.returncode != 0 and dvc.returncode != 0, describe(lv, dvc)
    assert "a.txt" in lv.stdout + lv.stderr
    assert sbs.read("b.txt") == (b"", b"") or sbs.read("b.txt")[0] == sbs.read("b.txt")[1]
    assert sbs.assert_same_lock() == lock

    # a modified output is verified and recorded as it is (the stage does not run); b then runs
    sbs.write({"a.txt": "edited by hand\n"})
    assert sbs.repro() == (["b"], ["b"])
    sbs.assert_same_lock()
    assert sbs.read("a.txt") == (b"edited by hand\n", b"edited by hand\n")
    assert sbs.stage_status() == ({}, {})
