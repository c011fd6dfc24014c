"""labvault and the real dvc agree on pipelines: each sees the other's repro as up to date, and
both write the same dvc.lock, byte for byte, for the same pipeline and data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.pipelines._support import (
    GUIDE_STAGES,
    by_action,
    clear_log,
    copy_repo,
    lv_stage_status,
    mtimes,
    ran_names,
    repro_json,
    set_param,
    write,
    write_guide_pipeline,
    write_two_branches,
)

pytestmark = pytest.mark.interop

OUTPUTS = [
    "data/raw/dataset.zip",
    "data/processed/train.csv",
    "data/processed/val.csv",
    "data/processed/test.csv",
    "models/final/model.pth",
    "outputs/metrics/train_metrics.json",
    "outputs/metrics/test_metrics.json",
]

# A second pipeline for the lock comparison: a folder output, an executable output, a list of
# commands, a params file other than params.yaml (whole file and single keys), a dict-valued param,
# a wdir, a persistent output and an output kept out of the cache.
EXTRA_DVC_YAML = """\
stages:
  shards:
    cmd:
      - python -c "import os; os.makedirs('data/shards/part b', exist_ok=True)"
      - python make_shards.py
    deps:
      - make_shards.py
    params:
      - config/shard.json:
          - shards.count
          - shards.opts
      - seed
    outs:
      - data/shards
      - bin/run.sh
  summary:
    wdir: reports
    cmd: python ../summarize.py
    deps:
      - ../data/shards
      - ../summarize.py
    params:
      - ../config/shard.json:
    outs:
      - summary.txt:
          persist: true
      - uncached.txt:
          cache: false
"""

MAKE_SHARDS = """\
import json, os, stat, yaml
cfg = json.load(open("config/shard.json"))["shards"]
seed = yaml.safe_load(open("params.yaml"))["seed"]
for i in range(cfg["count"]):
    sub = "part b" if i % 2 else "part_a"
    os.makedirs(f"data/shards/{sub}", exist_ok=True)
    with open(f"data/shards/{sub}/shard-{i}.txt", "w") as f:
        f.write(f"shard {i} seed {seed}\\n" * (i + 1))
os.makedirs("bin", exist_ok=True)
with open("bin/run.sh", "w") as f:
    f.write("#!/bin/sh\\necho run\\n")
