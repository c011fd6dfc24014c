"""Re-hash every object in a store; report the corrupt ones (content differs from name)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from labvault.core.odb import ObjectStore, StoredObject
from labvault.progress import NULL_PROGRESS, Progress


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    corrupt: tuple[StoredObject, ...]
    unreadable: tuple[StoredObject, ...]


def verify_store(store: ObjectStore, jobs: int = 2, progress: Progress = NULL_PROGRESS) -> VerifyReport:
    objects = list(store.iter_objects(with_size=True))
    task = progress.task("verifying objects", total=len(objects), total_bytes=sum(o.size for o in objects))

    def check(obj: StoredObject) -> tuple[StoredObject, bool | None]:
        try:
            ok: bool | None = store.check(obj)
        except OSError:
            ok = None
        task.advance(1, obj.size)
        return obj, ok

    corrupt: list[StoredObject] = []
    unreadable: list[StoredObject] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for obj, ok in pool.map(check, objects, chunksize=64):
                if ok is None:
                    unreadable.append(obj)
                elif not ok:
                    corrupt.append(obj)
    finally:
        task.close()
    return VerifyReport(len(objects), tuple(corrupt), tuple(unreadable))


def check_objects(store: ObjectStore, objects: list[StoredObject], jobs: int = 2, deadline: float | None = None,
                  progress: Progress = NULL_PROGRESS) -> list[tuple[StoredObject, str | None]]:
    """Re-hash ``objects``: (object, None | "corrupt" | "missing" | "unreadable") for each started
    before ``deadline`` (``time.monotonic()``); the scrubbing form of ``verify_store``."""
    import time

    task = progress.task("verifying objects", total=len(objects), total_bytes=sum(o.size for o in objects))

    def one(obj: StoredObject) -> tuple[StoredObject, str | None] | None:
        if deadline is not None and time.monotonic() >= deadline:
            return None
        try:
            problem = None if store.check(obj) else "corrupt"
        except FileNotFoundError:
            problem = "missing"
        except OSError:
            problem = "unreadable"
        task.advance(1, obj.size)
        return obj, problem

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return [r for r in pool.map(one, objects) if r is not None]
    finally:
        task.close()
