"""Value types of the lab's state, as the library returns them (frozen)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class UnitName:
    """How a unit is known: kind, name, version and part (a dataset's split, a model's or run's
    date); version and part are "" when the name says none."""

    kind: str
    name: str
    version: str = ""
    part: str = ""

    def ref(self) -> str:
        text = f"{self.name}@{self.version}" if self.version else self.name
        return f"{text} ({self.part})" if self.part else text


@dataclass(frozen=True)
class Placement:
    """One copy of a unit on a tier. ``state``: present, verified, copying, deleting, missing."""

    tier: str
    location: str
    state: str
    verified_at: datetime | None


@dataclass(frozen=True)
class LabUnit:
    """A unit with its placements (hottest tier first)."""

    id: int
    kind: str
    name: str
    version: str
    part: str
    content_hash: str | None
    size: int
    nfiles: int
    created_at: datetime
    modified_at: datetime | None
    last_access: datetime | None
    placements: tuple[Placement, ...]

    @property
    def copies(self) -> int:
        """Copies that can be read: placements present or verified."""
        return sum(1 for p in self.placements if p.state in ("present", "verified"))


@dataclass(frozen=True)
class ScanResult:
    """What ``lab scan`` found: units and placements added or changed, files hashed or trusted
    from the stat cache, and entries skipped (with why)."""

    units: int
    new_units: int
    changed_units: int
    new_placements: int
    missing_placements: int
    hashed_files: int
    hashed_bytes: int
    cached_files: int
    skipped: tuple[str, ...]


@dataclass(frozen=True)
class TierUsage:
    """One tier's usage: ``used``/``capacity``/``free`` in bytes (None when unknown, e.g. a bucket
    without capacity), what the catalog places there, and the monthly cost of that."""

    name: str
    where: str
    storage_class: str | None
    used: int | None
    capacity: int | None
    free: int | None
    percent: float | None
    unit_bytes: int
    objects: int
    units: int
    datasets: int
    price_per_gb_month: float
    monthly_cost: float
    status: str