os.chmod("bin/run.sh", 0o755)
"""

SUMMARIZE = """\
import os
names = sorted(os.path.join(r, n) for r, _, fs in os.walk("../data/shards") for n in fs)
open("summary.txt", "w").write("\\n".join(os.path.relpath(n, "../data/shards") for n in names) + "\\n")
open("uncached.txt", "w").write(f"{len(names)} shards\\n")
"""


def write_extra_pipeline(repo: Path) -> None:
    write(repo, "dvc.yaml", EXTRA_DVC_YAML)
    write(repo, "params.yaml", "seed: 7\nunused: x\n")
    write(repo, "config/shard.json", json.dumps({"shards": {"count": 5, "opts": {"b": [1, 2], "a": True}}, "z": 1}))
    write(repo, "make_shards.py", MAKE_SHARDS)
    write(repo, "summarize.py", SUMMARIZE)
    write(repo, "reports/README", "summaries land here\n")


def _commit(git: Runner, cwd: Path | None = None) -> None:
    git("add", "-A", cwd=cwd)
    git("commit", "-q", "--no-verify", "-m", "pipeline", cwd=cwd)


def _gitignores(repo: Path) -> dict[str, str]:
    return {
        p.relative_to(repo).as_posix(): p.read_text()
        for p in sorted(repo.rglob(".gitignore"))
        if ".git" not in p.relative_to(repo).parts[:1]
    }


def test_dvc_sees_labvault_repro_as_up_to_date(
    git_repo: Path, lv: Runner, dvc: Runner, runlog: Path
) -> None:
    lv("init")
    write_guide_pipeline(git_repo)
    repro_json(lv)
    assert json.loads(dvc("status", "--json").stdout) == {}
    before = mtimes(git_repo, OUTPUTS)
    lock = (git_repo / "dvc.lock").read_bytes()
    clear_log(runlog)
    out = dvc("repro").stdout
    assert "Running stage" not in out, out
    for name in GUIDE_STAGES:
        assert f"Stage '{name}' didn't change, skipping" in out
    assert ran_names(runlog) == []
    assert mtimes(git_repo, OUTPUTS) == before
    assert (git_repo / "dvc.lock").read_bytes() == lock


def test_labvault_sees_dvc_repro_as_up_to_date(
    git_repo: Path, lv: Runner, dvc: Runner, git: Runner, tmp_path: Path, runlog: Path
) -> None:
    dvc("init", "-q")
    write_guide_pipeline(git_repo)
    _commit(git)
    fresh = copy_repo(git_repo, tmp_path / "fresh")
    dvc("repro", cwd=fresh)
    assert ran_names(runlog) == GUIDE_STAGES
    status = lv_stage_status(lv, cwd=fresh)
    assert list(status) == GUIDE_STAGES
    assert [a for a, s in status.items() if s["changed"]] == []
    before = mtimes(fresh, OUTPUTS)
    lock = (fresh / "dvc.lock").read_bytes()
    clear_log(runlog)
    result = repro_json(lv, cwd=fresh)
    assert by_action(result, "unchanged") == GUIDE_STAGES
    assert ran_names(runlog) == []
    assert mtimes(fresh, OUTPUTS) == before
    assert (fresh / "dvc.lock").read_bytes() == lock

    # and a param change seen the same way by both
    set_param(fresh, "val_split: 0.1", "val_split: 0.2")
    changed = [a for a, s in lv_stage_status(lv, cwd=fresh).items() if s["changed"]]
    assert changed == ["preprocess"]
    assert list(json.loads(dvc("status", "--json", cwd=fresh).stdout)) == ["preprocess"]


@pytest.mark.slow
@pytest.mark.parametrize("pipeline", ["guide", "extra", "two_branches"])
def test_lock_is_byte_identical_to_dvcs(
    pipeline: str, git_repo: Path, lv: Runner, dvc: Runner, git: Runner, tmp_path: Path
) -> None:
    lv("init")
    {"guide": write_guide_pipeline, "extra": write_extra_pipeline, "two_branches": write_two_branches}[pipeline](
        git_repo
    )
    _commit(git)
    theirs = copy_repo(git_repo, tmp_path / "theirs")

    repro_json(lv)
    dvc("repro", cwd=theirs)
    assert (git_repo / "dvc.lock").read_text() == (theirs / "dvc.lock").read_text()
    assert (git_repo / "dvc.lock").read_bytes() == (theirs / "dvc.lock").read_bytes()
    assert _gitignores(git_repo) == _gitignores(theirs)

    # a second round after a change: only the changed entries are rewritten, identically
    if pipeline == "guide":
        set_param(git_repo, "learning_rate: 2e-5", "learning_rate: 0.0003")
        set_param(theirs, "learning_rate: 2e-5", "learning_rate: 0.0003")
    elif pipeline == "extra":
        write(git_repo, "params.yaml", "seed: 8\nunused: x\n")
        write(theirs, "params.yaml", "seed: 8\nunused: x\n")
    else:
        write(git_repo, "other.txt", "other 2\n")
        write(theirs, "other.txt", "other 2\n")
    repro_json(lv)
    dvc("repro", cwd=theirs)
    assert (git_repo / "dvc.lock").read_text() == (theirs / "dvc.lock").read_text()
    assert (git_repo / "dvc.lock").read_bytes() == (theirs / "dvc.lock").read_bytes()
    assert json.loads(dvc("status", "--json").stdout) == {}
    assert not any(s["changed"] for s in lv_stage_status(lv, cwd=theirs).values())
