"""Pipeline outputs as tracked data: what dvc.lock says each cached stage output holds, so that
checkout and pull restore stage outputs as they restore ``.dvc``-tracked data."""

from __future__ import annotations

import os
import posixpath
from dataclasses import replace

from labvault.pipelines.lock import LockFile
from labvault.pipelines.spec import load_stages
from labvault.workspace.index import Tracked, find_control_files
from labvault.workspace.pointer import Out, Pointer
from labvault.workspace.repo import Repo
from labvault.workspace.used import PipelineRoutes, Route, out_remote


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
            if not o.push or out_remote(o.flags):
                out = replace(out, extra={"push": o.push, **({"remote": o.flags["remote"]} if out_remote(o.flags) else {})})
            pointer = Pointer(repo.abspath(stage.lockfile), (out,), {})
            tracked.append(Tracked(pointer, 0, o.rel, stage.lockfile))
    return tracked


# Texts that can set an output flag: its key written out, an escape (a double-quoted key such as
# "re\x6dote"), or templating (`${flags}` may bring a whole mapping of flags from params).
_MAY_FLAG = ("remote", "push", "\\", "${")


def pipeline_routes(repo: Repo, skim: bool = True) -> PipelineRoutes:
    """The remotes and ``push: false`` flags of pipeline outputs (for push, fetch and
    ``status -c``), read from the dvc.yaml files of a revision (or of the workspace). With
    ``skim``, the pipelines are loaded only when some file holds one of ``_MAY_FLAG``: a file
    holding none cannot set a flag (a YAML key is its literal text unless escaped, and dvc's
    templating is the only other source of mappings), so push of a repository whose pipelines
    bind nothing does not parse them. ``skim=False`` always loads (the reference the skim is
    tested against)."""

    def routes(rev: str | None) -> dict[tuple[str, str], Route]:
        if rev is None:
            texts = [f.read_text(encoding="utf-8", errors="replace") for f in find_control_files(repo)[2]]
        else:
            git = repo.require_scm()
            names = git.ls_files_at(rev, ("dvc.yaml",))
            texts = [b.decode("utf-8", errors="replace") for b in git.read_files_at(rev, names).values()]
        if skim and not any(m in t for t in texts for m in _MAY_FLAG):
            return {}
        from labvault.pipelines.revision import Snapshot

        stages = load_stages(repo) if rev is None else Snapshot(repo, rev).pipelines().stages
        found: dict[tuple[str, str], Route] = {}
        for stage in stages:
            for o in stage.outs:
                if out_remote(o.flags) or not o.push:
                    found[(stage.lockfile, o.path)] = (out_remote(o.flags), o.push)
        return found

    return routes
