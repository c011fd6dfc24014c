"""``tier list``: each tier's used, free and capacity, what the catalog places there, and its cost.

A folder tier without a configured capacity reports its mount (``statvfs``): used and total as the
file system counts them. With ``capacity`` set, the tier is a quota: used is the bytes of the units
placed there, free is what is left of the quota (never more than the mount has free). A bucket
reports the bytes placed there, against its capacity when one is set.
"""

from __future__ import annotations

import shutil

from labvault.tiers.lab import LabConfig, Tier
from labvault.tiers.types import TierUsage


def tier_usage(lab: LabConfig, totals: dict[str, tuple[int, int, int, int]]) -> list[TierUsage]:
    """Each tier's usage, from ``totals``: ``tier -> (bytes, objects, units, datasets)`` of the
    live placements (``labvault.tiers.totals.tier_totals``)."""
    return [_one(t, *totals.get(t.name, (0, 0, 0, 0))) for t in lab.tiers]


def status_of(tier: Tier, percent: float | None) -> str:
    if percent is None:
        return "ok"
    if percent >= tier.critical_percent:
        return "critical"
    if percent >= tier.warn_percent:
        return "warn"
    return "ok"


def _one(tier: Tier, unit_bytes: int, objects: int, units: int, datasets: int) -> TierUsage:
    used: int | None
    capacity: int | None
    free: int | None
    status = ""
    if tier.path is not None:
        try:
            disk = shutil.disk_usage(tier.path)
        except OSError:
            disk = None
            status = "missing"
        if tier.capacity is not None:
            used, capacity = unit_bytes, tier.capacity
            free = max(0, capacity - used)
            if disk is not None:
                free = min(free, disk.free)
        elif disk is not None:
            used, capacity, free = disk.used, disk.total, disk.free
        else:
            used, capacity, free = None, None, None
    else:
        used, capacity = unit_bytes, tier.capacity
        free = max(0, capacity - used) if capacity is not None else None
    percent = used / capacity * 100 if used is not None and capacity else None
    return TierUsage(
        name=tier.name, where=tier.where, storage_class=tier.storage_class, used=used, capacity=capacity, free=free,
        percent=round(percent, 2) if percent is not None else None, unit_bytes=unit_bytes, objects=objects,
        units=units, datasets=datasets, price_per_gb_month=tier.price_per_gb_month,
        monthly_cost=round(tier.monthly_cost(unit_bytes), 4), status=status or status_of(tier, percent))
