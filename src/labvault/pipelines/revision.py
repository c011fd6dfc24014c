"""The repository's pipeline files as they were at one git revision, or are in the workspace.

A ``Snapshot`` answers three questions for one revision: which stages ``dvc.yaml`` declared, what
``dvc.lock`` recorded for their outputs, and what bytes a repo-relative file held. At a revision,
files come from git (one ``git cat-file --batch`` per question); a cached output that git does not
hold comes from the object store, through the md5 the revision's ``dvc.lock`` recorded.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labvault.errors import PipelineError
from labvault.pipelines.lock import LockFile
from labvault.pipelines.params import DEFAULT_PARAMS
from labvault.pipelines.spec import LOCK_FILE, PIPELINE_FILE, Stage, load_pipeline_file, load_stages
from labvault.pipelines.yamlio import load_yaml
from labvault.workspace.index import find_control_files
from labvault.workspace.repo import DVC_DIR, Repo

WORKSPACE = "workspace"


@dataclass(frozen=True)
class LockedOut:
    """One stage output as a ``dvc.lock`` records it; ``rel`` is repo-relative."""

    rel: str
    oid: str
    size: int | None
    nfiles: int | None
    legacy: bool  # recorded without `hash: md5` (a DVC 2.x lock)
    cache: bool
    stage: str  # its address (`name`, or `sub/dvc.yaml:name`)
    lockfile: str  # repo-relative

    @property
    def is_dir(self) -> bool:
        return self.oid.endswith(".dir")


@dataclass
class Pipelines:
    """What the ``dvc.yaml`` files of one revision declare."""

    stages: list[Stage] = field(default_factory=list)
    top_metrics: list[str] = field(default_factory=list)  # repo-relative, from top-level `metrics:`
    top_params: list[str] = field(default_factory=list)  # repo-relative, from top-level `params:`
    top_plots: list[tuple[str, Any]] = field(default_factory=list)  # (dvc.yaml's folder, `plots:` item)
    locked: dict[str, str] = field(default_factory=dict)  # cached output rel -> md5 from dvc.lock
    lock_outs: list[LockedOut] = field(default_factory=list)  # every output with a lock entry


def _top_level(text: str, rel: str, into: Pipelines) -> None:
    data = load_yaml(text, rel)
    if not isinstance(data, dict):
        return
    base = posixpath.dirname(rel)
    for key, dest in (("metrics", into.top_metrics), ("params", into.top_params)):
        items = data.get(key) or []
        if not isinstance(items, list):
            raise PipelineError(f"{rel}: top-level `{key}` must be a list of paths")
        for item in items:
            if isinstance(item, str):
                dest.append(_join(base, item))
            elif isinstance(item, dict):
                dest.extend(_join(base, k) for k in item if isinstance(k, str))
    plots = data.get("plots") or []
    into.top_plots.extend((base, item) for item in (plots if isinstance(plots, list) else []))


def _join(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path))


def _record_locks(root: Path, into: Pipelines) -> None:
    locks: dict[str, LockFile] = {}
    for s in into.stages:
        if s.lockfile not in locks:
            locks[s.lockfile] = LockFile(root / s.lockfile)
        entry = locks[s.lockfile].get(s.name) or {}
        outs = entry.get("outs") or []
        declared = {o.path: o for o in s.outs}
        for o in outs if isinstance(outs, list) else []:
            if not isinstance(o, dict) or not isinstance(o.get("md5"), str) or o.get("path") not in declared:
                continue
            rel = _join(s.wdir, o["path"]) if s.wdir else posixpath.normpath(o["path"])
            cache = declared[o["path"]].cache
            if cache:
                into.locked[rel] = o["md5"]
            size, nfiles = o.get("size"), o.get("nfiles")
            into.lock_outs.append(LockedOut(
                rel, o["md5"], size if isinstance(size, int) else None, nfiles if isinstance(nfiles, int) else None,
                "hash" not in o, cache, s.address, s.lockfile,
            ))


class Snapshot:
    """Files of ``repo`` at ``rev`` (a git revision), or in the workspace when ``rev`` is None."""

    def __init__(self, repo: Repo, rev: str | None) -> None:
        self.repo = repo
        self.rev = rev
        self._pipelines: Pipelines | None = None
        self._trees: dict[str, dict[str, str] | None] = {}  # .dir oid -> relpath -> oid
        if rev is not None:
            self.git = repo.require_scm()
            self.sha = self.git.resolve(rev)
            prefix = repo.root.relative_to(self.git.root).as_posix()
            self.prefix = "" if prefix == "." else prefix + "/"
            self._names: list[str] | None = None

    @property
    def name(self) -> str:
        return WORKSPACE if self.rev is None else self.rev

    # --- files ---------------------------------------------------------------------------------
    def _git_names(self) -> list[str]:
        if self._names is None:
            p = self.prefix
            self._names = [n[len(p) :] for n in self.git.ls_files_at(self.sha, ("",)) if n.startswith(p)]
        return self._names

    def leaves_repo(self, rel: str) -> bool:
        """Whether ``rel`` points outside the repository: by ``..`` or an absolute path, or, in the
        workspace, through a symlink (except into the cache). Metrics and plots refuse such files (a cloned repository
        must not make labvault show the machine's files, in a terminal or a dashboard); params
        files outside the repository are read, as dvc reads them."""
        norm = posixpath.normpath(rel)
        if norm == ".." or norm.startswith("../") or posixpath.isabs(norm):
            return True
        if self.rev is not None:
            return False
        root = os.path.realpath(self.repo.root)
        real = os.path.realpath(os.path.join(root, norm))
        # a link into the cache (cache.type symlink or hardlink, cache.dir anywhere) stays inside
        inside = (root, os.path.realpath(self.repo.odb.cache_dir))
        return not any(real == top or real.startswith(top + os.sep) for top in inside)

    def read_many(self, rels: list[str]) -> dict[str, bytes]:
        """Bytes of each file that exists (as a file) at this revision."""
        if self.rev is None:
            found: dict[str, bytes] = {}
            for rel in rels:
                try:
                    found[rel] = self.repo.abspath(rel).read_bytes()
                except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                    continue
            return found
        blobs = self.git.read_files_at(self.sha, [self.prefix + r for r in rels])
        return {k[len(self.prefix) :]: v for k, v in blobs.items()}

    def read(self, rel: str) -> bytes | None:
        """A file's bytes: from the workspace or git, else from the cache via ``dvc.lock``."""
        got = self.read_many([rel]).get(rel)
        if got is not None:
            return got
        oid = self._cached_oid(rel)
        if oid is None or oid.endswith(".dir"):
            return None
        try:
            with open(self.repo.odb.oid_path(oid), "rb") as f:
                return f.read()
        except OSError:
            return None

    def _cached_oid(self, rel: str) -> str | None:
        """The object a revision's dvc.lock names for ``rel``: its own entry, or the entry of the
        cached folder output holding it (looked up in that folder's ``.dir`` manifest)."""
        locked = self.pipelines().locked
        oid = locked.get(rel)
        if oid is not None:
            return oid
        parts = rel.split("/")
        for i in range(len(parts) - 1, 0, -1):
            folder = "/".join(parts[:i])
            folder_oid = locked.get(folder)
            if folder_oid is None:
                continue
            if not folder_oid.endswith(".dir"):
                return None
            if folder_oid not in self._trees:
                tree = self.repo.odb.try_load_tree(folder_oid)
                self._trees[folder_oid] = None if tree is None else dict(tree)
            files = self._trees[folder_oid]
            return None if files is None else files.get("/".join(parts[i:]))
        return None

    def expand(self, rel: str) -> list[str]:
        """``rel`` itself, or the files inside it when it is a folder (in git, the workspace or the cache)."""
        if self.leaves_repo(rel):
            return [rel]
        if self.rev is None:
            p = self.repo.abspath(rel)
            if p.is_dir():
                files = []
                for root, dirs, names in os.walk(p):
                    dirs.sort()
                    for n in sorted(names):
                        files.append(Path(root, n).relative_to(self.repo.root).as_posix())
                return files
        else:
            inside = [n for n in self._git_names() if n.startswith(rel + "/")]
            if inside:
                return sorted(inside)
        oid = self.pipelines().locked.get(rel)
        if oid is not None and oid.endswith(".dir") and not self.repo.abspath(rel).is_file():
            tree = self.repo.odb.try_load_tree(oid)
            if tree is not None:
                for sub, child in tree:
                    self.pipelines().locked[f"{rel}/{sub}"] = child
                return [f"{rel}/{sub}" for sub, _ in tree]
        return [rel]

    # --- pipelines -----------------------------------------------------------------------------
    def pipelines(self) -> Pipelines:
        if self._pipelines is None:
            self._pipelines = self._load_workspace() if self.rev is None else self._load_revision()
        return self._pipelines

    def _load_workspace(self) -> Pipelines:
        result = Pipelines(stages=load_stages(self.repo))
        for f in find_control_files(self.repo)[2]:
            rel = f.relative_to(self.repo.root).as_posix()
            _top_level(f.read_text(encoding="utf-8"), rel, result)
        _record_locks(self.repo.root, result)
        return result

    def _load_revision(self) -> Pipelines:
        names = self._git_names()
        yamls = sorted(
            (n for n in names if posixpath.basename(n) == PIPELINE_FILE and not n.startswith(DVC_DIR + "/")),
            key=lambda n: (n.count("/"), n),
        )
        texts = {k: v.decode("utf-8") for k, v in self.read_many(yamls).items()}
        # the files templating may read: params.yaml beside each dvc.yaml, `vars` files, dvc.lock
        extra: set[str] = set()
        for rel, text in texts.items():
            base = posixpath.dirname(rel)
            extra |= {_join(base, DEFAULT_PARAMS), _join(base, LOCK_FILE)}
            extra |= {_join(base, v) for v in _vars_files(load_yaml(text, f"{rel} at {self.rev}"))}
        result = Pipelines()
        with tempfile.TemporaryDirectory(prefix="labvault-rev-") as tmp:
            root = Path(tmp)
            for rel, data in [*self.read_many(sorted(extra)).items(), *((k, v.encode()) for k, v in texts.items())]:
                dest = root / rel
                if not dest.resolve().is_relative_to(root.resolve()):
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
            shadow = Repo(root)
            for rel in yamls:
                if rel in texts:
                    result.stages.extend(load_pipeline_file(shadow, root / rel))
                    _top_level(texts[rel], rel, result)
            _record_locks(root, result)
        return result


def _vars_files(data: Any) -> set[str]:
    """File names in the top-level and stage-level ``vars`` lists of a parsed dvc.yaml."""
    found: set[str] = set()
    if not isinstance(data, dict):
        return found
    lists = [data.get("vars")]
    stages = data.get("stages")
    if isinstance(stages, dict):
        lists += [d.get("vars") for d in stages.values() if isinstance(d, dict)]
        lists += [d["do"].get("vars") for d in stages.values() if isinstance(d, dict) and isinstance(d.get("do"), dict)]
    for entries in lists:
        for e in entries if isinstance(entries, list) else []:
            if isinstance(e, str):
                found.add(e.partition(":")[0])
    return found
