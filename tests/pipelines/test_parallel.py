"""Parallel repro (-j N): independent stages overlap in time (checked on the timestamps the stages
record, not on wall time), dependent ones never do, and the dvc.lock is the same as a serial run's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.pipelines._support import by_action, repro_json, runs, write, write_step_script

TWO_SLEEPERS = """\
stages:
  left:
    cmd: python step.py left out/left.txt seed.txt --sleep 1
    deps: [seed.txt]
    outs: [out/left.txt]
  right:
    cmd: python step.py right out/right.txt seed.txt --sleep 1
    deps: [seed.txt]
    outs: [out/right.txt]
  join:
    cmd: python step.py join out/join.txt out/left.txt out/right.txt
    deps: [out/left.txt, out/right.txt]
    outs: [out/join.txt]
"""


def _setup(repo: Path, lv: Runner, dvc_yaml: str) -> None:
    lv("init")
    write(repo, "dvc.yaml", dvc_yaml)
    write(repo, "seed.txt", "seed\n")
    write_step_script(repo)


def _intervals(runlog: Path) -> dict[str, tuple[float, float]]:
    return {name: (start, end) for name, start, end in runs(runlog)}


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


@pytest.mark.slow
def test_independent_stages_overlap_with_two_jobs(git_repo: Path, lv: Runner, runlog: Path) -> None:
    _setup(git_repo, lv, TWO_SLEEPERS)
    result = repro_json(lv, "-j", "2")
    assert sorted(by_action(result, "ran")) == ["join", "left", "right"]
    got = _intervals(runlog)
    # each slept 1 s; run side by side they share most of that second
    assert _overlap(got["left"], got["right"]) > 0.5, got
    assert got["join"][0] >= max(got["left"][1], got["right"][1])


@pytest.mark.slow
def test_one_job_runs_one_stage_at_a_time(git_repo: Path, lv: Runner, runlog: Path) -> None:
    _setup(git_repo, lv, TWO_SLEEPERS.replace("--sleep 1", "--sleep 0.3"))
    repro_json(lv)  # -j 1 is the default
    got = _intervals(runlog)
    assert _overlap(got["left"], got["right"]) < 0, got


# b is slower than c, so with two jobs c finishes (and is recorded) first.
DIAMOND_SLOW_B = """\
stages:
  a:
    cmd: python step.py a out/a.txt seed.txt
    deps: [seed.txt]
    outs: [out/a.txt]
  b:
    cmd: python step.py b out/b.txt out/a.txt --sleep 0.8
    deps: [out/a.txt]
    outs: [out/b.txt]
  c:
    cmd: python step.py c out/c.txt out/a.txt
    deps: [out/a.txt]
    outs: [out/c.txt]
  d:
    cmd: python step.py d out/d.txt out/b.txt out/c.txt
    deps: [out/b.txt, out/c.txt]
    outs: [out/d.txt]
"""


@pytest.mark.slow
@pytest.mark.interop
def test_lock_after_parallel_run_equals_dvcs(
    git_repo: Path, lv: Runner, dvc: Runner, tmp_path: Path, runlog: Path
) -> None:
    """The dvc.lock must not depend on which parallel stage happened to finish first."""
    _setup(git_repo, lv, DIAMOND_SLOW_B)
    theirs = tmp_path / "theirs"
    shutil.copytree(git_repo, theirs, symlinks=True)
    repro_json(lv, "-j", "2")
    assert [name for name, _, _ in runs(runlog)][:3] == ["a", "c", "b"]  # c really finished first
    dvc("repro", cwd=theirs)
    assert (git_repo / "dvc.lock").read_text() == (theirs / "dvc.lock").read_text()
