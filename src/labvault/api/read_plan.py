"""Repeated reads of one tracked file at one revision: what a first read found, checked again cheaply.

A training loop that calls ``labvault.open(path, repo, rev)`` many times would otherwise rebuild the
same answer on every call (the repository, its cache, the revision's outputs, where the path's object
is). After a read served from the cache, the answer is kept as a ``Plan`` by (repo as given, rev,
path, remote). A later call uses it only when everything the answer depends on is unchanged, checked
each time by the same means the full path uses:

* the repository root found from the path as given (``find_root_str``: realpath, ``.dvc`` probe);
* the merged config: ``Config.load`` returns the very object the plan was made with, which it does
  only while every level file keeps its identity and the variables it depends on keep their values
  (a config less than 2 s old is never kept, so a recent change always takes the full path);
* ``.git`` is still a folder, and the revision still resolves to the same commit
  (``revmemo.resolve``: the identities of the ref files git reads);
* the cache object opens; it is verified as it is read unless this process verified the same
  file (same inode, size, mtime, ctime) before (``remotes/reading.cache_stream``).

Given those, the full path would find the same output (a commit's outputs never change), the same
cache folder (the config is the same; plans are made only for a default or absolute ``cache.dir``
that is not set by the committed config, so no path is resolved through symlinks differently) and
the same object, and would read it from the cache first. Anything else (a cache miss, a remote or
lab tier copy, a file git holds, the workspace, a linked worktree) takes the full path. The access
log and the stage read log are written on every call, as on the full path.
``tests/property/test_read_plan_model.py`` compares both paths over random sequences of changes.
"""

from __future__ import annotations

import builtins
import os
from dataclasses import dataclass
from typing import BinaryIO

from labvault.config import Config
from labvault.errors import LabvaultError
from labvault.remotes.reading import cache_stream
from labvault.workspace import revmemo
from labvault.workspace.locate import Located
from labvault.workspace.repo import find_root_str
from labvault.workspace.source import Source

LIMIT = 256
Key = tuple[str | None, str, str, str | None]


@dataclass(frozen=True)
class Plan:
    root: str
    config: Config
    sha: str
    spec: str
    oid: str
    size: int | None
    output_oid: str | None
    obj: str  # the cache object's path


_PLANS: dict[Key, Plan] = {}


def key_of(text: str | None, rev: str | None, path: str, remote: str | None) -> Key | None:
    return None if rev is None else (text, rev, path, remote)


def remember(key: Key | None, source: Source, found: Located) -> None:
    """Keep what a full read found, when it was served from a local repository's cache at a commit."""
    if key is None or not source.local or source.sha is None or source.git is None or source.prefix or found.legacy:
        return
    repo = source.repo
    root = os.fspath(repo.root)
    config = repo.config
    configured = config.get("cache", "dir")
    if root == "/" or source.git.root != repo.root or config.origin("cache", "dir") == "repo":
        return
    if configured and not os.path.isabs(os.path.expanduser(configured)):
        return  # a relative cache.dir is resolved through symlinks on each full read
    obj = repo.odb.oid_path(found.oid)
    if not os.path.isfile(obj):
        return  # served from a remote or a tier: the full path again next time
    if len(_PLANS) >= LIMIT:
        _PLANS.clear()
    out = found.output.oid if found.output is not None else None
    _PLANS[key] = Plan(root, config, source.sha, source.spec, found.oid, found.size, out, obj)


def planned(key: Key | None) -> tuple[Plan, BinaryIO] | None:
    """The kept plan for ``key`` and a stream of its object, when the plan still holds; else None."""
    plan = _PLANS.get(key) if key is not None else None
    if plan is None:
        return None
    text, rev = key[0], key[1]  # type: ignore[index]
    try:
        root = plan.root
        # the repository named by its root (the usual case): realpath and the .dvc probe prove it
        if text is None or os.path.realpath(text) != root or not os.path.isdir(root + "/.dvc"):
            if text is not None and not os.path.exists(text):
                return None
            if find_root_str(text) != root:
                return None
        if Config.load(root + "/.dvc") is not plan.config:
            return None
        if not os.path.isdir(root + "/.git") or revmemo.resolve_at(root, rev) != plan.sha:
            return None
        raw = builtins.open(plan.obj, "rb")  # noqa: SIM115 - handed to the caller
    except (OSError, LabvaultError):
        return None  # the full path reports what is wrong
    try:
        return plan, cache_stream(raw, plan.oid, plan.size)
    except BaseException:
        raw.close()
        raise


def forget() -> None:
    """Drop every plan (tests compare against the full path)."""
    _PLANS.clear()
