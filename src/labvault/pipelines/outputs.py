"""Pipeline outputs as tracked data: what dvc.lock says each cached stage output holds, so that
checkout and pull restore stage outputs as they restore ``.dvc``-tracked data."""

from __future__ import annotations

import os
import posixpath

from labvault.pipelines.lock import LockFile
from labvault.pipelines.spec import load_stages
from labvault.workspace.index import Tracked
from labvault.workspace.pointer import Out, Pointer
from labvault.workspace.repo import Repo


def locked_outputs(repo: Repo) -> list[Tracked]:
    tracked: list[Tracked] = []
    locks: dict[str, LockFile] = {}
    for stage in load_stages(repo):
        if stage.lockfile not in locks:
            locks[stage.lockfile] = LockFile(repo.abspath(stage.lockfile), repo.state)
        entry = locks[stage.lockfile].get(stage.name)
        if entry is None:
            continue
        recorded = {o.get("path"): o for o in entry.get("outs", []) or [] if isinstance(o, dict)}
        lock_dir = posixpath.dirname(stage.lockfile)
        for o in stage.outs:
            rec = recorded.get(o.path)
            if not o.cache or rec is None or not isinstance(rec.get("md5"), str):
                continue
            rel_to_lock = os.path.relpath(o.rel, lock_dir or ".").replace(os.sep, "/")
            out = Out(
                path=rel_to_lock,
                oid=rec["md5"],
                size=rec.get("size"),
                nfiles=rec.get("nfiles"),
                isexec=bool(rec.get("isexec", False)),
                legacy="hash" not in rec,
            )
            pointer = Pointer(repo.abspath(stage.lockfile), (out,), {})
            tracked.append(Tracked(pointer, 0, o.rel, stage.lockfile))
    return tracked
