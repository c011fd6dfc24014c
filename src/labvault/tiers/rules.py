"""How the lifecycle planner judges one placement: rules, pins, early-deletion fees, IA object sizes.

Pure functions over a :class:`Candidate` (one live placement of a unit, as the planner read it) and
the labels the planner fetched in bulk; nothing here reads the database.

- Idle time is from the unit's last recorded read (``lab_units.last_access``), else from when it
  was first seen; atime is never used. Age is from ``modified_at``, else from first seen.
- A placement's time on its tier is from the placement row's ``created_at`` (when the scan found
  it or the mover made it): moving it off a tier with a minimum storage duration before that
  duration is over costs the remaining days at the tier's price.
"""

from __future__ import annotations

from datetime import datetime
from fnmatch import fnmatchcase
from typing import NamedTuple

from labvault.remotes.classes import IA_MIN_OBJECT_BYTES, early_deletion_fee
from labvault.tiers.lab import Pins, Rule, Tier

DAY = 86400.0
MONTH_DAYS = 30.0


class Candidate(NamedTuple):
    """One live placement of a unit (a plain tuple of the catalog's columns, in this order)."""

    unit_id: int
    kind: str
    name: str
    version: str
    part: str
    size: int
    nfiles: int
    version_id: int | None
    created_at: datetime
    modified_at: datetime | None
    last_access: datetime | None
    placement_id: int
    tier: str
    location: str
    placed_at: datetime

    def idle_days(self, as_of: datetime) -> float:
        return days(as_of, self.last_access or self.created_at)

    def age_days(self, as_of: datetime) -> float:
        return days(as_of, self.modified_at or self.created_at)


def days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / DAY


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def matches(rule: Rule, c: Candidate, idle: float, age: float, labels: frozenset[str]) -> bool:
    """Whether ``c`` (on ``rule.from_tier``) meets every condition ``rule`` gives; ``idle`` and
    ``age`` are its idle days and age in days as of the plan's date, ``labels`` the tags and aliases
    of the unit's catalog version."""
    if rule.from_tier != c.tier:
        return False
    if rule.last_access_days is not None and idle < rule.last_access_days:
        return False
    if rule.age_days is not None and age < rule.age_days:
        return False
    if rule.min_size is not None and c.size < rule.min_size:
        return False
    if rule.max_size is not None and c.size > rule.max_size:
        return False
    if rule.kinds and c.kind not in rule.kinds:
        return False
    if rule.names and not any(fnmatchcase(c.name, g) for g in rule.names):
        return False
    return not rule.tags or bool(labels.intersection(rule.tags))


def first_rule(rules: tuple[Rule, ...], c: Candidate, idle: float, age: float,
               labels: frozenset[str]) -> Rule | None:
    """The first rule, in the config's order, that ``c`` matches (``idle``, ``age``: as :func:`matches`)."""
    for rule in rules:
        if matches(rule, c, idle, age, labels):
            return rule
    return None


def why(rule: Rule, c: Candidate, idle: float, age: float) -> str:
    """The rule's conditions with the unit's values, e.g. ``rule hot->warm: not read for 12.0 d (>= 7)``."""
    parts: list[str] = []
    if rule.last_access_days is not None:
        seen = "not read for" if c.last_access is not None else "never read, first seen"
        parts.append(f"{seen} {idle:.1f} d (>= {rule.last_access_days:g})")
    if rule.age_days is not None:
        parts.append(f"age {age:.1f} d (>= {rule.age_days:g})")
    if rule.min_size is not None:
        parts.append(f"size {human_bytes(c.size)} (>= {human_bytes(rule.min_size)})")
    if rule.max_size is not None:
        parts.append(f"size {human_bytes(c.size)} (<= {human_bytes(rule.max_size)})")
    if rule.kinds:
        parts.append(f"kind {c.kind}")
    if rule.names:
        parts.append(f"name {c.name}")
    if rule.tags:
        parts.append(f"tagged {', '.join(rule.tags)}")
    return f"rule {rule.name}: " + ("; ".join(parts) or "no condition")


def pin_reason(pins: Pins, c: Candidate, labels: frozenset[str], active_inputs: frozenset[int]) -> str | None:
    """Why ``c`` must not be demoted, or None: a pinned tag or alias, a pinned name, or its version
    being an input of a run started within ``pins.active_run_days``."""
    tagged = sorted(labels.intersection(pins.tags)) if labels else None
    if tagged:
        return f"pinned: tag {tagged[0]}"
    for glob in pins.names:
        if fnmatchcase(c.name, glob):
            return f"pinned: name matches {glob}"
    if c.version_id is not None and c.version_id in active_inputs:
        return f"pinned: input of a run started within {pins.active_run_days:g} d"
    return None


def early_days(tier: Tier, c: Candidate, as_of: datetime) -> float:
    """Days of ``tier``'s minimum storage duration still to run for ``c`` (0 when it is over)."""
    if tier.min_storage_days <= 0:
        return 0.0
    return max(0.0, tier.min_storage_days - days(as_of, c.placed_at))


def early_fee(tier: Tier, size: int, remaining_days: float) -> float:
    """What deleting ``size`` bytes from ``tier`` ``remaining_days`` early is billed (30-day months)."""
    return early_deletion_fee(tier.price_per_gb_month, size, remaining_days)


def small_objects(dst: Tier, c: Candidate, smallest: int | None) -> str | None:
    """Why ``c`` must not go to ``dst`` (an infrequent-access class) as it is, or None. ``smallest``
    is the smallest file of the placement from the scan's stat cache (None when unknown: then a
    file unit's size, or a folder's mean file size)."""
    if not dst.infrequent_access:
        return None
    if smallest is None:
        smallest = c.size if c.nfiles <= 1 else c.size // max(1, c.nfiles)
    if smallest >= IA_MIN_OBJECT_BYTES:
        return None
    return (f"objects under 128 KiB (smallest {human_bytes(smallest)}) are billed as 128 KiB each in "
            f"{dst.storage_class}; packing them is not supported, so {dst.name} does not take this unit")
