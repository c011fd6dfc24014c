"""When things go wrong: a failing stage keeps its last good dvc.lock entry and commits nothing,
what needs it does not run, --keep-going runs the other branches; the run cache restores earlier
outputs; Ctrl-C leaves a consistent repository that a rerun finishes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import Runner
from tests.pipelines._support import (
    TWO_BRANCHES,
    actions,
    by_action,
    clear_log,
    lv_stage_status,
    ran_names,
    repro_json,
    started,
    started_order,
    write,
    write_step_script,
    write_two_branches,
)


def _setup(repo: Path, lv: Runner, b_flags: str = "") -> None:
    """TWO_BRANCHES: a -> b -> c and x -> y."""
    lv("init")
    write_two_branches(repo, b_flags)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _in_cache(repo: Path, oid: str) -> bool:
    return (repo / ".dvc/cache/files/md5" / oid[:2] / oid[2:]).exists()


def _lock(repo: Path) -> dict:
    return yaml.safe_load((repo / "dvc.lock").read_text())["stages"]


def _break_b(repo: Path) -> None:
    write(repo, "dvc.yaml", TWO_BRANCHES.format(b_flags=" --fail"))


def test_failing_stage_keeps_last_good_entry_and_stops_downstream(git_repo: Path, lv: Runner, runlog: Path) -> None:
    _setup(git_repo, lv)
    repro_json(lv)
    good_lock = (git_repo / "dvc.lock").read_bytes()
    good_b = _lock(git_repo)["b"]
    _break_b(git_repo)
    write(git_repo, "seed.txt", "seed 2\n")
    clear_log(runlog)

    proc = lv("repro", "--json", check=False)
    assert proc.returncode != 0
    result = json.loads(proc.stdout)
    got = actions(result)
    assert got["a"] == "ran" and got["b"] == "failed"
    assert got.get("c") in (None, "skipped")
    assert "c" not in ran_names(runlog) and "c" not in started(runlog)
    lock = _lock(git_repo)
    assert lock["b"] == good_b  # the last good entry, untouched
    assert lock["a"]["deps"][0]["md5"] == _md5(git_repo / "seed.txt")  # a's success is recorded
    # the partial output b left behind is not committed to the cache
    assert "partial" in (git_repo / "out/b.txt").read_text()
    assert not _in_cache(git_repo, _md5(git_repo / "out/b.txt"))
    status = lv_stage_status(lv)
    assert status["b"]["changed"] and not status["a"]["changed"]
    # the text form names the failing stage on stderr
    proc = lv("repro", check=False)
    assert proc.returncode != 0
    assert "error: stage 'b' failed" in proc.stderr
    assert (git_repo / "dvc.lock").read_bytes() != good_lock  # only a's entry moved
    assert _lock(git_repo)["b"] == good_b


def test_without_keep_going_later_branches_do_not_run(git_repo: Path, lv: Runner, runlog: Path) -> None:
    _setup(git_repo, lv, " --fail")
    proc = lv("repro", "--json", check=False)
    assert proc.returncode != 0
    got = actions(json.loads(proc.stdout))
    assert got["b"] == "failed"
    order = started_order(runlog)
    assert order[-1] == "b", order  # with -j 1, nothing starts after b failed
    assert "c" not in order
    assert set(_lock(git_repo)) == set(order[:-1])  # what finished before b failed is recorded


def test_keep_going_runs_the_independent_branch(git_repo: Path, lv: Runner, runlog: Path) -> None:
    _setup(git_repo, lv, " --fail")
    proc = lv("repro", "--json", "--keep-going", check=False)
    assert proc.returncode != 0
    got = actions(json.loads(proc.stdout))
    assert got["a"] == "ran" and got["b"] == "failed"
    assert got["x"] == "ran" and got["y"] == "ran"
    assert got["c"] == "skipped"
    assert sorted(ran_names(runlog)) == ["a", "b", "x", "y"]  # b logs before exiting 3
    assert set(_lock(git_repo)) == {"a", "x", "y"}
    assert not (git_repo / "out/c.txt").exists()


PARAM_STAGE = """\
stages:
  fit:
    cmd: python step.py fit out/model.txt params.yaml
    params: [train.lr]
    outs: [out/model.txt]
  report:
    cmd: python step.py report out/report.txt out/model.txt
    deps: [out/model.txt]
    outs: [out/report.txt]
