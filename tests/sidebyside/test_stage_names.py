"""Stage names as pipeline generators write them, side by side: dvc reads a ``dvc.yaml`` whose stage
names hold ``/`` (one stage per page or per dataset, named by its path), in the root file and in a
nested one; both tools list, draw, run and lock them the same."""

from __future__ import annotations

import pytest

from tests.sidebyside.gen import W_PY
from tests.sidebyside.harness import SideBySide, dot_graph

pytestmark = pytest.mark.interop

ROOT = """\
stages:
  page/movielens/ML100K/index:
    cmd: python w.py pages/ml100k.txt -- movielens/stats.txt
    deps:
      - movielens/stats.txt
    outs:
      - pages/ml100k.txt
  page/index:
    cmd: python w.py pages/index.txt -- pages/ml100k.txt
    deps:
      - pages/ml100k.txt
    outs:
      - pages/index.txt
"""

NESTED = """\
stages:
  stats/ML100K:
    cmd: python ../w.py stats.txt -- ../w.py
    deps:
      - ../w.py
    outs:
      - stats.txt
"""


def test_stage_names_with_slashes(sbs: SideBySide) -> None:
    sbs.write({"w.py": W_PY, "dvc.yaml": ROOT, "movielens/dvc.yaml": NESTED}).git_commit("pipeline")
    lv, dvc = sbs.run_ok("stage", "list", "--all", "--name-only")
    assert lv.stdout.split() == dvc.stdout.split()
    assert "page/movielens/ML100K/index" in lv.stdout.split()

    lv, dvc = sbs.run_ok("dag", "--dot")
    assert dot_graph(lv.stdout) == dot_graph(dvc.stdout)

    lv_changed, dvc_changed = sbs.stage_status()
    assert lv_changed == dvc_changed

    ran_lv, ran_dvc = sbs.repro("page/index")
    assert ran_lv == ran_dvc == ["movielens/dvc.yaml:stats/ML100K", "page/movielens/ML100K/index", "page/index"]
    sbs.assert_same_lock()
    sbs.assert_same_lock("movielens/dvc.lock")
    lv_changed, dvc_changed = sbs.stage_status()
    assert lv_changed == dvc_changed == {}


COLONS = """\
stages:
  prep:v1:
    cmd: python w.py a.txt -- w.py
    deps:
      - w.py
    outs:
      - a.txt
  train:
    cmd: python w.py b.txt -- a.txt
    deps:
      - a.txt
    outs:
      - b.txt
"""


def test_stage_names_with_colons(sbs: SideBySide) -> None:
    """dvc runs and locks a stage named ``prep:v1`` with the whole pipeline (no ``FILE:NAME``
    address can name it, in either tool); its downstream stage can be named."""
    sbs.write({"w.py": W_PY, "dvc.yaml": COLONS}).git_commit("pipeline")
    lv, dvc = sbs.run_ok("stage", "list", "--name-only")
    assert lv.stdout.split() == dvc.stdout.split() == ["prep:v1", "train"]
    lv_changed, dvc_changed = sbs.stage_status()
    assert lv_changed == dvc_changed
    ran_lv, ran_dvc = sbs.repro()
    assert ran_lv == ran_dvc == ["prep:v1", "train"]
    sbs.assert_same_lock()
    lv_changed, dvc_changed = sbs.stage_status()
    assert lv_changed == dvc_changed == {}
    sbs.write({"w.py": W_PY + "\n"})
    ran_lv, ran_dvc = sbs.repro("train")
    assert ran_lv == ran_dvc == ["prep:v1", "train"]
    sbs.assert_same_lock()
