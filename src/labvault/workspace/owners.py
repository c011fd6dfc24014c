"""What each object belongs to: the outputs of ``.dvc`` files and ``dvc.lock`` files that name it,
in the workspace and at given git revisions, down to the file inside a tracked folder.

Used to report a remote's missing or corrupt objects in a user's words: ``data/images/cat.png
(data/images.dvc, workspace)``. A folder's files are known only when its ``.dir`` manifest is in
the cache or ``fetch_tree`` finds it (``missing_manifests`` lists the folders whose files could
not be named).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from labvault.core.tree import Tree
from labvault.workspace.index import (
    Tracked,
    find_control_files,
    lock_outputs,
    outputs_at_rev,
    workspace_outputs,
)
from labvault.workspace.repo import Repo

Ref = tuple[str, bool]


@dataclass
class Owners:
    by_oid: dict[str, list[str]] = field(default_factory=dict)
    refs: set[Ref] = field(default_factory=set)
    missing_manifests: set[str] = field(default_factory=set)
    # named only by dvc.lock files: a stage output may be uncached (cache: false)
    optional: set[Ref] = field(default_factory=set)
    pointed: set[Ref] = field(default_factory=set)
    fetch_tree: Callable[[str, bool], Tree | None] | None = None

    def of(self, oid: str) -> tuple[str, ...]:
        return tuple(self.by_oid.get(oid, ()))


def collect_owners(repo: Repo, revisions: tuple[str, ...] = (),
                   fetch_tree: Callable[[str, bool], Tree | None] | None = None) -> Owners:
    """Owners of every object the workspace (and each of ``revisions``) names with cache; a
    ``.dir`` manifest the cache lacks is asked of ``fetch_tree`` (e.g. read from the remote)."""
    owners = Owners(fetch_tree=fetch_tree)
    _add_tracked(repo, owners, workspace_outputs(repo), "workspace")
    for lock in find_control_files(repo)[1]:
        rel = lock.relative_to(repo.root).as_posix()
        folder = rel.rpartition("/")[0]
        for path, oid, legacy in lock_outputs(lock.read_text(encoding="utf-8")):
            _add(repo, owners, oid, legacy, f"{folder}/{path}" if folder else path, rel, "workspace")
    if revisions:
        git = repo.require_scm()
        for rev in revisions:
            _add_tracked(repo, owners, outputs_at_rev(repo, rev), rev)
            for name, blob in git.read_files_at(rev, git.ls_files_at(rev, ("dvc.lock",))).items():
                folder = name.rpartition("/")[0]
                for path, oid, legacy in lock_outputs(blob.decode("utf-8", errors="replace")):
                    _add(repo, owners, oid, legacy, f"{folder}/{path}" if folder else path, name, rev)
    owners.optional = owners.refs - owners.pointed
    return owners


def _add_tracked(repo: Repo, owners: Owners, tracked: list[Tracked], where: str) -> None:
    for t in tracked:
        if t.out.oid and t.out.use_cache:
            _add(repo, owners, t.out.oid, t.out.legacy, t.rel, t.pointer_rel, where, pointer=True)


def _add(repo: Repo, owners: Owners, oid: str, legacy: bool, path: str, control: str, where: str,
         pointer: bool = False) -> None:
    label = f"{path} ({control}, {where})"
    seen = owners.by_oid.setdefault(oid, [])
    if label in seen:
        return
    seen.append(label)
    owners.refs.add((oid, legacy))
    if pointer:
        owners.pointed.add((oid, legacy))
    if oid.endswith(".dir"):
        tree = repo.odb.try_load_tree(oid, legacy)
        if tree is None and owners.fetch_tree is not None:
            tree = owners.fetch_tree(oid, legacy)
        if tree is None:
            owners.missing_manifests.add(path)
            return
        for rel, child in tree:
            owners.refs.add((child, legacy))
            if pointer:
                owners.pointed.add((child, legacy))
            child_label = f"{path}/{rel} ({control}, {where})"
            items = owners.by_oid.setdefault(child, [])
            if child_label not in items:
                items.append(child_label)