"""


def test_run_cache_restores_instead_of_running(git_repo: Path, lv: Runner, runlog: Path) -> None:
    lv("init")
    write(git_repo, "dvc.yaml", PARAM_STAGE)
    write(git_repo, "params.yaml", "train:\n  lr: 0.1\n")
    write_step_script(git_repo)
    repro_json(lv)
    first = {p: (git_repo / p).read_bytes() for p in ("out/model.txt", "out/report.txt")}
    first_lock = (git_repo / "dvc.lock").read_bytes()

    write(git_repo, "params.yaml", "train:\n  lr: 0.2\n")
    assert by_action(repro_json(lv), "ran") == ["fit", "report"]
    assert (git_repo / "out/model.txt").read_bytes() != first["out/model.txt"]

    write(git_repo, "params.yaml", "train:\n  lr: 0.1\n")
    clear_log(runlog)
    result = repro_json(lv)
    assert actions(result) == {"fit": "restored", "report": "restored"}
    assert ran_names(runlog) == []
    assert {p: (git_repo / p).read_bytes() for p in first} == first
    assert (git_repo / "dvc.lock").read_bytes() == first_lock
    assert not any(s["changed"] for s in lv_stage_status(lv).values())

    # --no-run-cache really runs
    write(git_repo, "params.yaml", "train:\n  lr: 0.2\n")
    repro_json(lv)
    write(git_repo, "params.yaml", "train:\n  lr: 0.1\n")
    clear_log(runlog)
    assert by_action(repro_json(lv, "--no-run-cache"), "ran") == ["fit", "report"]
    assert ran_names(runlog) == ["fit", "report"]


SLEEPER = """\
stages:
  quick:
    cmd: python step.py quick out/quick.txt seed.txt
    deps: [seed.txt]
    outs: [out/quick.txt]
  slow:
    cmd: python step.py slow out/slow.txt out/quick.txt --sleep {sleep}
    deps: [out/quick.txt]
    outs: [out/slow.txt]
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _signal_state(pid: int) -> str:
    """The signal lines of /proc/PID/status (SigBlk, SigIgn, SigCgt: which are blocked, ignored, caught)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return " ".join(line.strip() for line in f if line.startswith(("SigBlk", "SigIgn", "SigCgt")))
    except OSError as exc:
        return f"no status ({exc})"


@pytest.mark.slow
def test_ctrl_c_leaves_a_consistent_repo(
    git_repo: Path, lv: Runner, env: dict[str, str], runlog: Path
) -> None:
    lv("init")
    write(git_repo, "dvc.yaml", SLEEPER.format(sleep=0))
    write(git_repo, "seed.txt", "seed 1\n")
    write_step_script(git_repo)
    repro_json(lv)
    good = _lock(git_repo)
    write(git_repo, "dvc.yaml", SLEEPER.format(sleep=30))
    write(git_repo, "seed.txt", "seed 2\n")
    Path(str(runlog) + ".started").unlink()

    # A foreground job of a terminal: SIGINT at its default. A test run started in the background
    # by a shell without job control inherits SIGINT ignored, and Python then never turns it into
    # KeyboardInterrupt (as it should: a background job is not interrupted by Ctrl-C).
    proc = subprocess.Popen(
        [*lv.argv0, "repro"], cwd=git_repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        while "slow" not in started(runlog):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the slow stage never started"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the foreground group
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"repro still running 20 s after SIGINT; {_signal_state(proc.pid)}") from None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0
    slow_pid = started(runlog)["slow"]
    deadline = time.monotonic() + 5
    while _alive(slow_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(slow_pid), "the interrupted stage's command is still running"

    lock = _lock(git_repo)  # parses
    assert lock["slow"] == good["slow"]  # no entry beyond the last good one
    assert lock["quick"]["deps"][0]["md5"] == _md5(git_repo / "seed.txt")  # finished before ^C
    status = lv_stage_status(lv)
    assert status["slow"]["changed"] and not status["quick"]["changed"]

    write(git_repo, "dvc.yaml", SLEEPER.format(sleep=0))
    result = repro_json(lv)
    assert actions(result) == {"quick": "unchanged", "slow": "ran"}
    assert not any(s["changed"] for s in lv_stage_status(lv).values())
    # last, the message: one line saying it was interrupted (exit 130, like a shell's ^C)
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1].startswith("error: ") and "interrupt" in err, err
