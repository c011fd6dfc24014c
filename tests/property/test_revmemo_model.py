"""The remembered revision answers (workspace/revmemo.py) against asking git every time, over
random sequences of commits, branch moves, tag changes and checkouts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault.errors import ScmError
from labvault.workspace import revmemo
from labvault.workspace.scm import Git

ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1"}
NAMES = ["main", "b", "t1", "HEAD", "HEAD~1", "main^", "b~1", "t1^", "origin", "origin/main", "origin~1", "x", "stray"]

ops = st.lists(st.one_of(
    st.just(("commit",)),
    st.tuples(st.just("branch"), st.sampled_from(["b"]), st.sampled_from(["HEAD", "HEAD~1", "main"])),
    st.tuples(st.just("tag"), st.sampled_from(["t1"]), st.sampled_from(["HEAD", "HEAD~1"])),
    st.tuples(st.just("untag"), st.just("t1")),
    st.tuples(st.just("switch"), st.sampled_from(["main", "b"])),
    st.just(("pack",)),
    # a remote's branch moving under its symbolic HEAD (`origin` resolves through refs/remotes/origin/HEAD)
    st.tuples(st.just("remote"), st.sampled_from(["HEAD", "HEAD~1", "main"])),
    st.just(("remote-head",)),
    # one name as a tag and a branch (the tag wins), either moved or deleted
    st.tuples(st.just("x"), st.sampled_from(["tag", "branch", "untag", "unbranch"]), st.sampled_from(["HEAD", "HEAD~1"])),
    # files in the git folder that look like refs, or are broken ones
    st.tuples(st.just("stray"), st.sampled_from(["sha", "garbage", "none"])),
    st.tuples(st.just("broken"), st.sampled_from(["refs/tags/x", "refs/tags/t1", "refs/remotes/origin/main"])),
), min_size=1, max_size=10)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=ENV, check=True, capture_output=True)


def _truth(git: Git, name: str) -> str | None:
    try:
        return git.resolve(name)
    except ScmError:
        return None


def _memo(git: Git, name: str) -> str | None:
    try:
        return revmemo.resolve(git, name)
    except ScmError:
        return None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=ops)
def test_remembered_revisions_match_git(tmp_path_factory: pytest.TempPathFactory, sequence: list[tuple[str, ...]]) -> None:
    repo = tmp_path_factory.mktemp("revs")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "0")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "1")
    git = Git(repo)
    revmemo.forget()
    for op in sequence:
        if op[0] == "commit":
            _git(repo, "commit", "-q", "--allow-empty", "-m", "c")
        elif op[0] == "branch":
            # refused by git while b is checked out: then nothing changes, which is a case too
            subprocess.run(["git", "branch", "-f", op[1], op[2]], cwd=repo, env=ENV, capture_output=True)
        elif op[0] == "tag":
            subprocess.run(["git", "tag", "-f", op[1], op[2]], cwd=repo, env=ENV, capture_output=True)
        elif op[0] == "untag":
            subprocess.run(["git", "tag", "-d", op[1]], cwd=repo, env=ENV, capture_output=True)
        elif op[0] == "switch":
            subprocess.run(["git", "checkout", "-q", op[1]], cwd=repo, env=ENV, capture_output=True)
        elif op[0] == "pack":
            subprocess.run(["git", "pack-refs", "--all"], cwd=repo, env=ENV, capture_output=True)
        elif op[0] == "remote":
            subprocess.run(["git", "update-ref", "refs/remotes/origin/main", op[1]], cwd=repo, env=ENV,
                           capture_output=True)
        elif op[0] == "remote-head":
            _git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
        elif op[0] == "x":
            cmd = {"tag": ["tag", "-f", "x", op[2]], "branch": ["branch", "-f", "x", op[2]],
                   "untag": ["tag", "-d", "x"], "unbranch": ["branch", "-D", "x"]}[op[1]]
            subprocess.run(["git", *cmd], cwd=repo, env=ENV, capture_output=True)
        elif op[0] == "stray":
            stray = repo / ".git" / "stray"
            if op[1] == "none":
                stray.unlink(missing_ok=True)
            else:
                head = subprocess.run(["git", "rev-parse", "HEAD~1"], cwd=repo, env=ENV, capture_output=True,
                                      text=True, check=True).stdout
                stray.write_text(head if op[1] == "sha" else "not a ref\n")
        elif op[0] == "broken":
            ref = repo / ".git" / op[1]
            if ref.exists():  # a torn write: git skips the file and looks further
                ref.write_text("0" * 17 + "\n")
        for name in NAMES:
            assert _memo(git, name) == _truth(git, name), (op, name)


def _three_commits(repo: Path) -> Path:
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    for i in range(3):
        _git(repo, "commit", "-q", "--allow-empty", "-m", str(i))
    return repo


def test_a_remote_branch_moving_under_its_symbolic_head_is_seen(tmp_path: Path) -> None:
    """``origin`` resolves through ``refs/remotes/origin/HEAD`` (``ref: refs/remotes/origin/main``):
    when the remote's branch moves, the symbolic ref's own file does not change, its target does."""
    repo = _three_commits(tmp_path / "r")
    _git(repo, "update-ref", "refs/remotes/origin/main", "HEAD~2")
    _git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    git = Git(repo)
    revmemo.forget()
    for rev in ("HEAD~1", "HEAD", "HEAD~2"):
        _git(repo, "update-ref", "refs/remotes/origin/main", rev)
        for name in ("origin", "origin~0", "origin/HEAD"):
            assert _memo(git, name) == _truth(git, name), (rev, name)
    _git(repo, "pack-refs", "--all")  # the target now packed, its loose file gone
    _git(repo, "update-ref", "refs/remotes/origin/main", "HEAD~1")
    assert _memo(git, "origin") == _truth(git, "origin")


def test_a_broken_loose_ref_is_looked_past_as_git_does(tmp_path: Path) -> None:
    repo = _three_commits(tmp_path / "r")
    _git(repo, "tag", "x", "HEAD~2")
    _git(repo, "branch", "x", "HEAD~1")
    git = Git(repo)
    revmemo.forget()
    assert _memo(git, "x") == _truth(git, "x")
    (repo / ".git" / "refs" / "tags" / "x").write_text("0" * 17 + "\n")  # torn: git takes the branch
    assert _memo(git, "x") == _truth(git, "x")
    _git(repo, "branch", "-f", "x", "HEAD")
    assert _memo(git, "x") == _truth(git, "x")
