"""The mover: copy a unit to another tier, verify the copy's bytes, switch, then delete the source.

Per unit, under the lab's move lock (:mod:`labvault.tiers.movelock`) and after
:func:`labvault.tiers.recover.recover_moves`:

1. a ``lab_moves`` row, ``planned``, before anything on disk is touched;
2. free space on the destination checked for the whole unit (statvfs);
3. the unit copied to a temp name in the destination area (``.NAME.move-ID.lvtmp``), then the
   destination's file system flushed (one ``syncfs``, its write-back errors raised): ``copied``;
4. the copy read back from the disk and hashed the DVC way; anything but the unit's content hash
   stops the move (temp removed, source untouched, row ``failed``): ``verified``;
5. one transaction: the destination placement (``verified``), the source placement ``deleting``
   (kept ``present`` when deleting it would leave fewer than ``min_copies`` verified copies) and
   the row ``switched``;
6. temp renamed to the final name, then the source replaced by a symlink to it (or removed), and
   its placement row dropped: ``done`` (:mod:`labvault.tiers.finish`).

A failure before 5 leaves the source as it was; a kill anywhere is finished or undone by the next
move command's recovery.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from labvault.catalog.store import Catalog
from labvault.errors import LabvaultError, RestorePendingError, StorageError, from_os_error
from labvault.progress import Progress
from labvault.tiers import bucket, bucketmove, finish, journal
from labvault.tiers.copy import FileStat, SpecialFileError, copy_unit, hash_copy, remove_tree
from labvault.tiers.lab import LabConfig, Tier
from labvault.tiers.movelock import move_lock
from labvault.tiers.recover import recover_moves
from labvault.tiers.types import LabUnit
from labvault.tiers.units import LIVE_STATES, unit_by_id


@dataclass(frozen=True)
class MoveRequest:
    """Move the unit placed at ``src_location`` to tier ``dst_tier``; ``reason`` goes to the journal."""

    unit_id: int
    src_location: str
    dst_tier: str
    reason: str = ""


@dataclass(frozen=True)
class MoveOutcome:
    """What happened to one request. ``status``: moved, copied (the source kept for min_copies),
    would move (dry run), skipped, failed; ``detail`` says why; ``exit_code`` is non-zero on failure."""

    unit_id: int
    ref: str
    src_tier: str
    src_location: str
    dst_tier: str
    dst_location: str
    bytes: int
    status: str
    detail: str = ""
    exit_code: int = 0


@dataclass(frozen=True)
class MoveReport:
    outcomes: tuple[MoveOutcome, ...]
    recovered: tuple[str, ...]
    dry_run: bool

    @property
    def moved_bytes(self) -> int:
        return sum(o.bytes for o in self.outcomes if o.status in ("moved", "copied"))

    @property
    def failed(self) -> tuple[MoveOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")


def _ref(u: LabUnit) -> str:
    text = f"{u.name}@{u.version}" if u.version else u.name
    return f"{u.kind} {text} ({u.part})" if u.part else f"{u.kind} {text}"


def destination(lab: LabConfig, src_tier: Tier, src_location: str, dst: Tier) -> str:
    """The unit's place on ``dst``: the same area and name as on its source tier (on a bucket
    tier, the URL of its manifest ``AREA/NAME.lvunit.json``)."""
    if src_tier.path is None and dst.path is None:
        raise StorageError(f"tiers {src_tier.name} and {dst.name} are both buckets",
                           "move the unit to a folder tier first")
    if src_tier.path is None:
        area, name = bucket.area_and_name(src_tier, src_location)
    else:
        area, name = os.path.relpath(os.path.dirname(src_location), src_tier.path), os.path.basename(src_location)
    dst_area = area_on(dst, area)
    if area not in src_tier.areas or dst_area not in dst.areas:
        raise StorageError(f"{src_location} is not in an area both tiers {src_tier.name} and {dst.name} hold",
                           f"add {area!r} to the tiers' areas in the lab config")
    if dst.path is None:
        return bucket.unit_location(dst, dst_area, name)
    return os.path.join(str(dst.path), dst_area, name)


def area_on(tier: Tier, area: str) -> str:
    """The area a unit from ``area`` goes to on ``tier``: the same, except that datasets and
    ``archive/`` (which holds datasets) stand in for each other on a folder tier laid out with one
    folder and not the other (the guide's cold disk has ``archive/``, no ``datasets/``)."""
    if tier.path is None or area not in _SWAP:
        return area
    other = _SWAP[area]
    if (not os.path.isdir(os.path.join(tier.path, area)) and os.path.isdir(os.path.join(tier.path, other))
            and other in tier.areas):
        return other
    return area


_SWAP = {"datasets": "archive", "archive": "datasets"}


def execute_moves(cat: Catalog, lab: LabConfig, requests: Sequence[MoveRequest], progress: Progress,
                  dry_run: bool = False, max_bytes: int | None = None) -> MoveReport:
    """Carry out ``requests`` in order (see the module doc). Requests already done (the unit is no
    longer at its source, or already on the target tier) are skipped, so a rerun converges."""
    if dry_run:
        return MoveReport(tuple(_plan_one(cat, lab, r, None)[0] for r in requests), (), True)
    outcomes: list[MoveOutcome] = []
    with move_lock(lab, progress):
        recovered = recover_moves(cat, lab)
        budget = max_bytes
        full: set[str] = set()
        for req in requests:
            outcome, unit = _plan_one(cat, lab, req, budget)
            if unit is not None and req.dst_tier in full:
                outcome = _with(outcome, "skipped", f"tier {req.dst_tier} is full")
            elif unit is not None:
                outcome = _move_one(cat, lab, unit, outcome, req.reason, progress)
                if outcome.status == "failed" and "disk full" in outcome.detail:
                    full.add(req.dst_tier)
            if budget is not None and outcome.status in ("moved", "copied"):
                budget -= outcome.bytes
            outcomes.append(outcome)
    return MoveReport(tuple(outcomes), tuple(recovered), False)


def _with(o: MoveOutcome, status: str, detail: str, exit_code: int = 0) -> MoveOutcome:
    return MoveOutcome(o.unit_id, o.ref, o.src_tier, o.src_location, o.dst_tier, o.dst_location, o.bytes, status,
                       detail, exit_code)


def _plan_one(cat: Catalog, lab: LabConfig, req: MoveRequest,
              budget: int | None) -> tuple[MoveOutcome, LabUnit | None]:
    """The outcome "would move" with the unit to move, or a skip (unit None)."""
    unit = unit_by_id(cat, req.unit_id)
    blank = MoveOutcome(req.unit_id, f"unit {req.unit_id}", "", req.src_location, req.dst_tier, "", 0, "skipped")
    if unit is None:
        return _with(blank, "skipped", "no such unit (removed from the catalog)"), None
    src = next((p for p in unit.placements if p.location == req.src_location and p.state in LIVE_STATES), None)
    base = MoveOutcome(unit.id, _ref(unit), src.tier if src else "", req.src_location, req.dst_tier, "", unit.size,
                       "would move")
    if any(p.tier == req.dst_tier and p.state in LIVE_STATES for p in unit.placements):
        return _with(base, "skipped", f"already on {req.dst_tier}"), None
    if src is None:
        return _with(base, "skipped", f"no longer at {req.src_location}"), None
    try:
        src_tier, dst_tier = lab.tier(src.tier), lab.tier(req.dst_tier)
        dst = destination(lab, src_tier, src.location, dst_tier)
    except LabvaultError as e:
        return _with(base, "failed", e.line(), e.exit_code), None
    base = MoveOutcome(unit.id, base.ref, src.tier, src.location, req.dst_tier, dst, unit.size, "would move")
    if budget is not None and unit.size > budget:
        return _with(base, "skipped", "over --max-bytes"), None
    if unit.content_hash is None:
        return _with(base, "failed", f"{src.location} has no content hash: run `labvault lab scan` first", 2), None
    return base, unit


def _move_one(cat: Catalog, lab: LabConfig, unit: LabUnit, o: MoveOutcome, reason: str,
              progress: Progress) -> MoveOutcome:
    to_bucket, from_bucket = bucket.is_url(o.dst_location), bucket.is_url(o.src_location)
    if from_bucket:
        try:
            line = bucketmove.restore_line(lab, o.src_tier, o.src_location, _name(unit))
        except (LabvaultError, OSError) as exc:
            err = exc if isinstance(exc, LabvaultError) else _os_error(exc, o)
            return _with(o, "failed", err.line(), err.exit_code)
        if line is not None:
            return _with(o, "failed", line, RestorePendingError.exit_code)
    move_id = journal.plan_move(cat, unit.id, o.src_tier, o.src_location, o.dst_tier, o.dst_location, reason or None,
                                unit.size)
    temp = finish.temp_path(o.dst_location, move_id)
    stats: dict[str, FileStat] = {}
    try:
        task = progress.task(f"moving {o.ref} to {o.dst_tier}", total=unit.nfiles, total_bytes=unit.size)
        if to_bucket:
            try:
                bucketmove.upload(cat, lab, unit, o.src_location, o.dst_tier, o.dst_location, o.ref, move_id,
                                  lambda n: task.advance(1, n))
            finally:
                task.close()
        else:
            if os.path.lexists(o.dst_location) and not finish.forwards_to(o.dst_location, o.src_location):
                raise StorageError(f"{o.dst_location} exists already and is not a placement of {o.ref}",
                                   "move it away or register it with `labvault lab scan`, then retry")
            _check_space(unit, o.dst_location)
            try:
                if from_bucket:
                    bucketmove.download(lab, o.src_tier, o.src_location, temp, lambda n: task.advance(1, n))
                else:
                    copy_unit(o.src_location, temp, lambda n: task.advance(1, n))
            finally:
                task.close()
            journal.advance(cat, move_id, "copied")
            got, stats = hash_copy(temp)
            if got != unit.content_hash:
                raise StorageError(f"the copy of {o.ref} at {o.dst_tier} does not match its content hash "
                                   f"(the source changed since the last scan, or the copy is corrupt); source kept",
                                   "run `labvault lab scan`, then move it again")
            journal.advance(cat, move_id, "verified")
    except (LabvaultError, OSError) as exc:
        err = exc if isinstance(exc, LabvaultError) else _os_error(exc, o)
        if to_bucket:
            _quietly(lambda: bucketmove.discard(cat, lab, o.dst_tier, o.dst_location))
        else:
            remove_tree(temp)
        journal.advance(cat, move_id, "failed", err.line())
        return _with(o, "failed", err.line(), err.exit_code)
    kept = finish.switch(cat, lab, move_id, unit.id, o.src_location, o.dst_tier, o.dst_location, stats)
    finish.complete(cat, lab, journal.MoveRow(move_id, unit.id, o.src_tier, o.src_location, o.dst_tier,
                                              o.dst_location, "switched", reason or None, unit.size, None))
    if kept:
        return _with(o, "copied", f"source kept: min_copies is {lab.min_copies}")
    if lab.symlink_old_path and not to_bucket:
        return _with(o, "moved", f"symlink left at {o.src_location}")
    return _with(o, "moved", "")


def _name(u: LabUnit) -> str:
    return f"{u.name}@{u.version}" if u.version else u.name


def _quietly(fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception:
        pass


def _os_error(exc: OSError, o: MoveOutcome) -> LabvaultError:
    if isinstance(exc, SpecialFileError):
        return StorageError(f"{exc.filename}: {exc.strerror}", "move or remove it, then retry")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageError(f"disk full while copying {o.ref} to tier {o.dst_tier} ({os.path.dirname(o.dst_location)})",
                            "free space on that tier or move to another one; nothing was moved")
    return from_os_error(exc, "copying to")


def _check_space(unit: LabUnit, dst: str) -> None:
    folder = os.path.dirname(dst)
    os.makedirs(folder, exist_ok=True)
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    need = unit.size + unit.nfiles * st.f_frsize  # each file may end in a partial block
    if need > free:
        raise StorageError(f"disk full: {folder} has {free} bytes free, {unit.size} bytes in {unit.nfiles} files "
                           f"do not fit", "free space on that tier or move to another one; nothing was moved")
