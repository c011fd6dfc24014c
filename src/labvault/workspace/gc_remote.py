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

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from labvault.core.odb import ObjectStore
from labvault.errors import CacheError, ManifestError, RemoteError
from labvault.progress import Progress
from labvault.remotes.reading import ObjectPlaces
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


def plan_remote_gc(store: RemoteStore, used: UsedObjects, odb: ObjectStore) -> RemoteGcPlan:
    """The remote's 3.x objects that ``used`` does not name, after every used manifest has been
    read (from the cache, else from the remote; checked against its name either way)."""
    keep = {oid for oid, legacy in used.refs if not legacy}
    places = ObjectPlaces(odb, [store])
    for oid, legacy in sorted(r for r in used.refs if r[0].endswith(".dir") and not r[1]):
        try:
            tree = places.tree(oid)
        except (CacheError, ManifestError) as exc:  # absent, corrupt or unreadable on both sides
            if (oid, legacy) in used.optional:
                continue  # an uncached stage output's: no objects anywhere to keep
            raise RemoteError(
                f"manifest {oid} (a folder the kept revisions use) is neither in the cache nor on remote "
                f"{store.name} in good order ({exc.message}): which of its files to keep cannot be known; "
                "nothing deleted",
                "push or fetch it first, or remove the revision that names it from the kept ones",
            ) from None
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
