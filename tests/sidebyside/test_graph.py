"""The graph, side by side: a dependency on a folder that holds other stages' outputs (and on a
file inside a folder output), ``.dvc`` files as nodes, in every ``dag`` format."""

from __future__ import annotations

import json

import pytest

from tests.sidebyside.gen import W_PY
from tests.sidebyside.harness import SideBySide, ascii_labels, dot_graph, mermaid_graph

pytestmark = pytest.mark.interop


def folder_pipeline(models: list[str], consumer_first: bool) -> dict[str, str]:
    """Stages writing ``data/output/<model>`` (one per model, and a folder output), a stage reading
    the whole ``data/output`` folder, one reading a file inside a folder output; the consumers
    written before or after the producers."""
    producers = "".join(
        f"  train_{m}:\n    cmd: python w.py data/output/{m}/model.txt\n    outs:\n      - data/output/{m}/model.txt\n"
        for m in models
    ) + "  feats:\n    cmd: python w.py dir:data/feats\n    outs:\n      - data/feats\n"
    consumers = (
        "  report:\n    cmd: python w.py report.txt -- data/output\n    deps:\n      - data/output\n"
        "    outs:\n      - report.txt\n"
        "  inner:\n    cmd: python w.py inner.txt -- data/feats/sub/b.txt\n    deps:\n      - data/feats/sub/b.txt\n"
        "    outs:\n      - inner.txt\n"
    )
    body = consumers + producers if consumer_first else producers + consumers
    return {"w.py": W_PY, "dvc.yaml": "stages:\n" + body}


@pytest.mark.parametrize(
    ("models", "consumer_first", "target"),
    [(["a", "b"], False, "report"), (["m1", "m2", "m3"], True, "report"), (["only"], True, "inner")],
)
def test_folder_dependency_is_connected(sbs: SideBySide, models: list[str], consumer_first: bool,
                                        target: str) -> None:
    sbs.write(folder_pipeline(models, consumer_first)).git_commit("pipeline")
    lv, dvc = sbs.run_ok("dag", "--dot")
    assert dot_graph(lv.stdout) == dot_graph(dvc.stdout)
    ran_lv, ran_dvc = sbs.repro(target)
    assert ran_lv == ran_dvc
    assert target in ran_lv and len(ran_lv) > 1
    sbs.assert_same_lock()


def test_dvc_files_are_nodes_of_the_dag(sbs: SideBySide) -> None:
    sbs.write({
        "w.py": W_PY,
        "data/data.xml": "<xml/>\n",
        "data/folder/a.txt": "a\n",
        "other.txt": "unused\n",
        "dvc.yaml": (
            "stages:\n"
            "  prepare:\n    cmd: python w.py prepared.txt -- data/data.xml\n    deps:\n      - data/data.xml\n"
            "    outs:\n      - prepared.txt\n"
            "  inner:\n    cmd: python w.py inner.txt -- data/folder/a.txt\n    deps:\n      - data/folder/a.txt\n"
            "    outs:\n      - inner.txt\n"
            "  whole:\n    cmd: python w.py whole.txt -- data\n    deps:\n      - data\n    outs:\n      - whole.txt\n"
            "  lonely:\n    cmd: python w.py lonely.txt\n    outs:\n      - lonely.txt\n"
        ),
    })
    sbs.run_ok("add", "data/data.xml", "data/folder", "other.txt")
    for rel in ("data/data.xml.dvc", "data/folder.dvc", "other.txt.dvc"):
        lv_bytes, dvc_bytes = sbs.read(rel)
        assert lv_bytes == dvc_bytes, rel
    sbs.git_commit("data")

    lv, dvc = sbs.run_ok("dag", "--dot")
    nodes, edges = dot_graph(lv.stdout)
    assert (nodes, edges) == dot_graph(dvc.stdout)
    assert ("data/data.xml.dvc", "prepare") in edges and "other.txt.dvc" in nodes
    lv, dvc = sbs.run_ok("dag", "--outs", "--dot")
    nodes, edges = dot_graph(lv.stdout)
    assert (nodes, edges) == dot_graph(dvc.stdout)
    assert ("data/data.xml", "prepared.txt") in edges
    lv, dvc = sbs.run_ok("dag", "--mermaid")
    assert mermaid_graph(lv.stdout) == mermaid_graph(dvc.stdout)
    lv, dvc = sbs.run_ok("dag")
    assert ascii_labels(lv.stdout) == ascii_labels(dvc.stdout)
    lv, dvc = sbs.run_ok("dag", "--dot", "prepare")
    assert dot_graph(lv.stdout) == dot_graph(dvc.stdout) == ({"prepare", "data/data.xml.dvc"},
                                                              {("data/data.xml.dvc", "prepare")})
    for target in ("data/data.xml.dvc", "data/folder/a.txt"):  # a .dvc file, or a path it tracks
        lv, dvc = sbs.run_ok("dag", "--dot", target)
        assert dot_graph(lv.stdout) == dot_graph(dvc.stdout)
        assert len(dot_graph(lv.stdout)[0]) == 1


def test_a_folder_target_names_every_stage_writing_inside(sbs: SideBySide) -> None:
    """dvc refuses a target that is neither a stage nor inside an output; labvault takes a folder
    holding outputs as all the stages writing there (never just one of them)."""
    sbs.write(folder_pipeline(["a", "b", "c"], consumer_first=False)).git_commit("pipeline")
    lv, dvc = sbs.run("repro", "--dry", "data/output", lv_args=["repro", "--dry", "--json", "data/output"])
    assert dvc.returncode != 0 and "not found" in dvc.stderr
    assert lv.returncode == 0, lv.stderr
    would = [r["address"] for r in json.loads(lv.stdout) if r["action"] == "would-run"]
    assert would == ["train_a", "train_b", "train_c"]
