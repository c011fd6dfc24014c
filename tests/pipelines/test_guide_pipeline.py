"""The lab guide's four-stage pipeline (download, preprocess, train, evaluate), run for real:
what runs the first time, the second time, and after each kind of params change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.pipelines._support import (
    GUIDE_STAGES,
    by_action,
    clear_log,
    lv_stage_status,
    ran_names,
    repro_json,
    set_param,
    write_guide_pipeline,
)


@pytest.fixture
def guide_repo(git_repo: Path, lv: Runner) -> Path:
    lv("init")
    write_guide_pipeline(git_repo)
    return git_repo


def test_first_repro_runs_all_four_stages_in_order(guide_repo: Path, lv: Runner, runlog: Path) -> None:
    result = repro_json(lv)
    assert [r["address"] for r in result] == GUIDE_STAGES
    assert by_action(result, "ran") == GUIDE_STAGES
    assert ran_names(runlog) == GUIDE_STAGES
    metrics = json.loads((guide_repo / "outputs/metrics/test_metrics.json").read_text())
    assert 0.5 < metrics["accuracy"] <= 1.0  # the tiny model learned something
    lock = (guide_repo / "dvc.lock").read_text()
    assert "train.learning_rate: 2e-05" in lock  # YAML 1.2 float, written as DVC writes it
    assert all(s["changed"] is False for s in lv_stage_status(lv).values())


def test_second_repro_runs_nothing(guide_repo: Path, lv: Runner, runlog: Path) -> None:
    repro_json(lv)
    lock = (guide_repo / "dvc.lock").read_bytes()
    clear_log(runlog)
    result = repro_json(lv)
    assert by_action(result, "unchanged") == GUIDE_STAGES
    assert ran_names(runlog) == []
    assert (guide_repo / "dvc.lock").read_bytes() == lock
    text = lv("repro").stdout
    assert "up to date" in text
    assert ran_names(runlog) == []


def test_learning_rate_change_reruns_train_and_evaluate_only(guide_repo: Path, lv: Runner, runlog: Path) -> None:
    repro_json(lv)
    before = json.loads((guide_repo / "outputs/metrics/train_metrics.json").read_text())
    set_param(guide_repo, "learning_rate: 2e-5", "learning_rate: 1e-3")
    status = lv_stage_status(lv)
    assert [a for a, s in status.items() if s["changed"]] == ["train"]
    assert any("learning_rate" in r for r in status["train"]["reasons"])
    clear_log(runlog)
    result = repro_json(lv)
    assert by_action(result, "ran") == ["train", "evaluate"]
    assert by_action(result, "unchanged") == ["download", "preprocess"]
    assert ran_names(runlog) == ["train", "evaluate"]
    after = json.loads((guide_repo / "outputs/metrics/train_metrics.json").read_text())
    assert after != before
    assert "train.learning_rate: 0.001" in (guide_repo / "dvc.lock").read_text()


def test_val_split_change_reruns_preprocess_train_evaluate(guide_repo: Path, lv: Runner, runlog: Path) -> None:
    repro_json(lv)
    set_param(guide_repo, "val_split: 0.1", "val_split: 0.15")
    clear_log(runlog)
    result = repro_json(lv)
    assert by_action(result, "ran") == ["preprocess", "train", "evaluate"]
    assert by_action(result, "unchanged") == ["download"]
    assert ran_names(runlog) == ["preprocess", "train", "evaluate"]


def test_unused_param_change_reruns_nothing(guide_repo: Path, lv: Runner, runlog: Path) -> None:
    """max_length and warmup_steps are in params.yaml but no stage lists them."""
    repro_json(lv)
    set_param(guide_repo, "max_length: 512", "max_length: 256")
    set_param(guide_repo, "warmup_steps: 500", "warmup_steps: 10")
    clear_log(runlog)
    assert by_action(repro_json(lv), "ran") == []
    assert ran_names(runlog) == []


def test_script_change_reruns_its_stage_and_downstream(guide_repo: Path, lv: Runner, runlog: Path) -> None:
    repro_json(lv)
    with open(guide_repo / "src/training/train.py", "a") as f:
        f.write("# touched\n")
    clear_log(runlog)
    result = repro_json(lv)
    assert by_action(result, "ran") == ["train"]  # same model bytes: evaluate's deps are unchanged
    assert ran_names(runlog) == ["train"]


def test_single_stage_target_runs_it_and_its_upstream(guide_repo: Path, lv: Runner, runlog: Path) -> None:
    result = repro_json(lv, "preprocess")
    assert by_action(result, "ran") == ["download", "preprocess"]
    assert ran_names(runlog) == ["download", "preprocess"]


def _commit(git: Runner, message: str) -> None:
    git("add", "-A")
    git("commit", "-q", "--no-verify", "-m", message)


def test_metrics_diff_between_tags(guide_repo: Path, lv: Runner, git: Runner, dvc: Runner) -> None:
    """v1.0 and v2.0 differ by a learning rate; `metrics diff` shows what changed, as dvc does."""
    repro_json(lv)
    _commit(git, "pipeline v1")
    git("tag", "-a", "v1.0", "-m", "v1.0")
    v1 = json.loads((guide_repo / "outputs/metrics/train_metrics.json").read_text())
    set_param(guide_repo, "learning_rate: 2e-5", "learning_rate: 1e-3")
    repro_json(lv)
    _commit(git, "pipeline v2")
    git("tag", "-a", "v2.0", "-m", "v2.0")
    v2 = json.loads((guide_repo / "outputs/metrics/train_metrics.json").read_text())
    assert v1["train_loss"] != v2["train_loss"]

    text = lv("metrics", "diff", "v1.0", "v2.0").stdout
    assert "outputs/metrics/train_metrics.json" in text
    assert "train_loss" in text
    for value in (v1["train_loss"], v2["train_loss"]):  # dvc prints 5 decimals by default
        assert str(value) in text or str(round(value, 5)) in text, text

    ours = json.loads(lv("metrics", "diff", "v1.0", "v2.0", "--json").stdout)
    theirs = json.loads(dvc("metrics", "diff", "v1.0", "v2.0", "--json").stdout)
    assert ours == theirs
    changed = ours["outputs/metrics/train_metrics.json"]["train_loss"]
    assert (changed["old"], changed["new"]) == (v1["train_loss"], v2["train_loss"])

    text = lv("params", "diff", "v1.0", "v2.0").stdout
    assert "train.learning_rate" in text and "2e-05" in text and "0.001" in text, text
    assert "train.batch_size" not in text  # unchanged params are left out
    ours = json.loads(lv("params", "diff", "v1.0", "v2.0", "--json").stdout)
    theirs = json.loads(dvc("params", "diff", "v1.0", "v2.0", "--json").stdout)
    assert ours == theirs
    lr = ours["params.yaml"]["train.learning_rate"]
    assert (lr["old"], lr["new"]) == (2e-05, 0.001)


def test_target_options_select_the_right_stages(guide_repo: Path, lv: Runner, runlog: Path) -> None:
    """--dry, -s, --downstream and -f, on the guide's pipeline."""
    dry = repro_json(lv, "--dry")
    assert by_action(dry, "would-run") == GUIDE_STAGES
    assert ran_names(runlog) == [] and not (guide_repo / "dvc.lock").exists()
    repro_json(lv)
    clear_log(runlog)
    assert by_action(repro_json(lv, "-s", "-f", "train"), "ran") == ["train"]
    assert by_action(repro_json(lv, "-f", "--downstream", "preprocess"), "ran") == ["preprocess", "train", "evaluate"]
    assert by_action(repro_json(lv, "-f"), "ran") == GUIDE_STAGES
    assert ran_names(runlog) == ["train", "preprocess", "train", "evaluate", *GUIDE_STAGES]
