"""``labvault data status`` as a person reads it: the sections dvc prints, in dvc's order, with
the hints; folder outputs end in ``/``; exit 0 whatever it finds. (The JSON is compared with the
real dvc on generated histories in tests/sidebyside/test_data_status.py.)"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.conftest import Runner


def _setup(root: Path, lv: Runner, git: Runner) -> None:
    lv("init")
    (root / "d").mkdir()
    (root / "d" / "a.txt").write_text("a\n")
    (root / "d" / "b.txt").write_text("b\n")
    (root / "x.txt").write_text("x\n")
    lv("add", "d", "x.txt")
    git("add", "-A")
    git("commit", "-q", "-m", "data")


def test_clean_then_each_section(git_repo: Path, lv: Runner, git: Runner) -> None:
    _setup(git_repo, lv, git)
    assert lv("data", "status").stdout == "No changes.\n"

    (git_repo / "d" / "a.txt").write_text("a, edited\n")  # uncommitted: the workspace moved on
    digest = hashlib.md5(b"x\n").hexdigest()  # not in cache: x.txt's object is lost
    obj = git_repo / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]
    obj.chmod(0o644)
    obj.unlink()
    (git_repo / "loose.txt").write_text("neither git nor labvault\n")
    out = lv("data", "status", "--untracked-files").stdout.splitlines()
    assert out == [
        "Not in cache:",
        '  (use "labvault fetch <file>..." to download files)',
        "        x.txt",
        "",
        "Uncommitted changes:",
        '  (use "labvault commit <file>..." to record them)',
        '  (use "labvault checkout <file>..." to discard them)',
        "        modified: d/",
        "",
        "Untracked files:",
        '  (use "git add <file>..." or "labvault add <file>..." to track them)',
        "        loose.txt",
        '(there are other changes not tracked by labvault, use "git status" to see)',
    ]
    granular = json.loads(lv("data", "status", "--granular", "--json").stdout)
    assert granular == {"not_in_cache": ["x.txt"], "uncommitted": {"modified": ["d/", "d/a.txt"]}}

    lv("add", "d")  # recorded now, not yet in git: a committed change
    assert json.loads(lv("data", "status", "--json").stdout) == {
        "not_in_cache": ["x.txt"], "committed": {"modified": ["d/"]}}


def test_no_commit_yet(git_repo: Path, lv: Runner) -> None:
    lv("init")  # its files are new to git: changes git sees
    assert lv("data", "status").stdout.splitlines() == [
        "No changes in an empty git repo.",
        '(there are changes not tracked by labvault, use "git status" to see)',
    ]
    (git_repo / "y.txt").write_text("y\n")
    lv("add", "y.txt")
    assert json.loads(lv("data", "status", "--json").stdout) == {"committed": {"added": ["y.txt"]}}
