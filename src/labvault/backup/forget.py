"""``backup forget`` and ``backup prune``: retention, then the objects no snapshot needs.

``forget`` plans with ``retention.plan_retention`` (restic's rules) per policy, over the
snapshots that policy made on the target (grouped by host and sources, as restic does), then
keeps every snapshot no newer verified one covers (``keep_verified``), and deletes only snapshot
files (and their verification records). Snapshots of policies the lab config no longer names are kept.
``prune`` lists every object, reads every snapshot and manifest, and deletes the objects none of
them references; it refuses (deleting nothing) when a snapshot or manifest cannot be read, since
it could not know what that snapshot needs. On a cold target it keeps the objects still inside
their storage class's minimum duration unless ``allow_early`` (``coldstore.young``). Both hold the target lock, so a run in progress (which
holds it from before it checks what the target has until its snapshot is written) never loses an
object it counted on.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

from labvault.backup.check import collect
from labvault.backup.coldstore import young
from labvault.backup.keep_verified import guard
from labvault.backup.retention import Policy, Snapshot, plan_retention
from labvault.backup.snapshots import load_snapshot
from labvault.backup.target import Target
from labvault.backup.types import ForgetItem, ForgetResult, PruneResult
from labvault.backup.verified import forget as forget_verified
from labvault.backup.verified import verified_ids
from labvault.errors import CacheError, LabvaultError
from labvault.progress import NULL_PROGRESS, Progress
from labvault.remotes.classes import early_deletion_fee


def plan_forget(target: Target, policies: Mapping[str, Policy]) -> ForgetResult:
    docs = []
    items: list[ForgetItem] = []
    for sid in target.snapshot_ids():
        try:
            docs.append(load_snapshot(target, sid))
        except LabvaultError:
            items.append(ForgetItem(sid, "", "", True, ("unreadable: kept",)))
    by_policy: dict[str, list[Snapshot]] = {}
    meta = {d.id: d for d in docs}
    for d in docs:
        if d.policy in policies:
            by_policy.setdefault(d.policy, []).append(
                Snapshot(d.id, d.time, d.hostname, d.sources, frozenset(d.tags)))
        else:
            items.append(ForgetItem(d.id, d.time.isoformat(), d.policy, True, ("no such policy in the lab config",)))
    verified = verified_ids(target)
    for name, snaps in by_policy.items():
        for group in plan_retention(snaps, policies[name]):
            for dec in guard(group.decisions, verified):
                items.append(ForgetItem(dec.snapshot.id, meta[dec.snapshot.id].time.isoformat(), name, dec.keep,
                                        dec.reasons))
    items.sort(key=lambda i: i.id)
    return ForgetResult(target.describe(), True, tuple(items))


def forget(target: Target, policies: Mapping[str, Policy], dry_run: bool = False,
           progress: Progress = NULL_PROGRESS) -> ForgetResult:
    if dry_run:
        return plan_forget(target, policies)
    with target.lock("backup forget", progress):
        plan = plan_forget(target, policies)
        for sid in plan.removed:
            target.delete_snapshot(sid)
            forget_verified(target, sid)
    return ForgetResult(plan.target, False, plan.items)


def _plan_prune(target: Target) -> tuple[int, set[str], dict[str, int]]:
    ids = target.snapshot_ids()
    need, bad_snaps, bad = collect(target, ids)
    if bad_snaps or bad:
        what = bad_snaps[:1] or [f"the manifest of {bad[0].used_by[0][0]}"]
        raise CacheError(f"prune cannot tell what {what[0]} needs (unreadable); nothing deleted",
                         "run `labvault backup check` and remove or repair the damaged snapshot first")
    objects = target.all_objects()
    return len(ids), set(need), {o: s for o, s in objects.items() if o not in need}


def _plan(target: Target, allow_early: bool, price: float, dry_run: bool) -> tuple[PruneResult, list[str]]:
    """The prune plan and the objects to delete: the unused ones, less those inside their class's
    minimum storage duration unless ``allow_early`` (``coldstore.young``)."""
    n, referenced, unused = _plan_prune(target)
    early = young(target, unused, datetime.now(UTC))
    fee = sum(early_deletion_fee(price, unused[o], left) for o, left in early.items())
    doomed = sorted(unused) if allow_early else sorted(o for o in unused if o not in early)
    result = PruneResult(target.describe(), dry_run, n, len(referenced), len(unused), 0 if dry_run else len(doomed),
                         sum(unused[o] for o in doomed), 0, allow_early, len(early),
                         sum(unused[o] for o in early), round(fee, 6))
    return result, doomed


def prune(target: Target, dry_run: bool = False, progress: Progress = NULL_PROGRESS, jobs: int = 8,
          allow_early: bool = False, price_per_gb_month: float = 0.0) -> PruneResult:
    if dry_run:
        return _plan(target, allow_early, price_per_gb_month, True)[0]
    import time

    with target.lock("backup prune", progress) as held:
        plan, doomed = _plan(target, allow_early, price_per_gb_month, False)
        task = progress.task("pruning", total=len(doomed))
        try:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                for _ in pool.map(target.delete_object, doomed):
                    task.advance(1)
                    held.refresh()
        finally:
            task.close()
        leftovers = target.clean_leftovers(time.time())
    return replace(plan, leftovers_removed=leftovers)
