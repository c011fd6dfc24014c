"""The lifecycle plan and the lab's cost::

    from labvault import api

    plan = api.lifecycle_plan()                # scans the folder tiers, then plans
    for m in plan.moves:
        print(m.ref(), m.src_tier, "->", m.dst_tier, m.reason)
    print(plan.monthly_cost_before, plan.monthly_cost_after, plan.saving)
    print(api.cost(by="kind").rows)

``lab`` and ``catalog_url`` are found as for the other lab functions (``labvault.api.lab``).
Nothing here moves data: ``lifecycle apply`` executes a plan's moves.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from labvault.api.lab import PathLike, lab_catalog, unit_namer
from labvault.catalog.store import now
from labvault.errors import UsageError
from labvault.tiers import cost as _cost
from labvault.tiers import load as _load
from labvault.tiers import plan as _plan
from labvault.tiers import scan as _scan
from labvault.tiers.cost import CostReport, CostRow
from labvault.tiers.plan_types import Move, Plan, Refused

__all__ = ["CostReport", "CostRow", "Move", "Plan", "Refused", "cost", "lifecycle_plan"]


def lifecycle_plan(lab: PathLike | None = None, catalog_url: str | None = None, as_of: datetime | None = None,
                   allow_early: bool = False) -> Plan:
    """What the lifecycle rules, pins and promotion on access would move, as of ``as_of`` (default
    now; naive times are UTC). The lab's folder tiers are scanned first (as ``lab scan`` does, except
    that a folder unit whose folders keep their inode and mtime is taken as unchanged without
    listing its files: the quick check of ``labvault.tiers.scan``), so the plan sees what is on disk. Moves that would pay an early-deletion fee are refused unless
    ``allow_early``."""
    config = _load.load_lab(lab)
    cat = lab_catalog(config, catalog_url)
    scanned = (_scan.scan_lab(cat, config, unit_namer(), None, trust_folders=True)
               if any(t.is_local for t in config.tiers) else None)
    plan = _plan.plan_lifecycle(cat, config, as_of or now(), allow_early)
    return replace(plan, scan=scanned)


def cost(by: str = "tier", lab: PathLike | None = None, catalog_url: str | None = None) -> CostReport:
    """Monthly cost grouped ``by`` "tier", "kind" or "project" (the unit name's first
    ``_``-separated word, as ``monitor`` counts projects), now and after the lifecycle plan as of now. Reads the catalog only (run ``lab scan``
    or ``lifecycle plan`` to bring it up to date)."""
    if by not in _cost.GROUPINGS:
        raise UsageError(f"cannot group cost by {by!r}", f"use one of {', '.join(_cost.GROUPINGS)}")
    config = _load.load_lab(lab)
    cat = lab_catalog(config, catalog_url)
    plan = _plan.plan_lifecycle(cat, config, now())
    return _cost.cost_report(cat, config, by, plan)
