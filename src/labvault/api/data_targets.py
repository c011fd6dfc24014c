"""What ``protect``, ``unprotect`` and ``access`` act on: a repository's tracked output (or any
path inside a repository, for access grants), or a lab dataset by ``NAME[@VERSION]`` or by a
path on one of the lab's folder tiers. Anything else is refused with one line (PathError), before
anything is changed.

The catalog these commands record in is the lab's (``LABVAULT_CATALOG_URL``, the lab config's
``catalog_url``) when a lab is configured, else the default catalog.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from labvault.catalog.store import Catalog, open_catalog
from labvault.errors import LabvaultError, PathError
from labvault.tiers import load as _load
from labvault.tiers.lab import LabConfig
from labvault.workspace.index import Tracked, select, workspace_outputs
from labvault.workspace.repo import DVC_DIR, Repo, open_repo
from labvault.workspace.safepath import guard_for

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Resolved:
    """One thing to act on: ``kind`` repo (``tracked`` set for an output) or lab; ``target`` as
    recorded in the catalog (an absolute path, or the unit's ``NAME@VERSION``); ``path`` absolute."""

    kind: str
    target: str
    path: str
    content_hash: str | None
    repo: Repo | None = None
    tracked: Tracked | None = None


class CatalogFor:
    """The catalog of :func:`catalog_for`, opened on first use (a repository output that is not
    protected needs none)."""

    def __init__(self, lab: PathLike | None, catalog_url: str | None) -> None:
        self.lab = lab
        self.catalog_url = catalog_url
        self._cat: Catalog | None = None

    def __call__(self) -> Catalog:
        if self._cat is None:
            self._cat = catalog_for(self.lab, self.catalog_url)
        return self._cat


def catalog_for(lab: PathLike | None, catalog_url: str | None) -> Catalog:
    found = _load.find_lab_file(lab)
    if catalog_url is None and found is not None:
        catalog_url = os.environ.get("LABVAULT_CATALOG_URL") or _load.load_lab(found).catalog_url
    return open_catalog(catalog_url or os.environ.get("LABVAULT_CATALOG_URL"))


def _absolute(target: str, repo: PathLike | None) -> str:
    base = os.path.abspath(repo) if repo is not None else os.getcwd()
    return os.path.normpath(os.path.join(base, target))


def _repo_of(path: str, repo: PathLike | None) -> Repo | None:
    """The repository holding ``path`` as written (symlinks not resolved, so that an output
    reached through one is refused by the repository's own checks): ``repo`` or the current
    folder's first, else the one around ``path``."""
    starts = [Path(repo) if repo is not None else None, Path(path if os.path.isdir(path) else os.path.dirname(path))]
    for start in starts:
        try:
            r = open_repo(start)
        except LabvaultError:
            continue
        if _inside(path, str(r.root)):
            return r
    return None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _repo_outputs(r: Repo, path: str) -> list[Resolved]:
    chosen = select(workspace_outputs(r), r, [path])
    guard = guard_for(r)
    for t in chosen:  # an output behind a symlink leaving the repository is refused, not followed
        base = str(r.abspath(t.rel))
        guard.check_output(t.rel, os.path.isdir(base) and not os.path.islink(base))
    return [Resolved("repo", str(r.abspath(t.rel)), str(r.abspath(t.rel)), t.out.oid, r, t) for t in chosen]


def _lab(lab: PathLike | None) -> LabConfig | None:
    found = _load.find_lab_file(lab)
    return _load.load_lab(found) if found is not None else None


def _lab_units(config: LabConfig, cat: Callable[[], Catalog], target: str) -> list[Resolved]:
    from labvault.tiers.where import where

    roots = [str(t.path) for t in config.tiers if t.path is not None]
    found: list[Resolved] = []
    for unit in where(cat(), target).units:
        ref = f"{unit.name}@{unit.version}" if unit.version else unit.name
        for p in unit.placements:
            if p.state in ("present", "verified") and any(_inside(p.location, r) for r in roots):
                found.append(Resolved("lab", ref, p.location, unit.content_hash))
    if not found:
        raise PathError(f"{target} has no copy on a folder tier of the lab",
                        "protection and access control apply to files on the lab's folders")
    return found


def resolve_data(target: str, lab: PathLike | None, cat: Callable[[], Catalog], repo: PathLike | None = None) -> list[Resolved]:
    """Tracked outputs (a folder names those inside it) or lab units: what ``protect`` takes."""
    path = _absolute(target, repo)
    if os.path.lexists(path):
        r = _repo_of(path, repo)
        if r is not None:
            try:
                return _repo_outputs(r, path)
            except PathError:
                if _lab(lab) is None:
                    raise
    config = _lab(lab)
    if config is None:
        raise PathError(f"{target} is not tracked data in a repository, and no lab is configured",
                        "track it with `labvault add`, or name a lab dataset (see `labvault lab init`)")
    looks_like_path = os.sep in target or target.startswith(".") or os.path.lexists(path)
    if looks_like_path and not any(_inside(path, str(t.path)) for t in config.tiers if t.path is not None):
        raise PathError(f"{target} is neither tracked data in a repository nor on the lab's folders",
                        "track it with `labvault add`, or name a lab dataset")
    return _lab_units(config, cat, path if looks_like_path else target)


def resolve_place(target: str, lab: PathLike | None, cat: Callable[[], Catalog], repo: PathLike | None = None) -> list[Resolved]:
    """What ``access`` takes: any existing file or folder inside a repository's workspace or on a
    folder tier of the lab, or a lab unit by name."""
    path = _absolute(target, repo)
    if os.path.lexists(path):
        real = os.path.realpath(path)
        if os.path.islink(path):
            raise PathError(f"{target} is a symlink", "name the file or folder it points to")
        r = _repo_of(real, repo)
        if r is not None:
            inner = os.path.relpath(real, r.root).split(os.sep)[0]
            if inner in (DVC_DIR, ".git"):
                raise PathError(f"{target} is inside {inner}/", "name data in the workspace instead")
            return [Resolved("repo", real, real, None, r)]
        config = _lab(lab)
        if config is not None and any(_inside(real, str(t.path)) for t in config.tiers if t.path is not None):
            return [Resolved("lab", real, real, None)]
        raise PathError(f"{target} is outside every repository and the lab's folders",
                        "access control applies to data in a repository or on a folder tier of the lab")
    config = _lab(lab)
    if config is None or os.sep in target:
        raise PathError(f"{target} does not exist", "check the path, or name a lab dataset")
    return _lab_units(config, cat, target)
