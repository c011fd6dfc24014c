"""Reading a tier's units back: each live placement hashed from the disk and compared with its
unit's content hash (DVC's md5, or the ``.dir`` oid of a folder), file by file when it differs.

A placement whose location is gone is ``missing``; one whose bytes hash to another value is
``corrupt``, with the files that differ from what the last scan recorded (``lab_file_stats``):
changed, missing or new. Reads bypass the page cache where the kernel allows
(``POSIX_FADV_DONTNEED``, as the mover's verification does), so the disk itself is checked.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from labvault.catalog.lab_schema import lab_placements, lab_units
from labvault.catalog.store import Catalog
from labvault.progress import NULL_PROGRESS, Progress
from labvault.tiers.copy import hash_copy
from labvault.tiers.types import UnitName
from labvault.tiers.units import LIVE_STATES, file_stats


@dataclass(frozen=True)
class TierItem:
    """A live placement on the tier with what it should hold."""

    location: str
    placement_id: int
    unit: str  # the unit's reference, e.g. "imagenet@v2 (train)"
    kind: str
    content_hash: str | None
    size: int


@dataclass(frozen=True)
class PlacementCheck:
    item: TierItem
    problem: str | None  # None (ok), missing, corrupt, unreadable, unhashed
    detail: str | None


def tier_items(cat: Catalog, tier: str) -> list[TierItem]:
    q = (sa.select(lab_placements.c.location, lab_placements.c.id, lab_units.c.kind, lab_units.c.name,
                   lab_units.c.version, lab_units.c.part, lab_units.c.content_hash, lab_units.c.size)
         .join(lab_units, lab_units.c.id == lab_placements.c.unit_id)
         .where(lab_placements.c.tier == tier, lab_placements.c.state.in_(LIVE_STATES))
         .order_by(lab_placements.c.location))
    with cat.read() as conn:
        return [TierItem(r.location, r.id, UnitName(r.kind, r.name, r.version, r.part).ref(), r.kind, r.content_hash,
                         r.size) for r in conn.execute(q)]


def check_items(cat: Catalog, items: Sequence[TierItem], deadline: float | None = None,
                progress: Progress = NULL_PROGRESS) -> list[PlacementCheck]:
    """Hash each placement (one at a time: a unit is one disk's sequential read); placements not
    started before ``deadline`` (``time.monotonic()``) are left out."""
    import time

    task = progress.task("verifying units", total=len(items), total_bytes=sum(i.size for i in items))
    out: list[PlacementCheck] = []
    try:
        for item in items:
            if deadline is not None and time.monotonic() >= deadline:
                break
            out.append(_check(cat, item))
            task.advance(1, item.size)
    finally:
        task.close()
    return out


def _check(cat: Catalog, item: TierItem) -> PlacementCheck:
    if item.content_hash is None:
        return PlacementCheck(item, "unhashed", "no content hash recorded: run `labvault lab scan`")
    if not os.path.lexists(item.location):
        return PlacementCheck(item, "missing", f"{item.location} is gone")
    try:
        got, stats = hash_copy(item.location)
    except OSError as e:
        return PlacementCheck(item, "unreadable", f"{e.filename or item.location}: {e.strerror or e}")
    if got == item.content_hash:
        return PlacementCheck(item, None, None)
    recorded = file_stats(cat, item.placement_id)
    changed = sorted(rel for rel, s in stats.items() if rel in recorded and recorded[rel][3] != s[3])
    gone = sorted(rel for rel in recorded if rel not in stats)
    new = sorted(rel for rel in stats if rel not in recorded)
    parts = [f"{label}: {', '.join(r or os.path.basename(item.location) for r in rels[:5])}{' ...' if len(rels) > 5 else ''}"
             for label, rels in (("changed", changed), ("missing", gone), ("new", new)) if rels]
    return PlacementCheck(item, "corrupt", f"hashes to {got}, not {item.content_hash}"
                          + (f" ({'; '.join(parts)})" if parts else ""))
