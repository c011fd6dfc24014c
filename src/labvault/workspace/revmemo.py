"""Remembered answers for repeated reads in one process: revision names, outputs of a commit.

``labvault.open`` in a loop (a training script reading a few files of one tag) would otherwise pay
three ``git`` processes per call. What is remembered, and why it stays true:

* The outputs (pointer files and ``dvc.lock`` entries) of a commit: a commit never changes, so its
  listing is kept by (git folder, commit id, repository prefix), at most ``LIMIT`` of them.
* A revision name's commit: kept with the identity (inode, size, mtime, ctime, or absence) of every
  file git reads to resolve it: ``packed-refs``, then ``NAME``, ``refs/NAME``, ``refs/tags/NAME``,
  ``refs/heads/NAME``, ``refs/remotes/NAME`` and ``refs/remotes/NAME/HEAD`` under the git folder
  (git's own lookup order) up to the first loose file git takes as a ref (a commit id, or
  ``ref: TARGET``; a later place cannot change the answer), and along a symbolic ref each target's
  file (``HEAD`` -> its branch, ``refs/remotes/origin/HEAD`` -> ``refs/remotes/origin/main``).
  A loose ref's content is read once per identity. Git updates a ref by writing a lock file and
  renaming it over the ref, so any change gives a new inode and the remembered answer is dropped. Only names made of ``[A-Za-z0-9._/-]`` with ``~N``/``^N`` suffixes
  are remembered, only in a repository whose ``.git`` is a folder (not a linked worktree, whose
  refs live elsewhere); anything else asks git every time. A full 40-digit commit id is resolved
  by git once (it must exist) and then remembered as is.
"""

from __future__ import annotations

import os
import re
import stat
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


def _file_stat(path: str) -> tuple[Stamp, bool]:
    """The identity of ``path`` (None when absent), and whether it is a regular file."""
    try:
        st = os.stat(path)
    except OSError:
        return None, False
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns), stat.S_ISREG(st.st_mode)


_SHA_LINE = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?\s*")
_REF_LINE = re.compile(rb"ref: *(refs/[A-Za-z0-9._/-]+|HEAD)\s*")
_contents: OrderedDict[tuple[str, Stamp], str | None] = OrderedDict()
_NOT_A_REF = "\0"  # a loose file git would not take as a ref: it looks at the next place


def _content(path: str, stamp: Stamp) -> str | None:
    """What a loose ref file holds, kept by its identity (git rewrites a ref by renaming a new file
    over it): "" for a commit id, the target of ``ref: TARGET``, ``_NOT_A_REF`` when git would not
    take it as a ref, None when it could not be read."""
    key = (path, stamp)
    with _lock:
        if key in _contents:
            return _contents[key]
    try:
        with open(path, "rb") as f:
            data = f.read(4096)
    except OSError:
        return None
    if _SHA_LINE.fullmatch(data):
        value = ""
    else:
        m = _REF_LINE.fullmatch(data)
        value = m.group(1).decode() if m else _NOT_A_REF
    with _lock:
        _put(_contents, key, value)
    return value


def _stamp(gitdir: str, name: str) -> tuple[Any, ...] | None:
    """The identities of what git reads to resolve ``name``: ``packed-refs``, then the places of
    git's lookup order up to the first loose ref that holds a commit id or a symbolic ref, and
    along a symbolic ref its targets (``HEAD`` -> its branch, ``refs/remotes/NAME/HEAD`` -> the
    remote's branch). Places after the first match cannot change the answer: git takes the first.
    None when a ref file cannot be read (then git is asked)."""
    places = (name, f"refs/{name}", f"refs/tags/{name}", f"refs/heads/{name}", f"refs/remotes/{name}",
              f"refs/remotes/{name}/HEAD")
    stamps: list[Any] = [_stat(gitdir + "/packed-refs")]
    for place in places:
        found = _follow(gitdir, place, stamps)
        if found is None:
            return None
        # git versions differ on which names it takes from the git folder itself: only HEAD
        # there ends the walk; any other, the later places are watched too
        if found and (place != name or name == "HEAD"):
            break
    return tuple(stamps)


def _follow(gitdir: str, place: str, stamps: list[Any], depth: int = 0) -> bool | None:
    """Add ``place``'s identity (and its targets') to ``stamps``; True when it is a loose ref git
    takes, False when git looks further, None when it cannot be read."""
    stamp, is_file = _file_stat(gitdir + "/" + place)
    stamps.append(stamp)
    if stamp is None or not is_file:
        return False
    value = _content(gitdir + "/" + place, stamp)
    if value is None or depth > 5:
        return None
    if value == _NOT_A_REF:
        return False
    if value:  # a symbolic ref: its target's loose file (absent when packed: packed-refs covers it)
        stamps.append(value)
        if _follow(gitdir, value, stamps, depth + 1) is None:
            return None
    return True


def _put(memo: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    memo[key] = value
    memo.move_to_end(key)
    while len(memo) > LIMIT:
        memo.popitem(last=False)


def resolve(git: Git, rev: str) -> str:
    """``git.resolve(rev)``, remembered while the refs it depends on are unchanged."""
    return resolve_at(os.fspath(git.root), rev, git)


def resolve_at(root: str, rev: str, git: Git | None = None) -> str:
    """``resolve`` for the repository whose work tree is ``root`` (a plain string), making the
    ``Git`` (``git``, or one of ``root``) only when git itself must be asked."""
    gitdir = root + "/.git" if root != "/" else "/.git"
    m = _NAME.fullmatch(rev)
    if m is None or ".." in rev or not os.path.isdir(gitdir):
        return (git or Git(Path(root))).resolve(rev)
    key = (gitdir, rev)
    stamp = () if _FULL_SHA.fullmatch(rev) else _stamp(gitdir, m.group(1))
    if stamp is None:
        return (git or Git(Path(root))).resolve(rev)
    with _lock:
        known = _revs.get(key)
    if known is not None and known[0] == stamp:
        return known[1]
    sha = (git or Git(Path(root))).resolve(rev)
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
        _contents.clear()
