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
NAMES = ["main", "b", "t1", "HEAD", "HEAD~1", "main^", "b~1", "t1^"]

ops = st.lists(st.one_of(
    st.just(("commit",)),
    st.tuples(st.just("branch"), st.sampled_from(["b"]), st.sampled_from(["HEAD", "HEAD~1", "main"])),
    st.tuples(st.just("tag"), st.sampled_from(["t1"]), st.sampled_from(["HEAD", "HEAD~1"])),
    st.tuples(st.just("untag"), st.just("t1")),
    st.tuples(st.just("switch"), st.sampled_from(["main", "b"])),
    st.just(("pack",)),
), min_size=1, max_size=8)


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


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
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
            _git(repo, "tag", "-f", op[1], op[2])
        elif op[0] == "untag":
            subprocess.run(["git", "tag", "-d", op[1]], cwd=repo, env=ENV, capture_output=True)
        elif op[0] == "switch":
            subprocess.run(["git", "checkout", "-q", op[1]], cwd=repo, env=ENV, capture_output=True)
        elif op[0] == "pack":
            _git(repo, "pack-refs", "--all")
        for name in NAMES:
            assert _memo(git, name) == _truth(git, name), (op, name)
