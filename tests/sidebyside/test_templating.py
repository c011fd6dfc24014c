"""Templated pipelines (generated variants) read the same by labvault and dvc: the same stages and
graph, the same stages run in the same order, the same dvc.lock bytes, the same status and params
afterwards."""

from __future__ import annotations

import pytest

from tests.sidebyside.gen import templated
from tests.sidebyside.harness import SideBySide, dot_graph

pytestmark = pytest.mark.interop

SEEDS = range(4)  # each costs ~6 dvc commands (~1 s of CPU each)


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_templated_pipeline(sbs: SideBySide, seed: int) -> None:
    sbs.write(templated(seed)).git_commit("pipeline")
    lv, dvc = sbs.run_ok("dag", "--dot")
    assert dot_graph(lv.stdout) == dot_graph(dvc.stdout)

    ran_lv, ran_dvc = sbs.repro()
    assert ran_lv == ran_dvc
    sbs.assert_same_lock()
    lv_changed, dvc_changed = sbs.stage_status()
    assert lv_changed == dvc_changed == {}
    sbs.git_commit("ran")

    # a param change in the second params file: both see the same changed params and stages
    files = templated(seed)
    sbs.write({"config/train.yaml": files["config/train.yaml"].replace("momentum: 0.", "momentum: 0.1")})
    sbs.assert_same_json("params", "diff", "--all")
    lv_changed, dvc_changed = sbs.stage_status()
    assert lv_changed == dvc_changed
