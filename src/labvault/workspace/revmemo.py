"""Remembered answers for repeated reads in one process: revision names, outputs of a commit.

``labvault.open`` in a loop (a training script reading a few files of one tag) would otherwise pay
three ``git`` processes per call. What is remembered, and why it stays true:

* The outputs (pointer files and ``dvc.lock`` entries) of a commit: a commit never changes, so its
  listing is kept by (git folder, commit id, repository prefix), at most ``LIMIT`` of them.
* A revision name's commit: kept with the identity (inode, size, mtime, ctime, or absence) of every
  file git may read to resolve it: ``packed-refs``, ``NAME``, ``refs/NAME``, ``refs/tags/NAME``,
  ``refs/heads/NAME``, ``refs/remotes/NAME`` and ``refs/remotes/NAME/HEAD`` under the git folder
  (git's own lookup order), and for ``HEAD`` (and ``HEAD~N``...) the ref ``HEAD`` points to.
  Git updates a ref by writing a lock file and renaming it over the ref, so any change gives a
  new inode and the remembered answer is dropped. Only names made of ``[A-Za-z0-9._/-]`` with ``~N``/``^N`` suffixes
  are remembered, only in a repository whose ``.git`` is a folder (not a linked worktree, whose
  refs live elsewhere); anything else asks git every time. A full 40-digit commit id is resolved
  by git once (it must exist) and then remembered as is.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from labvault.workspace.scm import Git

LIMIT = 64
_NAME = re.compile(r"([A-Za-z0-9._/-]+)((?:[~^][0-9]*)*)")
_FULL_SHA = re.compile(r"[0-9a-f]{40}")
_lock = threading.Lock()
_revs: OrderedDict[tuple[str, str], tuple[tuple[Any, ...], str]] = OrderedDict()
_outputs: OrderedDict[tuple[str, str, str], Any] = OrderedDict()

Stamp = tuple[int, int, int, int] | None


def _stat(path: str) -> Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _head_target(gitdir: str) -> str | None:
    try:
        with open(os.path.join(gitdir, "HEAD"), encoding="utf-8") as f:
            text = f.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text[5:].strip() if text.startswith("ref: ") else None


def _stamp(gitdir: str, name: str) -> tuple[Any, ...]:
    paths = [
        "packed-refs", name, f"refs/{name}", f"refs/tags/{name}", f"refs/heads/{name}",
        f"refs/remotes/{name}", f"refs/remotes/{name}/HEAD",
    ]
    target = None
    if name == "HEAD":  # HEAD's branch matters to HEAD alone (``NAME`` above covers HEAD itself)
        target = _head_target(gitdir)
        if target is not None:
            paths.append(target)
    return (target, *(_stat(gitdir + "/" + p) for p in paths))


def _put(memo: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    memo[key] = value
    memo.move_to_end(key)
    while len(memo) > LIMIT:
        memo.popitem(last=False)


def resolve(git: Git, rev: str) -> str:
    """``git.resolve(rev)``, remembered while the refs it depends on are unchanged."""
    gitdir = os.path.join(git.root, ".git")
    m = _NAME.fullmatch(rev)
    if m is None or ".." in rev or not os.path.isdir(gitdir):
        return git.resolve(rev)
    key = (gitdir, rev)
    stamp: tuple[Any, ...] = () if _FULL_SHA.fullmatch(rev) else _stamp(gitdir, m.group(1))
    with _lock:
        known = _revs.get(key)
    if known is not None and known[0] == stamp:
        return known[1]
    sha = git.resolve(rev)
    with _lock:
        _put(_revs, key, (stamp, sha))
    return sha


def outputs(gitdir: Path, sha: str, prefix: str) -> Any:
    with _lock:
        return _outputs.get((str(gitdir), sha, prefix))


def remember_outputs(gitdir: Path, sha: str, prefix: str, value: Any) -> None:
    with _lock:
        _put(_outputs, (str(gitdir), sha, prefix), value)


def forget() -> None:
    """Drop everything remembered (tests compare against a fresh process's answers)."""
    with _lock:
        _revs.clear()
        _outputs.clear()
