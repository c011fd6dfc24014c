"""The restic engine: ``BackupEngine`` over a restic repository, driven through restic's JSON output.

The retention decisions stay labvault's (``retention.py``, then ``keep_verified.guard``); restic
is only told the explicit snapshot ids to forget (with their sidecars), so the two can never
disagree. See ``restic_cli`` (running restic), ``restic_repo`` (snapshots and sidecars),
``restic_run``, ``restic_restore``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from labvault.backup import restic_repo as repo
from labvault.backup import restic_restore as rr
from labvault.backup.keep_verified import guard
from labvault.backup.restic_check import traced
from labvault.backup.restic_cli import Restic
from labvault.backup.restic_run import backup
from labvault.backup.retention import Policy, Snapshot, plan_retention
from labvault.backup.statcache import StatCache
from labvault.backup.types import (
    CheckResult,
    DrillResult,
    ForgetItem,
    ForgetResult,
    PruneResult,
    RestoreResult,
    RunResult,
    SnapshotInfo,
)
from labvault.errors import LabvaultError
from labvault.progress import NULL_PROGRESS, Progress

_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def _blobs_and_bytes(text: str, label: str) -> tuple[int, int]:
    m = re.search(rf"{label}:\s+(\d+) blobs / ([\d.]+) (B|KiB|MiB|GiB|TiB)", text)
    return (int(m.group(1)), int(float(m.group(2)) * _UNITS[m.group(3)])) if m else (0, 0)


class ResticEngine:
    def __init__(self, repository: str, password_file: str | None = None, password_command: str | None = None,
                 policy: str = "", cache_dir: Path | None = None, jobs: int | None = None) -> None:
        self.restic = Restic(repository, password_file, password_command, policy)
        self.cache_dir = cache_dir
        self.jobs = jobs or 2

    def describe(self) -> str:
        return self.restic.describe()

    def run(self, policy: str, sources: Sequence[str], tags: Sequence[str] = (), dry_run: bool = False,
            progress: Progress = NULL_PROGRESS) -> RunResult:
        cache = StatCache(self.describe(), self.cache_dir)
        try:
            return backup(self.restic, policy, list(sources), tuple(tags), cache, dry_run, progress, self.jobs)
        finally:
            cache.close()

    def list(self) -> list[SnapshotInfo]:
        return [SnapshotInfo(s.id, s.when.isoformat(), s.hostname, s.policy or "", self.describe(), s.paths, s.tags,
                             s.totals.get("files", 0), s.totals.get("bytes", 0), s.totals.get("blobs", 0),
                             s.totals.get("added", 0))
                for s in repo.listing(self.restic).snaps]

    def restore(self, snapshot: str, to: str, paths: Sequence[str] = (), verify: bool = False,
                progress: Progress = NULL_PROGRESS) -> RestoreResult:
        snap = repo.resolve(self.restic, repo.listing(self.restic), snapshot)
        man = repo.need_manifest(self.restic, snap) if verify else (
            repo.manifest(self.restic, snap) or repo.bare_manifest(snap))
        files, dirs, links, nbytes = rr.restore(self.restic, snap.id, man, to, list(paths), verify)
        if verify and not paths and not man.unverifiable:
            repo.record_verified(self.restic, [snap.id], "restore")
        return RestoreResult(snap.id, to, files, dirs, links, nbytes, verify)

    def plan(self, policies: Mapping[str, Policy]) -> tuple[ForgetResult, repo.Listing]:
        lst = repo.listing(self.restic)
        items: list[ForgetItem] = []
        by_policy: dict[str, list[Snapshot]] = {}
        meta = {s.id: s for s in lst.snaps}
        for s in lst.snaps:
            if s.policy is None:
                items.append(ForgetItem(s.id, s.when.isoformat(), "", True, ("not made by labvault",)))
            elif s.policy not in policies:
                items.append(ForgetItem(s.id, s.when.isoformat(), s.policy, True, ("no such policy in the lab config",)))
            else:
                by_policy.setdefault(s.policy, []).append(
                    Snapshot(s.id, s.when, s.hostname, s.paths, frozenset(s.tags)))
        verified = {s.id for s in lst.snaps if s.verified}
        for name, snaps in by_policy.items():
            for group in plan_retention(snaps, policies[name]):
                for dec in guard(group.decisions, verified):
                    items.append(ForgetItem(dec.snapshot.id, meta[dec.snapshot.id].when.isoformat(), name, dec.keep,
                                            dec.reasons))
        items.sort(key=lambda i: (i.time, i.id))
        return ForgetResult(self.describe(), True, tuple(items)), lst

    def forget(self, policies: Mapping[str, Policy], dry_run: bool = False,
               progress: Progress = NULL_PROGRESS) -> ForgetResult:
        plan, lst = self.plan(policies)
        if dry_run:
            return plan
        gone = set(plan.removed)
        sidecars = [sid for sid, fors in lst.sidecars.items() if fors and set(fors) <= gone]
        if gone:
            self.restic.call(["forget", "--json", *sorted(gone), *sorted(sidecars)], "forgetting snapshots")
        return ForgetResult(plan.target, False, plan.items)

    def prune(self, dry_run: bool = False, progress: Progress = NULL_PROGRESS,
              allow_early: bool = False) -> PruneResult:
        """``allow_early`` changes nothing: a restic repository has no storage class here."""
        n = len(repo.listing(self.restic).snaps)
        out = self.restic.call(["prune", *(["--dry-run"] if dry_run else [])], "pruning")
        text = out.stdout + out.stderr
        unused, freed = _blobs_and_bytes(text, "total prune")
        remaining, _ = _blobs_and_bytes(text, "remaining")
        return PruneResult(self.describe(), dry_run, n, remaining, unused, 0 if dry_run else unused, freed, 0)

    def check(self, read_data: bool = False, subset: tuple[int, int] | None = None,
              progress: Progress = NULL_PROGRESS) -> CheckResult:
        lst = repo.listing(self.restic)
        args = ["check"]
        if subset is not None:
            args.append(f"--read-data-subset={subset[0]}/{subset[1]}")
        elif read_data:
            args.append("--read-data")
        out = self.restic.call(args, "checking", ok_codes=(0, 1))
        text = out.stdout + "\n" + out.stderr
        packs = re.findall(r"(\d+) / (\d+) packs", text)
        total = int(packs[-1][1]) if packs else 0
        bad = traced(self.restic, lst, text)
        ok = out.returncode == 0
        if ok and not bad and read_data and subset is None:
            repo.record_verified(self.restic, [s.id for s in lst.snaps if s.policy is not None], "check")
        return CheckResult(self.describe(), ok and not bad, len(lst.snaps), total,
                           total if (read_data or subset) else 0, 0, tuple(bad), ())

    def drill(self, snapshot: str = "latest", sample: int = 20, seed: int | None = None,
              progress: Progress = NULL_PROGRESS) -> DrillResult:
        snap = repo.resolve(self.restic, repo.listing(self.restic), snapshot)
        try:
            man = repo.need_manifest(self.restic, snap)
        except LabvaultError as exc:
            return DrillResult(self.describe(), snap.id, False, 0, snap.totals.get("files", 0), 0,
                               (f"(manifest): {exc.message}",), False)
        sampled, of_files, nbytes, failed = rr.drill(self.restic, snap.id, man, sample, seed)
        if not failed:
            repo.record_verified(self.restic, [snap.id], "drill")
        return DrillResult(self.describe(), snap.id, not failed, sampled, of_files, nbytes, tuple(failed), False)

    def close(self) -> None:
        pass
