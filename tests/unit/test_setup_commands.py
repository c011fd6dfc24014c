"""``labvault install``: git hooks that keep the data in step with git (as ``dvc install``), run
by real git: a branch switch checks the data out, a push pushes it; another tool's hook is never
replaced. ``labvault root``: the repository's root from any folder inside it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import Runner, snapshot


def _repo(root: Path, lv: Runner, git: Runner) -> None:
    lv("init")
    git("commit", "-q", "-m", "init")


def test_hooks_are_written_once_and_foreign_ones_kept(git_repo: Path, lv: Runner, git: Runner) -> None:
    _repo(git_repo, lv, git)
    hooks = git_repo / ".git" / "hooks"
    (hooks / "pre-push").write_text("#!/bin/sh\necho another tool\n")
    before = {p.name: p.read_bytes() for p in hooks.iterdir()}
    r = lv("install", check=False)
    assert r.returncode == 2 and "pre-push hook exists already" in r.stderr
    assert {p.name: p.read_bytes() for p in hooks.iterdir()} == before  # nothing written
    (hooks / "pre-push").unlink()
    out = json.loads(lv("install", "--json").stdout)
    assert out["written"] == ["post-checkout", "pre-commit", "pre-push"] and out["present"] == []
    for name in out["written"]:
        text = (hooks / name).read_text()
        assert text.startswith("#!/bin/sh\nexec ") and f' git-hook {name} "$@"' in text
        assert os.access(hooks / name, os.X_OK)
    again = json.loads(lv("install", "--json").stdout)
    assert again["written"] == [] and again["present"] == ["post-checkout", "pre-commit", "pre-push"]


def test_git_checkout_brings_the_data_and_push_sends_it(git_repo: Path, lv: Runner, git: Runner,
                                                         tmp_path: Path) -> None:
    _repo(git_repo, lv, git)
    remote = tmp_path / "remote"
    lv("remote", "add", "-d", "store", str(remote))
    lv("install")
    (git_repo / "data").mkdir()
    (git_repo / "data" / "a.txt").write_text("v1\n")
    lv("add", "data")
    git("add", "-A")
    git("commit", "-q", "-m", "v1")  # the pre-commit hook runs status: the commit goes through
    git("tag", "v1")
    (git_repo / "data" / "a.txt").chmod(0o644)
    (git_repo / "data" / "a.txt").write_text("v2\n")
    (git_repo / "data" / "b.txt").write_text("new in v2\n")
    lv("add", "data")
    git("add", "-A")
    git("commit", "-q", "-m", "v2")

    git("checkout", "-q", "v1")  # post-checkout: the data follows
    assert snapshot(git_repo / "data", skip=()) == {"a.txt": b"v1\n"}
    git("checkout", "-q", "main")
    assert snapshot(git_repo / "data", skip=()) == {"a.txt": b"v2\n", "b.txt": b"new in v2\n"}
    git("checkout", "-q", "v1", "--", "data.dvc")  # a file checkout: the data is left alone
    assert snapshot(git_repo / "data", skip=()) == {"a.txt": b"v2\n", "b.txt": b"new in v2\n"}
    git("checkout", "-q", "main", "--", "data.dvc")

    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(bare))
    git("remote", "add", "origin", str(bare))
    assert not remote.exists()
    git("push", "-q", "origin", "main")  # pre-push: labvault push
    stored = {p.relative_to(remote).as_posix() for p in remote.rglob("*") if p.is_file()}
    manifest = (git_repo / "data.dvc").read_text().split("md5: ")[1].split()[0]
    assert len(stored) == 3 and f"files/md5/{manifest[:2]}/{manifest[2:]}" in stored  # what main's data needs


def test_root(git_repo: Path, lv: Runner, env: dict[str, str]) -> None:
    lv("init")
    deep = git_repo / "a" / "b"
    deep.mkdir(parents=True)
    cmd = [*lv.argv0, "root"]
    assert subprocess.run(cmd, cwd=deep, env=env, capture_output=True, text=True, check=True).stdout == "../..\n"
    assert lv("root").stdout == ".\n"
    outside = subprocess.run(cmd, cwd=git_repo.parent, env=env, capture_output=True, text=True)
    assert outside.returncode != 0 and outside.stderr.startswith("error: ") and outside.stderr.count("\n") == 1


def test_check_ignore_forms(git_repo: Path, lv: Runner, env: dict[str, str]) -> None:
    lv("init")
    (git_repo / ".dvcignore").write_text("*.log\n!keep.log\n")
    proc = subprocess.run([*lv.argv0, "check-ignore", "--stdin"], cwd=git_repo, env=env, input="a.log\nb.txt\n",
                          capture_output=True, text=True)
    assert (proc.returncode, proc.stdout) == (0, "a.log\n")
    assert json.loads(lv("check-ignore", "--json", "-d", "keep.log", "a.log").stdout) == [
        {"path": "keep.log", "ignored": False,
         "match": {"source": ".dvcignore", "line": 2, "pattern": "!keep.log", "ignored": False}},
        {"path": "a.log", "ignored": True,
         "match": {"source": ".dvcignore", "line": 1, "pattern": "*.log", "ignored": True}},
    ]
    assert lv("check-ignore", "keep.log", "b.txt", check=False).returncode == 1  # nothing ignored
    bad = lv("check-ignore", "-n", "a.log", check=False)
    assert bad.returncode == 2 and "--non-matching works with --details" in bad.stderr
    assert lv("check-ignore", check=False).returncode == 2
