"""Garbage collection of the object store: plan (what goes, what stays), then execute.

The plan is computed from a keep-set the caller builds (the workspace layer knows what is used).
Deleting an unused object can never break a used one, so a crash mid-way only leaves less garbage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from labvault.core.odb import ObjectStore, StoredObject, temp_owner_alive
from labvault.progress import NULL_PROGRESS, Progress

Ref = tuple[str, bool]


@dataclass(frozen=True)
class GcPlan:
    store: ObjectStore
    remove: tuple[StoredObject, ...]
    kept: int
    stale_temps: tuple[str, ...] = field(default_factory=tuple)

    @property
    def removed_bytes(self) -> int:
        return sum(o.size for o in self.remove)

    def execute(self, progress: Progress = NULL_PROGRESS) -> int:
        task = progress.task("removing unused objects", total=len(self.remove))
        try:
            # Files before manifests: a manifest never outlives the moment it could be read.
            for obj in sorted(self.remove, key=lambda o: o.oid.endswith(".dir")):
                self.store.remove(obj.path)
                task.advance(1, obj.size)
        finally:
            task.close()
        for tmp in self.stale_temps:
            self.store.remove(tmp)
        return len(self.remove)


def plan_gc(store: ObjectStore, keep: set[Ref]) -> GcPlan:
    remove: list[StoredObject] = []
    kept = 0
    for obj in store.iter_objects(with_size=True):
        if (obj.oid, obj.legacy) in keep:
            kept += 1
        else:
            remove.append(obj)
    temps = tuple(t for t in store.iter_temps() if not temp_owner_alive(t.rsplit("/", 1)[-1]))
    return GcPlan(store, tuple(remove), kept, temps)
