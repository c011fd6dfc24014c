"""``gc --cloud``: delete from a remote the objects the kept revisions do not use, as ``dvc gc -c``.

What is kept is decided from the same used objects as the cache's gc, with one more rule: every
folder manifest those revisions use must be read, so that the files it lists are kept. A manifest
the cache lacks is read from the remote (its bytes checked against its name); one that is on
neither refuses the whole remote gc, nothing deleted: which files it needs cannot be known. Only
3.x objects (``files/md5/``) are considered; 2.x objects and anything else under the remote's root
are left alone. Deleting an object another clone still needs for a revision this repository does
not know (pushed meanwhile from elsewhere) is what ``dvc gc -c`` does too; that clone's next
``push`` sends it again, since push asks the remote what it holds every time.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from labvault.core.tree import Tree
from labvault.errors import ManifestError, RemoteError
from labvault.progress import Progress
from labvault.remotes.store import RemoteStore, key_of, ref_of
from labvault.workspace.used import UsedObjects

Ref = tuple[str, bool]


@dataclass(frozen=True)
class RemoteGcPlan:
    remote: str
    remove: tuple[tuple[str, int], ...]  # (oid, size) of the objects to delete, sorted
    kept: int  # 3.x objects on the remote the kept revisions use

    @property
    def removed_bytes(self) -> int:
        return sum(size for _, size in self.remove)


def plan_remote_gc(store: RemoteStore, used: UsedObjects,
                   odb_load: Callable[[str, bool], Tree | None]) -> RemoteGcPlan:
    """The remote's 3.x objects that ``used`` does not name, after every used manifest has been
    read (from the cache through ``odb_load(oid, legacy) -> Tree | None``, else from the remote)."""
    keep = {oid for oid, legacy in used.refs if not legacy}
    for oid, legacy in sorted(r for r in used.refs if r[0].endswith(".dir") and not r[1]):
        tree = odb_load(oid, legacy)
        if tree is None:
            tree = _remote_manifest(store, oid)
        if tree is None:
            if (oid, legacy) in used.optional:
                continue  # an uncached stage output's: no objects anywhere to keep
            raise RemoteError(
                f"manifest {oid} (a folder the kept revisions use) is neither in the cache nor on remote "
                f"{store.name}: which of its files to keep cannot be known; nothing deleted",
                "push or fetch it first, or remove the revision that names it from the kept ones",
            )
        keep.update(child for _, child in tree)
    remove: list[tuple[str, int]] = []
    kept = 0
    for key, size in store.backend.walk("files/md5"):
        ref = ref_of(key)
        if ref is None or ref[1]:
            continue
        if ref[0] in keep:
            kept += 1
        else:
            remove.append((ref[0], size))
    return RemoteGcPlan(store.name, tuple(sorted(remove)), kept)


def _remote_manifest(store: RemoteStore, oid: str) -> Tree | None:
    """The manifest ``oid`` read from the remote, or None when it is absent or not its bytes."""
    fd, tmp = tempfile.mkstemp(prefix=".lvgc-", suffix=".lvtmp")
    os.close(fd)
    os.unlink(tmp)
    try:
        digest, _ = store.backend.get_hashed(key_of(oid), tmp)
        if digest + ".dir" != oid:
            return None
        with open(tmp, "rb") as f:
            return Tree.parse(f.read(), where=f"manifest {oid} on remote {store.name}")
    except (FileNotFoundError, ManifestError):
        return None
    finally:
        if os.path.lexists(tmp):
            os.chmod(tmp, 0o600)
            os.unlink(tmp)


def execute_remote_gc(store: RemoteStore, plan: RemoteGcPlan, progress: Progress) -> None:
    """Delete the planned objects: manifests first, then files, so that whenever this stops, a
    manifest still on the remote has all its files there (as push keeps it, in the other order)."""
    files = [oid for oid, _ in plan.remove if not oid.endswith(".dir")]
    dirs = [oid for oid, _ in plan.remove if oid.endswith(".dir")]
    task = progress.task(f"deleting from {store.name}", total=len(plan.remove))
    try:
        for group in (dirs, files):
            if not group:
                continue
            with ThreadPoolExecutor(max_workers=min(store.jobs, len(group))) as pool:
                for _ in pool.map(lambda oid: store.backend.delete(key_of(oid)), group):
                    task.advance(1)
    finally:
        task.close()
