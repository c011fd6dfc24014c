"""The object a tracked path names at a revision, found without checking anything out.

A path is tracked by ``PATH.dvc`` or as an output of a stage in ``dvc.lock`` (both read at the
git revision, or from the workspace when ``rev`` is None). Objects the cache lacks are fetched
from the repo's remote into the cache (verified, as ``labvault fetch`` does): only those of the
path asked for.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from labvault.errors import LoaderError
from labvault.remotes.transfer import fetch
from labvault.workspace.pointer import parse_pointer
from labvault.workspace.remotes import open_remote
from labvault.workspace.repo import Repo
from labvault.workspace.used import out_remote


def _read(repo: Repo, rel: str, rev: str | None) -> bytes | None:
    if rev is None:
        path = repo.root / rel
        return path.read_bytes() if path.is_file() else None
    git = repo.require_scm()
    commit = git.resolve(rev)
    prefix = os.path.relpath(repo.root, git.root)
    name = rel if prefix == "." else f"{prefix}/{rel}"
    return git.read_files_at(commit, [name]).get(name)


def tracked_oid(repo: Repo, path: str, rev: str | None) -> tuple[str, str | None]:
    """The oid (``<md5>`` or ``<md5>.dir``) of ``path`` (relative to the repo root) at ``rev``,
    and the remote its .dvc entry binds it to (``remote: NAME``), if any."""
    path = Path(path).as_posix().strip("/")
    at = f" at {rev}" if rev else ""
    text = _read(repo, f"{path}.dvc", rev)
    if text is not None:
        pointer = parse_pointer(text.decode("utf-8", errors="replace"), f"{path}.dvc{at}")
        for out in pointer.outs:
            if out.oid and os.path.normpath(out.path) == os.path.basename(path):
                return out.oid, out_remote(out.extra)
    lock = _read(repo, "dvc.lock", rev)
    if lock is not None:
        try:
            stages = (yaml.safe_load(lock) or {}).get("stages", {}) or {}
        except yaml.YAMLError:
            raise LoaderError(f"dvc.lock{at} is not valid YAML", "fix or re-create it with `labvault repro`") from None
        for stage in stages.values():
            for out in (stage or {}).get("outs", []) or []:
                if isinstance(out, dict) and os.path.normpath(str(out.get("path", ""))) == path and out.get("md5"):
                    return str(out["md5"]), None
    raise LoaderError(f"{path} is not tracked{at} (no {path}.dvc, no output of that name in dvc.lock)",
                      "check the path (relative to the repo root) and the revision")


def cached_files(repo: Repo, oid: str, where: str, remote: str | None = None) -> list[tuple[str, str]]:
    """``(relpath, cache path)`` of every file of ``oid`` (one ``("", path)`` for a file),
    fetching from the remote what the cache lacks."""
    odb = repo.odb
    refs = {(oid, False)}
    missing = not odb.exists(oid)
    if not missing and oid.endswith(".dir"):
        missing = any(not odb.exists(child) for _, child in odb.load_tree(oid))
    if missing:
        store = open_remote(repo, remote)
        with repo.locked():
            result = fetch(odb, store, refs, repo.progress)
        if not result.ok:
            raise LoaderError(f"{where} could not be fetched from remote {store.name!r} "
                              f"({len(result.missing_remote)} missing, {len(result.corrupt)} corrupt, "
                              f"{len(result.failed)} failed)", "push it from a clone that has it")
    if oid.endswith(".dir"):
        return [(rel, odb.oid_path(child)) for rel, child in odb.load_tree(oid)]
    return [("", odb.oid_path(oid))]
