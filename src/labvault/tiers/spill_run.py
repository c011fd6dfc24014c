"""Executing a spill plan, and finishing or rolling back one that a crash interrupted.

Per batch of objects: (1) a ``copying`` row for each, in one transaction; (2) each copied into the
tier's object store (``<tier>/files/md5/XX/REST``, written at a temp name and renamed, as the
cache writes objects); (3) one ``syncfs`` of the tier's file system, then every copy read back
and its md5 compared with its name; (4) the rows become ``spilled`` in one transaction; (5) only
then are the files deleted from the cache (folder manifests stay). A crash before (4) leaves the
object in the cache and a ``copying`` row: :func:`recover` drops the row (and the tier's copy
when no other cache's row names it). A crash after (4) leaves the object in both places, which is
only a spill to finish: the next run reads the copy back again and deletes the cache's.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from labvault.catalog.store import Catalog
from labvault.core.hashing import md5
from labvault.core.odb import TMP_MARK, ObjectStore, StoredObject, temp_owner_alive
from labvault.core.tree import is_dir_oid
from labvault.errors import CacheError, StorageError
from labvault.progress import NULL_PROGRESS, Progress
from labvault.tiers import spill_rows as _rows
from labvault.tiers.spill_plan import SpillItem, SpillPlan

BATCH = 256


@dataclass(frozen=True)
class SpillTarget:
    """Where a cache spills: the catalog holding its rows, the cache's key, the tier's store."""

    cat: Catalog
    cache: str  # real path of the cache folder
    repo: str
    tier: str
    store: ObjectStore  # the tier's object store (its root is the tier's folder)


@dataclass(frozen=True)
class Recovered:
    rolled_back: tuple[str, ...]  # copying rows dropped: the object was still in the cache
    finished: tuple[str, ...]  # copying rows whose tier copy verified, the cache's copy gone
    lost: tuple[str, ...]  # copying rows with the object in neither place (deleted by someone else)


def verified(store: ObjectStore, oid: str) -> bool:
    """Whether the tier holds ``oid`` with the right md5 (read back whole)."""
    path = store.oid_path(oid)
    try:
        return store.check(StoredObject(oid, path, False, 0))
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StorageError(f"reading {path}: {exc.strerror}", "check the tier's mount") from exc


def _copy(odb: ObjectStore, store: ObjectStore, oid: str) -> None:
    src = odb.oid_path(oid)
    final = store.oid_path(oid)
    if os.path.exists(final):
        if verified(store, oid):
            return
        os.unlink(final)  # a damaged copy: nothing may vouch for it
    if is_dir_oid(oid):
        with open(src, "rb") as f:
            data = f.read()
        if md5(data).hexdigest() + ".dir" != oid:
            raise CacheError(f"cache object {oid} is corrupt", "run `labvault verify --remove-corrupt`")
        store.store_bytes(data, oid)
        store.wrote = True
        return
    got, _ = store.store_file(src, "copy")
    if got != oid:
        raise CacheError(f"cache object {oid} is corrupt (its bytes hash to {got})",
                         "run `labvault verify --remove-corrupt`")


def execute_spill(plan: SpillPlan, odb: ObjectStore, target: SpillTarget, before_delete: Callable[[], None],
                  progress: Progress = NULL_PROGRESS) -> int:
    """Copy, verify, record, delete; returns how many files left the cache. ``before_delete`` runs
    once before the first deletion (the caller's stat cache must stop vouching for the cache)."""
    items: list[SpillItem] = [*plan.manifests, *plan.move]
    task = progress.task(f"spilling to {target.tier}", total=len(items))
    removed = 0
    warned = False
    try:
        for i in range(0, len(items), BATCH):
            batch = items[i:i + BATCH]
            _rows.journal(target.cat, target.cache, target.repo, target.tier, {x.oid: x.size for x in batch})
            for x in batch:
                _copy(odb, target.store, x.oid)
            target.store.wrote = True
            target.store.sync()
            for x in batch:
                if not verified(target.store, x.oid):
                    raise StorageError(f"the tier's copy of {x.oid} does not match its md5 after writing it",
                                       f"check the disk of tier {target.tier}; the cache still holds the object")
            _rows.set_spilled(target.cat, target.cache, target.tier, [x.oid for x in batch])
            files = [x for x in batch if not is_dir_oid(x.oid)]
            if files and not warned:
                before_delete()
                warned = True
            for x in files:
                odb.remove(odb.oid_path(x.oid))
                removed += 1
            for x in batch:
                task.advance(1, x.size)
    finally:
        task.close()
    return removed


def _drop_copy(target: SpillTarget, oids: list[str]) -> None:
    """Drop the rows of ``oids``, and their tier copies that no other cache's row names."""
    _rows.drop(target.cat, target.cache, target.tier, oids)
    shared = _rows.named_elsewhere(target.cat, target.cache, target.tier, oids)
    for oid in oids:
        if oid not in shared:
            target.store.remove(target.store.oid_path(oid))


def recover(odb: ObjectStore, target: SpillTarget) -> Recovered:
    """Finish or roll back the ``copying`` rows an interrupted spill left, and remove its temp
    files in the tier. The caller holds the repo's lock and the lab's move lock."""
    copying = [o for o, s in _rows.states(target.cat, target.cache, target.tier).items() if s == "copying"]
    back: list[str] = []
    done: list[str] = []
    lost: list[str] = []
    for oid in copying:
        if odb.exists(oid):
            back.append(oid)
        elif verified(target.store, oid):
            done.append(oid)
        else:
            lost.append(oid)
    if back:
        _drop_copy(target, back)
    if done:
        _rows.set_spilled(target.cat, target.cache, target.tier, done)
    if lost:
        _rows.drop(target.cat, target.cache, target.tier, lost)
    _remove_stale_temps(target.store)
    return Recovered(tuple(back), tuple(done), tuple(lost))


def _remove_stale_temps(store: ObjectStore) -> None:
    """Temp files of dead writers under the tier's ``files/md5`` (never elsewhere in the tier)."""
    try:
        prefixes = os.listdir(store.root)
    except FileNotFoundError:
        return
    for prefix in prefixes:
        try:
            names = os.listdir(f"{store.root}/{prefix}")
        except OSError:
            continue
        for name in names:
            if name.endswith(TMP_MARK) and not temp_owner_alive(name):
                store.remove(f"{store.root}/{prefix}/{name}")


def drop_spilled(target: SpillTarget, oids: list[str]) -> None:
    """``gc --spilled``: forget the cache's spilled copies of ``oids`` (rows first, then the tier's
    files no other cache names; a crash between leaves only an unnamed file)."""
    if oids:
        _drop_copy(target, oids)
