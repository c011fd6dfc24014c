"""``list URL`` and ``du``: dvc's size units, bad input as one line, and a repository read through a
git URL without a checkout (the side-by-side comparison with dvc is tests/sidebyside/test_list_du.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from labvault.cli.listing_commands import dvc_size
from tests.conftest import Runner


@pytest.mark.parametrize(("value", "shown"), [
    (0, "0"), (2, "2"), (1000, "1000"), (1023, "1023"), (1024, "1.00k"), (3000, "2.93k"), (4096, "4.00k"),
    (10_230, "9.99k"), (10_235, "10.0k"), (102_348, "99.9k"), (102_400, "100k"), (1_023_487, "999k"),
    (1_023_488, "0.98M"), (2_500_000, "2.38M"), (5 << 30, "5.00G"),
])
def test_sizes_in_dvc_units(value: int, shown: str) -> None:
    assert dvc_size(value) == shown


def _one_line(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for w in words:
        assert w in lines[0]


@pytest.fixture
def repo(git_repo: Path, lv: Runner, git: Runner, make_tree) -> Path:  # type: ignore[no-untyped-def]
    lv("init")
    make_tree(git_repo, {"data/a.txt": "a\n", "data/sub/b.txt": "bb\n", "notes.md": "n\n"})
    lv("add", "data")
    git("add", "-A")
    git("commit", "-qm", "v1")
    return git_repo


def test_bad_input_is_one_line(repo: Path, lv: Runner) -> None:
    _one_line(lv("list", ".", "nope", check=False), 2, "nope does not exist")
    _one_line(lv("list", ".", "--tree", "--json", check=False), 2, "--tree and --json")
    _one_line(lv("list", "-R", check=False), 2, "give its URL")
    _one_line(lv("du", ".", "data/none", check=False), 2, "data/none does not exist")
    _one_line(lv("list", ".", "--rev", "no-such-rev", check=False), 7, "no-such-rev")


def test_a_revision_is_listed_without_the_workspace(repo: Path, lv: Runner, tmp_path: Path) -> None:
    (repo / "notes.md").write_text("changed after the commit\n")
    (repo / "untracked.txt").write_text("u\n")
    listed = json.loads(lv("list", str(repo), "--rev", "HEAD", "-R", "--json", cwd=tmp_path).stdout)
    by_path = {e["path"]: e for e in listed}
    assert set(by_path) == {".dvcignore", ".gitignore", "data.dvc", "data/a.txt", "data/sub/b.txt", "notes.md"}
    assert by_path["notes.md"]["size"] == 2  # HEAD's copy, not the workspace's
    assert by_path["data/sub/b.txt"]["isout"] and by_path["data/sub/b.txt"]["md5"]
    workspace = json.loads(lv("list", ".", "--json").stdout)
    assert "untracked.txt" in {e["path"] for e in workspace}
    rows = json.loads(lv("du", ".", "data", "--json").stdout)
    assert rows == [{"path": "data/a.txt", "size": 2}, {"path": "data/sub", "size": 3}, {"path": "data", "size": 5}]
    assert lv("du", ".", "-s").stdout.split() == [lv("du", ".").stdout.split()[-1]]


def test_a_git_url_without_a_remote_names_what_is_missing(repo: Path, lv: Runner, tmp_path: Path) -> None:
    listed = json.loads(lv("list", f"file://{repo}", "--json", cwd=tmp_path).stdout)
    assert {e["path"] for e in listed} == {".dvcignore", ".gitignore", "data", "data.dvc", "notes.md"}
    _one_line(lv("list", f"file://{repo}", "data", "-R", check=False, cwd=tmp_path), 3, ".dir", "remote")


def test_a_hostile_pointer_lists_nothing_outside(repo: Path, lv: Runner, git: Runner) -> None:
    """A clone's pointer naming ../../etc/passwd: at a revision the pointer file is listed and its
    output is not (nothing outside the repository is ever shown or read); the workspace refuses
    the repository with one line, as every command does."""
    (repo / "evil.dvc").write_text("outs:\n- md5: d41d8cd98f00b204e9800998ecf8427e\n  size: 0\n  hash: md5\n"
                                   "  path: ../../etc/passwd\n")
    git("add", "evil.dvc")
    git("commit", "-qm", "evil")
    listed = {e["path"] for e in json.loads(lv("list", ".", "--rev", "HEAD", "-R", "--json").stdout)}
    assert "evil.dvc" in listed and not any("passwd" in p or p.startswith("..") for p in listed)
    _one_line(lv("list", ".", check=False), 2, "evil.dvc", "leaves the repository")
