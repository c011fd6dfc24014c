"""Revisions side by side: ``metrics show -A``/``metrics diff`` of a metrics file inside a cached
folder output (DVC's get-started layout), and ``diff`` across revisions with outputs in ``.dvc``
files and in ``dvc.lock`` (one moving from the first to the second, renames, nothing changed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.interop

# The get-started layout: `eval` is a cached folder output, its metrics.json a metric named at
# the top level; `model` another folder output; `data/features.csv` a pipeline output later.
TRAIN_PY = """\
import json, os, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
raw = open("data/raw.txt").read()
os.makedirs("eval/plots", exist_ok=True)
os.makedirs("model", exist_ok=True)
json.dump({"acc": p["acc"], "loss": {"train": 1 - p["acc"], "n": len(raw)}}, open("eval/metrics.json", "w"))
json.dump({"auc": p["acc"] / 2}, open("eval/plots/roc.json", "w"))
open("model/weights.bin", "w").write(f"{p['acc']} {raw}")
open("model/config.json", "w").write("{}")
"""

PIPELINE = """\
stages:
  train:
    cmd: python train.py
    deps:
    - train.py
    - data/raw.txt
    params:
    - train.acc
    outs:
    - eval
    - model
metrics:
- eval/metrics.json
"""

FEATURES_STAGE = """\
  features:
    cmd: python -c "open('data/features.csv', 'w').write(open('data/raw.txt').read().upper())"
    deps:
    - data/raw.txt
    outs:
    - data/features.csv
"""

FIXED_DATES = {"GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


def _pair(tmp_path: Any) -> SideBySide:
    sbs = SideBySide(tmp_path)
    sbs.env.update(FIXED_DATES)  # same content, same commits: revisions named by sha agree
    return sbs


def _commit_and_tag(sbs: SideBySide, tag: str) -> None:
    sbs.git_commit(tag).git("tag", tag)


def _get_started(sbs: SideBySide) -> None:
    sbs.write({"train.py": TRAIN_PY, "dvc.yaml": PIPELINE, "params.yaml": "train:\n  acc: 0.5\n",
               "data/raw.txt": "raw data\n"})
    sbs.run_ok("add", "data/raw.txt")
    sbs.repro()
    sbs.assert_same_lock()
    _commit_and_tag(sbs, "v1")
    sbs.write({"params.yaml": "train:\n  acc: 0.75\n"})
    sbs.repro()
    _commit_and_tag(sbs, "v2")


@pytest.mark.slow
def test_metrics_inside_folder_output_at_revisions(tmp_path: Any) -> None:
    sbs = _pair(tmp_path)
    _get_started(sbs)
    # at v1 and v2 eval/metrics.json is in no commit: only in the cache, inside eval's .dir
    shown = sbs.assert_same_json("metrics", "show", "-A")
    assert len(shown) == 3 and all("error" not in f for r in shown.values() for f in r["data"].values())
    sbs.assert_same_json("metrics", "show", "-T")
    changes = sbs.assert_same_json("metrics", "diff", "v1", "v2")
    assert changes["eval/metrics.json"]["acc"] == {"old": 0.5, "new": 0.75, "diff": 0.25}
    sbs.assert_same_json("metrics", "diff", "v1")
    sbs.assert_same_json("metrics", "diff", "v1", "v2", "--targets", "eval/metrics.json")
    # a metrics target given as the folder itself expands to its files
    sbs.assert_same_json("metrics", "show", "-T", "eval")


def _paths(doc: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: sorted(json.dumps(e["path"], sort_keys=True) for e in v) for k, v in doc.items()}


@pytest.mark.slow
def test_diff_across_revisions_with_pipeline_outputs(tmp_path: Any) -> None:
    sbs = _pair(tmp_path)
    _get_started(sbs)
    v1_v2 = sbs.assert_same_json("diff", "v1", "v2")
    assert {"path": "eval/metrics.json"} in v1_v2["modified"] and {"path": "model/"} in v1_v2["modified"]
    assert v1_v2["renamed"] == []
    # nothing changed: `{}`, both between two revisions and against a clean workspace
    assert sbs.assert_same_json("diff", "v2", "v2") == {}
    assert sbs.assert_same_json("diff") == {}

    # v3: data/features.csv tracked by a .dvc file; v4: the same bytes made by a stage instead
    sbs.write({"data/features.csv": "RAW DATA\n"})
    sbs.run_ok("add", "data/features.csv")
    _commit_and_tag(sbs, "v3")
    sbs.remove("data/features.csv.dvc")
    sbs.write({"dvc.yaml": PIPELINE.replace("metrics:", FEATURES_STAGE + "metrics:")})
    sbs.run_ok("repro", "--force", "features", lv_args=["repro", "--force", "features"])
    _commit_and_tag(sbs, "v4")
    assert sbs.assert_same_json("diff", "v3", "v4") == {}  # moved into dvc.lock, same content
    # v5: the stage writes other bytes: the moved output is modified, not deleted
    sbs.write({"data/raw.txt": "other raw data\n"})
    sbs.run_ok("add", "data/raw.txt")
    sbs.repro()
    _commit_and_tag(sbs, "v5")
    v3_v5 = sbs.assert_same_json("diff", "v3", "v5")
    assert {"path": "data/features.csv"} in v3_v5["modified"] and v3_v5["deleted"] == []

    # v6: a .dvc-tracked file renamed (same bytes), a folder output's file removed by hand
    sbs.run_ok("move", "data/raw.txt", "data/source.txt")
    sbs.write({"dvc.yaml": PIPELINE.replace("data/raw.txt", "data/source.txt")
               .replace("metrics:", FEATURES_STAGE.replace("data/raw.txt", "data/source.txt") + "metrics:"),
               "train.py": TRAIN_PY.replace("data/raw.txt", "data/source.txt")})
    _commit_and_tag(sbs, "v6")
    v5_v6 = sbs.assert_same_json("diff", "v5", "v6")
    assert v5_v6["renamed"] == [{"path": {"old": "data/raw.txt", "new": "data/source.txt"}}]
    for a, b in (("v1", "v6"), ("v4", "v6"), ("v6", "v1")):
        lv, dvc = sbs.json("diff", a, b)
        assert _paths(lv) == _paths(dvc), f"diff {a} {b}"

    # the workspace: an edited file inside a folder output, a deleted pipeline output
    for root in sbs.roots:
        (root / "eval" / "plots" / "roc.json").unlink()
        (root / "data" / "features.csv").unlink()
    ws = sbs.assert_same_json("diff")
    assert ws["not in cache"] == [] and {"path": "data/features.csv"} in ws["deleted"]
    sbs.assert_same_json("diff", "v1")
