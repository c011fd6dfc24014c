"""The stat cache is only a cache: when it cannot be written (full disk, read-only folder) or read
(damaged file), add, commit, checkout and status still finish correctly, with one warning at most,
and never a traceback, on the first run or any retry."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI, Runner


def _mount(where: Path, options: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if proc.returncode != 0:
        if IN_CI:
            pytest.fail(f"cannot mount a tmpfs at {where}: {proc.stderr!r}")
        pytest.skip("needs root to mount a small tmpfs")


@pytest.fixture
def state_dir(git_repo: Path, lv: Runner) -> Iterator[Path]:
    lv("init")
    d = git_repo / ".dvc" / "tmp" / "labvault"
    yield d
    subprocess.run(["umount", "-l", str(d)], check=False, capture_output=True)


def _no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    assert len([ln for ln in proc.stderr.splitlines() if "stat cache" in ln]) <= 1, proc.stderr


def _many_files(root: Path, n: int, tag: str = "") -> None:
    d = root / "data"
    d.mkdir(exist_ok=True)
    for i in range(n):
        (d / f"file-with-a-longish-name-{i:05}.txt").write_text(f"{tag}{i}\n")


def _check_all_work(repo: Path, lv: Runner) -> None:
    for _ in range(2):  # and again: a retry must not fail either
        _no_traceback(lv("add", "data"))
        _no_traceback(lv("status"))
    assert (repo / "data.dvc").is_file()
    out = json.loads(lv("status", "--json").stdout)
    assert out["clean"], out
    (repo / "data" / "file-with-a-longish-name-00001.txt").write_text("changed\n")
    out = json.loads(lv("status", "--json").stdout)
    assert [o["modified"] for o in out["outputs"]] == [["file-with-a-longish-name-00001.txt"]]
    _no_traceback(lv("commit"))
    (repo / "data" / "file-with-a-longish-name-00002.txt").unlink()
    _no_traceback(lv("checkout"))
    assert (repo / "data" / "file-with-a-longish-name-00002.txt").read_text() == "2\n"
    assert json.loads(lv("status", "--json").stdout)["clean"]
    assert lv("verify", check=False).returncode == 0


def test_full_disk_while_the_stat_cache_grows(state_dir: Path, git_repo: Path, lv: Runner) -> None:
    _mount(state_dir, "size=96k")
    _many_files(git_repo, 1500)  # its snapshot alone is larger than the file system
    _check_all_work(git_repo, lv)


def test_read_only_stat_cache_folder(state_dir: Path, git_repo: Path, lv: Runner) -> None:
    _mount(state_dir, "ro,size=64k")
    _many_files(git_repo, 50)
    _check_all_work(git_repo, lv)


def test_damaged_stat_cache(state_dir: Path, git_repo: Path, lv: Runner) -> None:
    _many_files(git_repo, 50)
    _no_traceback(lv("add", "data"))
    db = state_dir / "state.sqlite"
    with open(db, "r+b") as f:  # keep the header, scramble the pages
        f.seek(100)
        f.write(os.urandom(db.stat().st_size - 100))
    _check_all_work(git_repo, lv)
