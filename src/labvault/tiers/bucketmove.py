"""The mover's steps for bucket tiers (``s3://``, ``gs://``, ``azure://``), used by
:mod:`labvault.tiers.move`, :mod:`labvault.tiers.finish` and :mod:`labvault.tiers.recover`.

To a bucket: objects sent (``copied``), each confirmed intact and the manifest's hash compared
with the catalog's (``verified``), then the manifest written; the switch and the journal are the
local mover's. The source is then removed; nothing is left at its path (no symlink can point at a
URL): ``where OLD_PATH`` follows the journal to the new place.

From a bucket: the restore check (archive classes), then the unit rebuilt at the local temp name
and verified by the local mover's read-back hash. Retiring a bucket placement deletes the objects
its manifest names that no other manifest on the tier names, then the manifest itself (in that
order, so a crash in between leaves the manifest to say what is left to delete).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from labvault.catalog.lab_schema import lab_placements
from labvault.catalog.store import Catalog
from labvault.tiers import journal
from labvault.tiers.bucket import Manifest, is_url, manifest_key, read_manifest, write_manifest
from labvault.tiers.cloudmove import check_sent, fetch_unit, send_unit
from labvault.tiers.lab import LabConfig, Tier
from labvault.tiers.objects import TierObjects
from labvault.tiers.restore import needs_restore, pending_line, readiness
from labvault.tiers.types import LabUnit


def store_for(tier: Tier) -> TierObjects:
    return TierObjects(tier)


def upload(cat: Catalog, lab: LabConfig, unit: LabUnit, src_location: str, dst_tier: str, dst_location: str,
           ref: str, move_id: int, advance: Callable[[int], None]) -> None:
    """Steps 3-4 to a bucket: send, ``copied``, verify, manifest written, ``verified``."""
    tier = lab.tier(dst_tier)
    store = store_for(tier)
    manifest = send_unit(src_location, store, advance)
    journal.advance(cat, move_id, "copied")
    check_sent(src_location, store, manifest, str(unit.content_hash), ref)
    write_manifest(store.backend, manifest_key(tier, dst_location), manifest)
    journal.advance(cat, move_id, "verified")


def source_manifest(lab: LabConfig, src_tier: str, location: str) -> tuple[TierObjects, Manifest]:
    tier = lab.tier(src_tier)
    store = store_for(tier)
    return store, read_manifest(store.backend, manifest_key(tier, location))


def restore_line(lab: LabConfig, src_tier: str, location: str, name: str, request: bool = True) -> str | None:
    """None when every object of the unit at ``location`` can be read; else the one line saying the
    restore was requested (or is in progress)."""
    tier = lab.tier(src_tier)
    if not needs_restore(tier):
        return None
    store, manifest = source_manifest(lab, src_tier, location)
    state = readiness(store, manifest, request)
    return None if state.all_ready else pending_line(name, tier, state)


def download(lab: LabConfig, src_tier: str, location: str, temp: str, advance: Callable[[int], None]) -> None:
    store, manifest = source_manifest(lab, src_tier, location)
    fetch_unit(store, manifest, temp, advance)


def discard(cat: Catalog, lab: LabConfig, tier_name: str, location: str) -> None:
    """Undo an unfinished upload: its manifest goes unless a live placement names it (objects stay:
    they may be shared; they are not counted anywhere)."""
    with cat.read() as conn:
        live = conn.execute(sa.select(lab_placements.c.id).where(lab_placements.c.location == location)).first()
    if live is not None:
        return
    tier = lab.tier(tier_name)
    store_for(tier).backend.delete(manifest_key(tier, location))


def holds(lab: LabConfig, tier_name: str, location: str, size: int | None) -> bool:
    """Recovery's check of a switched copy on a bucket: the manifest reads, names ``size`` bytes,
    and every object is there with its size."""
    try:
        store, manifest = source_manifest(lab, tier_name, location)
    except (OSError, FileNotFoundError):
        return False
    if size is not None and manifest.size != size:
        return False
    return all(store.present(md5, n) for md5, n in manifest.objects().items())


def retire(cat: Catalog, lab: LabConfig, tier_name: str, location: str) -> None:
    """Delete a bucket placement's objects (those no other manifest on the tier names), then its
    manifest. Idempotent. If another manifest cannot be read, no object is deleted."""
    tier = lab.tier(tier_name)
    store = store_for(tier)
    key = manifest_key(tier, location)
    try:
        manifest = read_manifest(store.backend, key)
    except FileNotFoundError:
        return
    with cat.read() as conn:
        others = [str(r.location) for r in conn.execute(sa.select(lab_placements.c.location).where(
            lab_placements.c.tier == tier_name, lab_placements.c.location != location))]
    keep: set[str] = set()
    try:
        for other in others:
            if is_url(other):
                try:
                    keep.update(read_manifest(store.backend, manifest_key(tier, other)).objects())
                except FileNotFoundError:
                    continue
    except Exception:
        keep = set(manifest.objects())  # cannot tell what is shared: keep every object
    for md5 in manifest.objects():
        if md5 not in keep:
            store.delete(md5)
    store.backend.delete(key)
