"""The lifecycle plan's value types (frozen): moves, refused moves, and the plan with its totals.

``Plan.to_json()`` is the shape ``labvault lifecycle plan --json`` prints (docs/cli-contract.md).
The mover executes ``Plan.moves``; a move carries everything it needs: the unit, the source
placement (tier and location), the destination tier, the bytes and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from labvault.tiers.types import ScanResult


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when is not None else None


@dataclass(frozen=True)
class Move:
    """Move the copy of unit ``unit_id`` at ``src_location`` (on ``src_tier``) to ``dst_tier``.

    ``action`` is "demote" (to a colder tier) or "promote" (to a hotter one); ``rule`` the rule's
    name, or "promotion" for promotion on access; ``idle_days`` days since the last recorded read
    (since first seen when never read); ``age_days`` since last modified (else first seen);
    ``early_fee`` the early-deletion fee paid (0 unless the plan was made with allow_early)."""

    unit_id: int
    kind: str
    name: str
    version: str
    part: str
    src_tier: str
    src_location: str
    dst_tier: str
    size: int
    action: str
    rule: str
    reason: str
    last_access: datetime | None
    idle_days: float
    age_days: float
    early_fee: float = 0.0

    def ref(self) -> str:
        text = f"{self.name}@{self.version}" if self.version else self.name
        return f"{text} ({self.part})" if self.part else text

    def to_json(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "kind": self.kind, "name": self.name, "version": self.version,
                "part": self.part, "src_tier": self.src_tier, "src_location": self.src_location,
                "dst_tier": self.dst_tier, "bytes": self.size, "action": self.action, "rule": self.rule,
                "reason": self.reason, "last_access": _iso(self.last_access),
                "idle_days": round(self.idle_days, 2), "age_days": round(self.age_days, 2),
                "early_fee": round(self.early_fee, 6)}


@dataclass(frozen=True)
class Refused:
    """A move a rule or promotion asked for that the plan does not make, and why: ``cause`` is
    "pinned", "early_deletion" (``fee``: what moving now would cost), "small_objects" or
    "already_there" (another copy is on the destination tier)."""

    unit_id: int
    kind: str
    name: str
    version: str
    part: str
    src_tier: str
    src_location: str
    dst_tier: str
    size: int
    rule: str
    cause: str
    reason: str
    fee: float = 0.0

    def ref(self) -> str:
        text = f"{self.name}@{self.version}" if self.version else self.name
        return f"{text} ({self.part})" if self.part else text

    def to_json(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "kind": self.kind, "name": self.name, "version": self.version,
                "part": self.part, "src_tier": self.src_tier, "src_location": self.src_location,
                "dst_tier": self.dst_tier, "bytes": self.size, "rule": self.rule, "cause": self.cause,
                "reason": self.reason, "fee": round(self.fee, 6)}


@dataclass(frozen=True)
class Plan:
    """What the lifecycle would do as of ``as_of`` (naive UTC).

    ``bytes_before``/``bytes_after`` per configured tier (hottest first) count every live placement;
    ``cost_before``/``cost_after`` are those bytes times each tier's price per GiB-month.
    ``unknown_tiers``: tiers holding placements that the lab config does not name (not planned)."""

    as_of: datetime
    allow_early: bool
    moves: tuple[Move, ...]
    refused: tuple[Refused, ...]
    bytes_before: dict[str, int]
    bytes_after: dict[str, int]
    cost_before: dict[str, float]
    cost_after: dict[str, float]
    units: int
    unknown_tiers: tuple[str, ...] = ()
    scan: ScanResult | None = field(default=None, compare=False)

    @property
    def monthly_cost_before(self) -> float:
        return sum(self.cost_before.values())

    @property
    def monthly_cost_after(self) -> float:
        return sum(self.cost_after.values())

    @property
    def saving(self) -> float:
        return self.monthly_cost_before - self.monthly_cost_after

    @property
    def early_fees(self) -> float:
        return sum(m.early_fee for m in self.moves)

    @property
    def moved_bytes(self) -> int:
        return sum(m.size for m in self.moves)

    def to_json(self) -> dict[str, Any]:
        return {"as_of": _iso(self.as_of), "allow_early": self.allow_early, "units": self.units,
                "moves": [m.to_json() for m in self.moves], "refused": [r.to_json() for r in self.refused],
                "tiers": [{"name": t, "bytes_before": self.bytes_before[t], "bytes_after": self.bytes_after[t],
                           "cost_before": round(self.cost_before[t], 6), "cost_after": round(self.cost_after[t], 6)}
                          for t in self.bytes_before],
                "moved_bytes": self.moved_bytes,
                "monthly_cost_before": round(self.monthly_cost_before, 6),
                "monthly_cost_after": round(self.monthly_cost_after, 6), "saving": round(self.saving, 6),
                "early_fees": round(self.early_fees, 6), "unknown_tiers": list(self.unknown_tiers),
                "scan_skipped": list(self.scan.skipped) if self.scan is not None else []}
