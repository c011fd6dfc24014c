"""Bare clones of git repositories named by URL, kept between calls.

``labvault get/import`` and ``labvault.open(repo=URL)`` read pointer files and ``.dvc/config`` at
a revision straight from git objects, so a bare clone (no work tree, nothing checked out) is all
they need. Clones live in ``$LABVAULT_GIT_CACHE`` (default ``~/.cache/labvault/git``), one folder
per URL (named by the URL's sha256); a clone is made at a temp name and renamed into place, and an
exclusive lock file per URL serializes clones and fetches (a second reader waits). A revision
that is a full commit id already in the clone is used without asking the server; anything else
(a branch, a tag, no revision) fetches first, so a moved branch is seen.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from labvault.errors import ScmError
from labvault.workspace.scm import Git

_SCP_LIKE = re.compile(r"^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:")
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


def is_git_url(spec: str) -> bool:
    """Whether ``spec`` names a repository by URL (``https://``, ``ssh://``, ``file://``,
    ``git@host:path``) rather than by a local path."""
    return "://" in spec or bool(_SCP_LIKE.match(spec))


def cache_root() -> Path:
    configured = os.environ.get("LABVAULT_GIT_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "labvault" / "git"


def _git(args: list[str], cwd: Path, what: str) -> None:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except FileNotFoundError:
        raise ScmError("git is not installed", "install git to read repositories by URL") from None
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        raise ScmError(f"{what} failed: {lines[-1] if lines else proc.returncode}",
                       "check the URL and that you may read that repository")


def bare_clone(url: str, rev: str | None) -> Git:
    """A bare clone of ``url`` holding ``rev`` (fetched when it may have moved)."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(url.encode()).hexdigest()[:24]
    final = root / name
    import fcntl

    with open(root / f"{name}.lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if not (final / "HEAD").is_file():
            tmp = root / f".{name}.{os.getpid()}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            try:
                _git(["clone", "--bare", "--quiet", "--", url, str(tmp)], root, f"git clone of {url}")
                os.replace(tmp, final)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            return Git(final)
        git = Git(final)
        if rev is not None and _FULL_SHA.match(rev) and _has_commit(git, rev):
            return git
        _git(["fetch", "--quiet", "--prune", "--force", "origin", "+refs/heads/*:refs/heads/*",
              "+refs/tags/*:refs/tags/*"], final, f"git fetch from {url}")
        return git


def _has_commit(git: Git, sha: str) -> bool:
    try:
        git.resolve(sha)
        return True
    except ScmError:
        return False
