"""Import pointers: the ``.dvc`` file ``import`` writes and ``update`` rewrites, exactly as dvc 3.x.

::

    md5: 14819b36eeb69f8b078003ee5d7523d9        # the stage's md5 (below)
    frozen: true
    deps:
    - path: data/a.txt                            # path in the source repository
      repo:
        url: ../src                               # as the user gave it
        rev: v1                                   # only when a revision was asked for
        rev_lock: cd26c75b0205cbcc5233c6f1540cc75fb90e6c99
    outs:
    - md5: b1946ac92492d2347c6235b4d2611184
      size: 6
      hash: md5
      path: a.txt

The top-level ``md5`` is dvc's stage checksum: the md5 of ``json.dumps(d, sort_keys=True)`` where
``d`` holds the file's ``deps`` and ``outs`` with the keys ``frozen``, ``size``, ``nfiles``,
``isexec``, ``metric``, ``persist``, ``desc``, ``type``, ``labels``, ``meta`` (and ``md5``, ``wdir:
.``) left out at every level.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labvault.core.hashing import md5_bytes
from labvault.core.yaml12 import dump_dvcfile
from labvault.errors import PointerError
from labvault.fsutil import atomic_write_text
from labvault.workspace.pointer import Out, in_order, load_pointer

_EXCLUDE = {"frozen", "locked", "size", "nfiles", "isexec", "metric", "persist", "desc", "type", "labels", "meta"}


@dataclass(frozen=True)
class ImportSpec:
    """What an import pointer says about its source."""

    file: Path
    path: str
    url: str
    rev: str | None
    rev_lock: str | None
    out: Out
    extra_repo: dict[str, Any]  # other keys of `repo:` (dvc's `config`, `remote`), kept
    keys: tuple[str, ...] = ()  # the file's top-level keys in their order (dvc keeps them)


def _filter(value: Any) -> Any:
    if isinstance(value, list):
        return [_filter(v) for v in value]
    if isinstance(value, dict):
        return {k: _filter(v) for k, v in value.items() if k not in _EXCLUDE}
    return value


def stage_md5(deps: list[dict[str, Any]], outs: list[dict[str, Any]]) -> str:
    doc = _filter({"deps": deps, "outs": outs})
    return md5_bytes(json.dumps(doc, sort_keys=True).encode("utf-8"))


def render_import(path: str, url: str, rev: str | None, rev_lock: str | None, out: Out,
                  extra_repo: dict[str, Any] | None = None, keys: tuple[str, ...] = ()) -> str:
    """The file's text; without ``rev_lock`` (``import --no-exec``) no stage md5 either, as dvc
    writes it; ``keys``: the top-level key order of the file this one replaces."""
    repo: dict[str, Any] = {"url": url}
    if rev is not None:
        repo["rev"] = rev
    if rev_lock is not None:
        repo["rev_lock"] = rev_lock
    repo.update(extra_repo or {})
    deps = [{"path": path, "repo": repo}]
    outs = [out.dump()]
    doc: dict[str, Any] = {"md5": stage_md5(deps, outs)} if rev_lock is not None else {}
    doc.update({"frozen": True, "deps": deps, "outs": outs})
    return dump_dvcfile(in_order(doc, keys))


def write_import(file: Path, path: str, url: str, rev: str | None, rev_lock: str | None, out: Out,
                 extra_repo: dict[str, Any] | None = None, keys: tuple[str, ...] = ()) -> None:
    atomic_write_text(file, render_import(path, url, rev, rev_lock, out, extra_repo, keys))


def read_import(file: Path) -> ImportSpec:
    pointer = load_pointer(file)
    deps = pointer.extra.get("deps")
    dep = deps[0] if isinstance(deps, list) and len(deps) == 1 and isinstance(deps[0], dict) else {}
    repo = dep.get("repo")
    if not isinstance(repo, dict):
        raise PointerError(f"{file} is not an import (no `deps` entry with `repo:`)",
                           "update works on files written by `labvault import` or `dvc import`")
    path, url = dep.get("path"), repo.get("url")
    rev, lock = repo.get("rev"), repo.get("rev_lock")
    if not isinstance(path, str) or not isinstance(url, str) or not path or not url:
        raise PointerError(f"{file}: the import's `deps` lacks a `path` or `repo: url`", "fix the file or import again")
    if (rev is not None and not isinstance(rev, str)) or (lock is not None and not isinstance(lock, str)):
        raise PointerError(f"{file}: the import's `rev`/`rev_lock` must be text", "fix the file or import again")
    if len(pointer.outs) != 1:
        raise PointerError(f"{file}: an import has exactly one output", "fix the file or import again")
    extra = {k: v for k, v in repo.items() if k not in ("url", "rev", "rev_lock")}
    return ImportSpec(file, path, url, rev, lock, pointer.outs[0], extra, pointer.keys)
