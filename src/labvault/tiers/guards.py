"""Checks a by-hand move (``promote``, ``demote``) passes before the mover starts.

* :func:`check_early`: leaving a tier before its minimum storage duration (since the placement's
  ``created_at``, the billing clock the planner uses too) is refused with one line naming the
  fee, unless ``allow_early``.
* :func:`wait_restored`: a unit read from an S3 archive class has its restore requested; without
  ``wait`` that is one line and exit 10 (:class:`RestorePendingError`), with ``wait`` the objects
  are polled (a HEAD each) with a progress line until all can be read, or the timeout passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from labvault.catalog.lab_schema import lab_placements, lab_units
from labvault.catalog.store import Catalog
from labvault.errors import UsageError
from labvault.progress import Progress
from labvault.remotes.archive import wait_ready
from labvault.tiers import bucketmove
from labvault.tiers.lab import LabConfig
from labvault.tiers.move import MoveRequest
from labvault.tiers.restore import needs_restore, pending_line, readiness
from labvault.tiers.rules import days, early_fee


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def check_early(cat: Catalog, lab: LabConfig, requests: Sequence[MoveRequest], allow_early: bool,
                as_of: datetime | None = None) -> None:
    if allow_early:
        return
    now = as_of or datetime.now(UTC)
    with cat.read() as conn:
        for req in requests:
            row = conn.execute(sa.select(lab_placements.c.tier, lab_placements.c.created_at, lab_units.c.size)
                               .join(lab_units, lab_units.c.id == lab_placements.c.unit_id)
                               .where(lab_placements.c.location == req.src_location)).first()
            if row is None or row.tier == req.dst_tier:
                continue
            tier = lab.tier(str(row.tier))
            if tier.min_storage_days <= 0:
                continue
            remaining = max(0.0, tier.min_storage_days - days(now, _aware(row.created_at)))
            if remaining > 0:
                fee = early_fee(tier, int(row.size), remaining)
                raise UsageError(f"{req.src_location} has been on tier {tier.name} less than its minimum storage "
                                 f"duration ({tier.min_storage_days} d, {remaining:.1f} d left): moving it now "
                                 f"pays an early-deletion fee of ${fee:.2f}",
                                 "use --allow-early to pay it, or wait")


def wait_restored(lab: LabConfig, requests: Sequence[MoveRequest], name: str, wait: bool, timeout: float | None,
                  poll_seconds: float, progress: Progress, sleep: Callable[[float], None] = time.sleep) -> None:
    """Return once every object the requests read from archive-class tiers can be read."""
    sources = []
    for req in requests:
        with_tier = _source_tier(lab, req)
        if with_tier is not None and with_tier != req.dst_tier and needs_restore(lab.tier(with_tier)):
            sources.append((with_tier, req.src_location))
    if not sources:
        return

    def poll() -> tuple[str | None, int, int]:
        total = ready = 0
        line = None
        for tier_name, location in sources:
            store, manifest = bucketmove.source_manifest(lab, tier_name, location)
            state = readiness(store, manifest, request=True)
            total, ready = total + state.total, ready + state.ready
            if not state.all_ready and line is None:
                line = pending_line(name, lab.tier(tier_name), state)
        return line, ready, total

    wait_ready(poll, name, wait, timeout, poll_seconds, progress, f"`labvault promote {name} --wait`", sleep)


def _source_tier(lab: LabConfig, req: MoveRequest) -> str | None:
    for t in lab.tiers:
        if t.url is not None and req.src_location.startswith(str(t.url).rstrip("/") + "/"):
            return t.name
    return None
