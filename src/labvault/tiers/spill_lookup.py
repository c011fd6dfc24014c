"""Finding a cache's spilled objects: a ``spilled`` row of this cache on one of its tiers, and the
tier's file there (one ``stat``; its bytes are read back when the object is fetched, not here)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from labvault.catalog.lab_schema import lab_units
from labvault.catalog.store import Catalog
from labvault.core.odb import ObjectStore
from labvault.tiers import spill_rows as _rows


@dataclass(frozen=True)
class SpillLookup:
    cat: Catalog
    cache: str  # real path of the cache folder
    stores: dict[str, ObjectStore]  # tier name -> its object store

    def present(self, oids: Iterable[str]) -> dict[str, str]:
        """oid -> tier for the objects of ``oids`` spilled by this cache whose tier file exists."""
        wanted = set(oids)
        if not wanted:
            return {}
        rows = _rows.spilled_on(self.cat, self.cache, self.stores, wanted)
        return {oid: tier for oid, tier in rows.items() if os.path.isfile(self.stores[tier].oid_path(oid))}


def last_reads(cat: Catalog, oids: Iterable[str]) -> dict[str, datetime]:
    """oid -> the newest ``last_access`` of the lab units whose content hash is that oid (the
    access log's summary on each unit row, ``ix_lab_units_hash``)."""
    found: dict[str, datetime] = {}
    q = sa.select(lab_units.c.content_hash, lab_units.c.last_access).where(lab_units.c.last_access.is_not(None))
    with cat.read() as conn:
        for part in _rows.chunks(oids):
            for h, at in conn.execute(q.where(lab_units.c.content_hash.in_(part))):
                key = str(h)
                if key not in found or found[key] < at:
                    found[key] = at
    return found
