"""Moving lab units between tiers by hand: promote and demote::

    from labvault import api

    report = api.promote("imagenet@v2")            # to the promotion tier (default: the hottest)
    report = api.demote("imagenet", to="cold", version="v1")
    for o in report.outcomes:
        print(o.ref, o.status, o.src_location, "->", o.dst_location)
    result = api.lifecycle_apply(max_bytes=500 * 10**9)   # the lifecycle plan, carried out

Every move is journaled, copied, verified against the unit's content hash, switched, and only then
is its source deleted (see ``labvault.tiers.move``); interrupted moves of earlier commands are
finished or rolled back first. A failure of a single-unit move raises its error (StorageError,
exit 6, for a full tier or a copy that does not verify); nothing is half-moved.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from labvault.catalog.store import Catalog
from labvault.errors import LabvaultError, StorageError, UnknownNameError, UsageError
from labvault.progress import NULL_PROGRESS, Progress
from labvault.tiers import load as _load
from labvault.tiers import move as _move
from labvault.tiers.access import AccessLog
from labvault.tiers.guards import check_early, wait_restored
from labvault.tiers.lab import LabConfig
from labvault.tiers.plan_types import Plan
from labvault.tiers.types import LabUnit
from labvault.tiers.units import LIVE_STATES, find_units

MoveRequest = _move.MoveRequest
MoveOutcome = _move.MoveOutcome
MoveReport = _move.MoveReport
PathLike = str | os.PathLike[str]

__all__ = ["LifecycleApplyResult", "MoveOutcome", "MoveReport", "MoveRequest", "demote", "lifecycle_apply", "promote"]


@dataclass(frozen=True)
class LifecycleApplyResult:
    """The plan that was carried out (its refused moves included) and what each move did."""

    plan: Plan
    report: MoveReport


def _context(lab: PathLike | None, catalog_url: str | None) -> tuple[LabConfig, Catalog]:
    from labvault.api.lab import lab_catalog

    config = _load.load_lab(lab)
    return config, lab_catalog(config, catalog_url)


def _units(cat: Catalog, name: str, version: str | None) -> list[LabUnit]:
    if version is None and "@" in name:
        name, _, version = name.partition("@")
    units = find_units(cat, name, version or None)
    if not units:
        what = f"{name}@{version}" if version else name
        raise UnknownNameError(f"no lab unit named {what}", "run `labvault lab scan`, or check the name")
    versions = sorted({u.version for u in units})
    if version is None and len(versions) > 1:
        raise UsageError(f"{name} has versions {', '.join(v or '(none)' for v in versions)}",
                         f"name one, for example {name}@{versions[-1] or versions[0]}")
    return units


def _requests(config: LabConfig, units: list[LabUnit], to: str, hotter: bool, reason: str) -> list[MoveRequest]:
    """For each unit, the live placement to move (the nearest on the far side of ``to``)."""
    target = config.rank(to)
    out: list[MoveRequest] = []
    for u in units:
        live = [p for p in u.placements if p.state in LIVE_STATES and p.tier in {t.name for t in config.tiers}]
        if any(p.tier == to for p in live):
            out.append(MoveRequest(u.id, next(p.location for p in live if p.tier == to), to, reason))
            continue  # reported as "already on" by the mover
        far = [p for p in live if (config.rank(p.tier) > target if hotter else config.rank(p.tier) < target)]
        if not far:
            where = ", ".join(sorted({p.tier for p in live})) or "no tier (no live copy)"
            raise UsageError(f"{u.name}{'@' + u.version if u.version else ''} is on {where}, "
                             f"not {'colder' if hotter else 'hotter'} than {to}",
                             f"use `labvault {'demote' if hotter else 'promote'}` to move it the other way")
        src = min(far, key=lambda p: abs(config.rank(p.tier) - target))
        out.append(MoveRequest(u.id, src.location, to, reason))
    return out


def _raise_single(report: MoveReport) -> MoveReport:
    failed = report.failed
    if len(report.outcomes) == 1 and failed:
        err = LabvaultError(failed[0].detail)
        err.exit_code = failed[0].exit_code or StorageError.exit_code
        raise err
    return report


def promote(name: str, version: str | None = None, to: str | None = None, lab: PathLike | None = None,
            catalog_url: str | None = None, progress: Progress = NULL_PROGRESS, dry_run: bool = False,
            allow_early: bool = False, wait: bool = False, timeout: float | None = None,
            poll_seconds: float = 60.0) -> MoveReport:
    """Move ``name`` (``NAME`` or ``NAME@VERSION``; every part of it) to ``to`` (default: the
    promotion tier, else the hottest), and record the promotion as an access.

    From a bucket tier in an archive class (S3 GLACIER, DEEP_ARCHIVE) the restore is requested
    first; without ``wait`` that raises RestorePendingError (exit 10) saying when it should be
    ready; with ``wait`` the objects are polled every ``poll_seconds`` (up to ``timeout`` seconds,
    default no limit) and the unit is promoted once every object can be read. Leaving a tier
    before its minimum storage duration is refused (UsageError naming the fee) unless
    ``allow_early``."""
    config, cat = _context(lab, catalog_url)
    target = to or config.promotion.to_tier or config.hottest.name
    config.tier(target)  # an unknown tier: one line, exit 2
    units = _units(cat, name, version)
    requests = _requests(config, units, target, True, f"promote to {target}")
    if not dry_run:
        check_early(cat, config, requests, allow_early)
        wait_restored(config, requests, _ref_name(name, version), wait, timeout, poll_seconds, progress)
    report = _move.execute_moves(cat, config, requests, progress, dry_run=dry_run)
    if not dry_run:
        with AccessLog(cat) as log:
            for o in report.outcomes:
                if o.status in ("moved", "copied"):
                    log.record(o.unit_id, "promote")
    return _raise_single(report)


def demote(name: str, to: str, version: str | None = None, lab: PathLike | None = None,
           catalog_url: str | None = None, progress: Progress = NULL_PROGRESS, dry_run: bool = False,
           allow_early: bool = False) -> MoveReport:
    """Move ``name`` (every part of it) down to tier ``to`` (a folder, or a bucket tier: objects
    in its storage class plus a manifest; nothing is left at the old path). Leaving a tier before
    its minimum storage duration is refused unless ``allow_early``."""
    config, cat = _context(lab, catalog_url)
    config.tier(to)  # an unknown tier: one line, exit 2
    units = _units(cat, name, version)
    requests = _requests(config, units, to, False, f"demote to {to}")
    if not dry_run:
        check_early(cat, config, requests, allow_early)
    return _raise_single(_move.execute_moves(cat, config, requests, progress, dry_run=dry_run))


def _ref_name(name: str, version: str | None) -> str:
    return f"{name}@{version}" if version and "@" not in name else name


def lifecycle_apply(dry_run: bool = False, allow_early: bool = False, max_bytes: int | None = None,
                    as_of: datetime | None = None, lab: PathLike | None = None, catalog_url: str | None = None,
                    progress: Progress = NULL_PROGRESS) -> LifecycleApplyResult:
    """Make the lifecycle plan (``api.lifecycle_plan``: the folder tiers are scanned first) and
    carry out its moves in order, each journaled, verified and switched before its source goes.
    ``max_bytes``: a move that would take the bytes moved past it is skipped (later, smaller ones
    may still fit). ``dry_run``: nothing moves, the outcomes say "would move". A failed move does
    not stop the others (a full tier stops the moves to that tier); see ``report.failed``."""
    from labvault.api.lifecycle import lifecycle_plan

    if max_bytes is not None and max_bytes < 0:
        raise UsageError(f"--max-bytes must not be negative, got {max_bytes}")
    config, cat = _context(lab, catalog_url)
    plan = lifecycle_plan(lab, catalog_url, as_of, allow_early)
    requests = [MoveRequest(m.unit_id, m.src_location, m.dst_tier, f"{m.rule}: {m.reason}") for m in plan.moves]
    return LifecycleApplyResult(plan, _move.execute_moves(cat, config, requests, progress, dry_run, max_bytes))
