"""Temp files a killed labvault left in data folders (``.NAME.PID-RAND.lvtmp``): the next command
that walks the folder deletes those whose writer is gone, keeps (and ignores) those of a writer
still running, and treats anything not of labvault's exact temp form as data."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labvault.fsutil import is_exact_tmp_name, tmp_owner_alive
from tests.conftest import Runner


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def data_repo(git_repo: Path, lv: Runner) -> Path:
    lv("init")
    (git_repo / "data" / "sub").mkdir(parents=True)
    (git_repo / "data" / "a.txt").write_text("a\n")
    (git_repo / "data" / "sub" / "b.txt").write_text("b\n")
    lv("add", "data")
    return git_repo


def _status(lv: Runner) -> dict[str, object]:
    result: dict[str, object] = json.loads(lv("status", "--json").stdout)
    return result


@pytest.mark.parametrize("command", [["status", "--json"], ["add", "data"], ["checkout"], ["commit"]])
def test_a_dead_writers_temp_file_is_removed_by_the_next_command(data_repo: Path, lv: Runner, command: list[str]) -> None:
    leftover = data_repo / "data" / "sub" / f".b.txt.{_dead_pid()}-0123abcd.lvtmp"
    leftover.write_bytes(b"half a file")
    lv(*command)
    assert not leftover.exists()
    assert _status(lv)["clean"]


def test_a_running_writers_temp_file_is_kept_and_ignored(data_repo: Path, lv: Runner) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        leftover = data_repo / "data" / f".a.txt.{sleeper.pid}-89abcdef.lvtmp"
        leftover.write_bytes(b"being written")
        assert _status(lv)["clean"]  # it belongs to the running command, not to the data
        assert leftover.exists()
        lv("add", "data")
        assert leftover.exists()
        assert "lvtmp" not in (data_repo / "data.dvc").read_text()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_pid_reuse_is_detected_from_the_start_time(tmp_path: Path) -> None:
    """The pid in a temp file's name now belongs to a process started after the file was made
    (more than the 2 s margin): its writer is gone, whatever runs under that pid now."""
    target = tmp_path / "made-early"
    target.write_bytes(b"")
    time.sleep(3.1)
    later = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not tmp_owner_alive(f".z.{later.pid}-00000000.lvtmp", str(target))
    finally:
        later.kill()
        later.wait()
    sleeper_first = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        newer = tmp_path / f".w.{sleeper_first.pid}-00000000.lvtmp"
        newer.write_bytes(b"")
        assert tmp_owner_alive(newer.name, str(newer))  # made after the process started: maybe its own
    finally:
        sleeper_first.kill()
        sleeper_first.wait()


def test_only_the_exact_temp_form_is_set_aside(data_repo: Path, lv: Runner) -> None:
    assert is_exact_tmp_name(".a.txt.123-0123abcd.lvtmp")
    for name in (".x.lvtmp", ".a.txt.abc-0123abcd.lvtmp", ".a.txt.123-0123abc.lvtmp", "a.txt.123-0123abcd.lvtmp"):
        assert not is_exact_tmp_name(name), name
    mine = data_repo / "data" / ".notes.lvtmp"  # a user's own file with that suffix: data
    mine.write_text("mine\n")
    status = _status(lv)
    assert not status["clean"]
    assert mine.exists()
