"""Which cache objects spill to a tier: the plan of ``labvault cache spill``.

The candidates are exactly what ``gc`` would delete (``core.gc.plan_gc`` with the same keep-set:
the objects the workspace of every kept revision uses); of those, the ones read since the cutoff
stay. An object's last read is the newest ``last_access`` of a lab unit whose content hash is the
object or a folder manifest listing it (the access log), else the object file's mtime (its
arrival in the cache: a spilled object fetched back arrives anew). Objects of the 2.x layout
never spill. Folder manifests that spill are copied but stay in the cache (see ``spill_run``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from labvault.core.gc import plan_gc
from labvault.core.odb import ObjectStore
from labvault.core.tree import is_dir_oid

Ref = tuple[str, bool]
ReadsOf = Callable[[set[str]], dict[str, datetime]]


@dataclass(frozen=True)
class SpillItem:
    oid: str
    size: int
    last_read: datetime  # naive UTC
    source: str  # "access log" | "mtime"


@dataclass(frozen=True)
class SpillPlan:
    tier: str
    cutoff: datetime
    move: tuple[SpillItem, ...]  # files: copied to the tier, then deleted from the cache
    manifests: tuple[SpillItem, ...]  # folder manifests: copied, kept in the cache
    kept: int  # used by a kept revision
    recent: int  # unused, but read since the cutoff
    legacy: int  # unused objects of the 2.x layout (never spilled)

    @property
    def move_bytes(self) -> int:
        return sum(i.size for i in self.move)


def _mtime(path: str) -> datetime | None:
    try:
        ts = os.stat(path).st_mtime
    except FileNotFoundError:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).replace(tzinfo=None)


def plan_spill(odb: ObjectStore, keep: set[Ref], tier: str, cutoff: datetime, reads_of: ReadsOf,
               copied: frozenset[str] = frozenset()) -> SpillPlan:
    """``keep``: the refs of ``workspace.used.collect_used``; ``reads_of(oids)``: the access log's
    newest read of each of ``oids`` that has one; ``copied``: manifests the tier holds already."""
    gc = plan_gc(odb, keep)
    candidates = [o for o in gc.remove if not o.legacy]
    reads = reads_of({o.oid for o in candidates})
    inherited: dict[str, datetime] = {}
    for obj in candidates:
        when = reads.get(obj.oid)
        if when is None or not is_dir_oid(obj.oid):
            continue
        tree = odb.try_load_tree(obj.oid)
        for _, child in tree or ():
            if child not in inherited or inherited[child] < when:
                inherited[child] = when
    move: list[SpillItem] = []
    manifests: list[SpillItem] = []
    recent = 0
    for obj in sorted(candidates, key=lambda o: o.oid):
        logged = [t for t in (reads.get(obj.oid), inherited.get(obj.oid)) if t is not None]
        if logged:
            last, source = max(logged), "access log"
        else:
            stamp = _mtime(obj.path)
            if stamp is None:  # deleted meanwhile: nothing to spill
                continue
            last, source = stamp, "mtime"
        if last >= cutoff:
            recent += 1
            continue
        item = SpillItem(obj.oid, obj.size, last, source)
        if not is_dir_oid(obj.oid):
            move.append(item)
        elif obj.oid not in copied:
            manifests.append(item)
    legacy = sum(1 for o in gc.remove if o.legacy)
    return SpillPlan(tier, cutoff, tuple(move), tuple(manifests), gc.kept, recent, legacy)
