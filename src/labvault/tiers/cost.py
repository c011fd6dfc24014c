"""``cost``: the lab's monthly storage cost by tier, kind or project, now and after a lifecycle plan.

Cost is bytes of live placements times the tier's price per GiB-month (the same figures as ``tier
list`` and the plan), read with one grouped query. "After" applies the plan's moves: a move takes
its bytes from the source tier's price to the destination's; grouped by kind or project, bytes
stay where they are and only their price changes. Placements on tiers the lab config does not name
are not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from labvault.catalog.lab_schema import lab_placements, lab_units
from labvault.catalog.store import Catalog
from labvault.errors import UsageError
from labvault.tiers.lab import LabConfig
from labvault.tiers.monitor import project_of
from labvault.tiers.plan_types import Move, Plan
from labvault.tiers.units import LIVE_STATES

GROUPINGS = ("tier", "kind", "project")


@dataclass(frozen=True)
class CostRow:
    key: str
    bytes_now: int
    cost_now: float
    bytes_after: int
    cost_after: float

    @property
    def saving(self) -> float:
        return self.cost_now - self.cost_after

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "bytes_now": self.bytes_now, "cost_now": round(self.cost_now, 6),
                "bytes_after": self.bytes_after, "cost_after": round(self.cost_after, 6),
                "saving": round(self.saving, 6)}


@dataclass(frozen=True)
class CostReport:
    """Monthly cost per ``by`` key (tiers hottest first, else sorted), now and after the plan
    (the same as now when there is no plan); ``early_fees`` the plan's one-off fees."""

    by: str
    rows: tuple[CostRow, ...]
    planned: bool
    early_fees: float = 0.0

    @property
    def total_now(self) -> float:
        return sum(r.cost_now for r in self.rows)

    @property
    def total_after(self) -> float:
        return sum(r.cost_after for r in self.rows)

    @property
    def saving(self) -> float:
        return self.total_now - self.total_after

    def to_json(self) -> dict[str, Any]:
        return {"by": self.by, "planned": self.planned, "rows": [r.to_json() for r in self.rows],
                "total_now": round(self.total_now, 6), "total_after": round(self.total_after, 6),
                "saving": round(self.saving, 6), "early_fees": round(self.early_fees, 6)}


def cost_report(cat: Catalog, lab: LabConfig, by: str = "tier", plan: Plan | None = None,
                project_of: Callable[[str], str] = project_of) -> CostReport:
    if by not in GROUPINGS:
        raise UsageError(f"cannot group cost by {by!r}", f"use one of {', '.join(GROUPINGS)}")
    price = {t.name: t.price_per_gb_month for t in lab.tiers}
    tier_of = lab.tier
    key_of: Callable[[str, str, str], str] = {
        "tier": lambda tier, kind, name: tier,
        "kind": lambda tier, kind, name: kind,
        "project": lambda tier, kind, name: project_of(name),
    }[by]
    now_bytes: dict[str, int] = {t.name: 0 for t in lab.tiers} if by == "tier" else {}
    now_cost: dict[str, float] = dict.fromkeys(now_bytes, 0.0)
    for tier, kind, name, nbytes in _grouped(cat, by):
        if tier not in price:
            continue
        key = key_of(tier, kind, name)
        now_bytes[key] = now_bytes.get(key, 0) + nbytes
        now_cost[key] = now_cost.get(key, 0.0) + tier_of(tier).monthly_cost(nbytes)
    after_bytes, after_cost = dict(now_bytes), dict(now_cost)
    for m in plan.moves if plan is not None else ():
        _apply(m, key_of, after_bytes, after_cost, lab)
    if by == "tier":  # exactly bytes x price, as the plan and `tier list` have it
        after_cost = {k: tier_of(k).monthly_cost(n) for k, n in after_bytes.items()}
    keys = list(now_bytes) if by == "tier" else sorted(now_bytes)
    rows = tuple(CostRow(k, now_bytes[k], now_cost[k], after_bytes[k], after_cost[k]) for k in keys)
    return CostReport(by, rows, plan is not None, plan.early_fees if plan is not None else 0.0)


def _apply(m: Move, key_of: Callable[[str, str, str], str], nbytes: dict[str, int], cost: dict[str, float],
           lab: LabConfig) -> None:
    src, dst = key_of(m.src_tier, m.kind, m.name), key_of(m.dst_tier, m.kind, m.name)
    nbytes[src] -= m.size
    nbytes[dst] = nbytes.get(dst, 0) + m.size
    cost[src] -= lab.tier(m.src_tier).monthly_cost(m.size)
    cost[dst] = cost.get(dst, 0.0) + lab.tier(m.dst_tier).monthly_cost(m.size)


def _grouped(cat: Catalog, by: str) -> list[tuple[str, str, str, int]]:
    """``(tier, kind, name, bytes)`` of live placements, grouped as finely as ``by`` needs."""
    p, u = lab_placements, lab_units
    cols: list[Any] = [p.c.tier, u.c.kind if by == "kind" else sa.literal_column("''"),
                       u.c.name if by == "project" else sa.literal_column("''")]
    group: list[Any] = [p.c.tier] + ([u.c.kind] if by == "kind" else []) + ([u.c.name] if by == "project" else [])
    q = (sa.select(*cols, sa.func.coalesce(sa.func.sum(u.c.size), 0))
         .select_from(p.join(u, u.c.id == p.c.unit_id)).where(p.c.state.in_(LIVE_STATES)).group_by(*group))
    with cat.read() as conn:
        return [(r[0], r[1], r[2], int(r[3])) for r in conn.execute(q)]
