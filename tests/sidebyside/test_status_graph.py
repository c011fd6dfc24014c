"""``status`` of a pipeline dvc will not draw or run, side by side: a stage depending on the folder
that holds its own output (a matrix of evaluations reading a predictions folder and writing a score
file into it), two stages writing overlapping outputs, two stages feeding each other. dvc's ``dag``
and ``repro`` refuse these; its ``status`` still reports every stage, and so must labvault's."""

from __future__ import annotations

import pytest

from tests.sidebyside.gen import W_PY
from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.interop

SHAPES = {
    "dependency-holds-own-output": (
        "stages:\n"
        "  predict:\n    matrix:\n      seed: [42, 7]\n"
        "    cmd: python w.py dir:preds/${item.seed}\n    outs:\n      - preds/${item.seed}/data\n"
        "  evaluate:\n    matrix:\n      seed: [42, 7]\n"
        "    cmd: python w.py preds/${item.seed}/score.txt -- preds/${item.seed}\n"
        "    deps:\n      - preds/${item.seed}\n    outs:\n      - preds/${item.seed}/score.txt\n"
        "  report:\n    cmd: python w.py report.txt -- w.py\n    deps:\n      - w.py\n    outs:\n      - report.txt\n"
    ),
    "overlapping-outputs": (
        "stages:\n"
        "  whole:\n    cmd: python w.py dir:out\n    outs:\n      - out\n"
        "  part:\n    cmd: python w.py out/part.txt\n    outs:\n      - out/part.txt\n"
    ),
    "cycle": (
        "stages:\n"
        "  a:\n    cmd: python w.py x.txt -- y.txt\n    deps:\n      - y.txt\n    outs:\n      - x.txt\n"
        "  b:\n    cmd: python w.py y.txt -- x.txt\n    deps:\n      - x.txt\n    outs:\n      - y.txt\n"
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_status_of_a_pipeline_dvc_cannot_run(sbs: SideBySide, shape: str) -> None:
    sbs.write({"w.py": W_PY, "dvc.yaml": SHAPES[shape]}).git_commit("pipeline")
    lv, dvc = sbs.run("dag")
    assert lv.returncode != 0 and dvc.returncode != 0
    assert len(lv.stderr.strip().splitlines()) == 1

    lv_changed, dvc_changed = sbs.stage_status()
    assert lv_changed == dvc_changed
    assert lv_changed
