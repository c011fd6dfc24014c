"""The interface every backup engine offers (labvault's own here; restic's is ``restic_engine``),
and labvault's own engine on its content-addressed store. Passing drills, whole restores with
``--verify`` and full ``check --read-data`` runs record the snapshots as verified (``verified.py``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from labvault.backup import check as _check
from labvault.backup import coldstore
from labvault.backup import drill as _drill
from labvault.backup import forget as _forget
from labvault.backup import run as _run
from labvault.backup import verified as _verified
from labvault.backup.restore import restore_entries, select
from labvault.backup.retention import Policy
from labvault.backup.snapshots import load_manifest, load_snapshot, resolve
from labvault.backup.statcache import StatCache
from labvault.backup.target import Target
from labvault.backup.types import (
    CheckResult,
    DrillResult,
    ForgetResult,
    PruneResult,
    RestoreResult,
    RunResult,
    SnapshotInfo,
)
from labvault.progress import NULL_PROGRESS, Progress


class BackupEngine(Protocol):
    """One target's snapshots: make, list, restore, forget, prune, check, drill."""

    def run(self, policy: str, sources: Sequence[str], tags: Sequence[str] = (), dry_run: bool = False,
            progress: Progress = NULL_PROGRESS) -> RunResult: ...

    def list(self) -> list[SnapshotInfo]: ...

    def restore(self, snapshot: str, to: str, paths: Sequence[str] = (), verify: bool = False,
                progress: Progress = NULL_PROGRESS) -> RestoreResult: ...

    def forget(self, policies: Mapping[str, Policy], dry_run: bool = False,
               progress: Progress = NULL_PROGRESS) -> ForgetResult: ...

    def prune(self, dry_run: bool = False, progress: Progress = NULL_PROGRESS,
              allow_early: bool = False) -> PruneResult: ...

    def check(self, read_data: bool = False, subset: tuple[int, int] | None = None,
              progress: Progress = NULL_PROGRESS) -> CheckResult: ...

    def drill(self, snapshot: str = "latest", sample: int = 20, seed: int | None = None,
              progress: Progress = NULL_PROGRESS) -> DrillResult: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Cold:
    """A cold target's settings: its ``storage_class`` and price (for early-deletion fees), and
    whether reads wait for archive restores (``wait``, ``timeout`` s, asking every ``poll_seconds``)."""

    storage_class: str | None = None
    price_per_gb_month: float = 0.0
    wait: bool = False
    timeout: float | None = None
    poll_seconds: float = 300.0


class OwnEngine:
    """labvault's engine: objects in ``files/md5`` and snapshot files on a folder or bucket."""

    def __init__(self, url: str, options: Mapping[str, str] | None = None, cache_dir: Path | None = None,
                 jobs: int | None = None, cold: Cold | None = None) -> None:
        self.cold = cold or Cold()
        self.target = Target(url, dict(options or {}), storage_class=self.cold.storage_class)
        self.cache_dir = cache_dir
        self.jobs = jobs

    def _readable(self, what: str, again: str, progress: Progress) -> Callable[[list[str]], None]:
        c = self.cold

        def ready(oids: list[str]) -> None:
            coldstore.ensure_readable(self.target, oids, what, again, c.wait, c.timeout, c.poll_seconds, progress)
        return ready

    def run(self, policy: str, sources: Sequence[str], tags: Sequence[str] = (), dry_run: bool = False,
            progress: Progress = NULL_PROGRESS) -> RunResult:
        cache = StatCache(self.target.url, self.cache_dir)
        try:
            return _run.run_backup(policy, list(sources), tuple(tags), self.target, cache, dry_run, progress, self.jobs)
        finally:
            cache.close()

    def list(self) -> list[SnapshotInfo]:
        out = []
        for sid in self.target.snapshot_ids():
            d = load_snapshot(self.target, sid)
            out.append(SnapshotInfo(d.id, d.time.isoformat(), d.hostname, d.policy, self.target.describe(),
                                    d.sources, d.tags, d.files, d.bytes, d.objects_added, d.bytes_added))
        return out

    def restore(self, snapshot: str, to: str, paths: Sequence[str] = (), verify: bool = False,
                progress: Progress = NULL_PROGRESS) -> RestoreResult:
        sid = resolve(self.target, snapshot)
        entries = select(load_manifest(self.target, load_snapshot(self.target, sid)), list(paths))
        self._readable(f"snapshot {sid[:12]}", f"labvault backup restore {snapshot} --to {to}", progress)(
            [e.md5 for e in entries if e.md5 is not None])
        files, dirs, links, nbytes = restore_entries(self.target, sid, entries, to, verify, progress,
                                                     self.jobs or 8)
        if verify and not paths:
            _verified.record(self.target, [sid], "restore")
        return RestoreResult(sid, to, files, dirs, links, nbytes, verify)

    def forget(self, policies: Mapping[str, Policy], dry_run: bool = False,
               progress: Progress = NULL_PROGRESS) -> ForgetResult:
        return _forget.forget(self.target, policies, dry_run, progress)

    def prune(self, dry_run: bool = False, progress: Progress = NULL_PROGRESS,
              allow_early: bool = False) -> PruneResult:
        return _forget.prune(self.target, dry_run, progress, self.jobs or 8, allow_early,
                             self.cold.price_per_gb_month)

    def check(self, read_data: bool = False, subset: tuple[int, int] | None = None,
              progress: Progress = NULL_PROGRESS) -> CheckResult:
        again = "labvault backup check " + (f"--read-data-subset {subset[0]}/{subset[1]}" if subset else "--read-data")
        result = _check.check_target(self.target, read_data, subset, progress, self.jobs or 8,
                                     self._readable("the snapshots' objects", again, progress))
        if result.ok and read_data and subset is None:
            _verified.record(self.target, self.target.snapshot_ids(), "check")
        return result

    def drill(self, snapshot: str = "latest", sample: int = 20, seed: int | None = None,
              progress: Progress = NULL_PROGRESS) -> DrillResult:
        sid = resolve(self.target, snapshot)
        if seed is None and coldstore.archived(self.target):  # the rerun reads the sample it restored
            seed = int(sid.encode().hex()[:15], 16)
        result = _drill.drill(self.target, sid, sample, seed, progress,
                              self._readable(f"snapshot {sid[:12]} (drill sample)", f"labvault backup drill {snapshot}", progress))
        if result.ok:
            _verified.record(self.target, [result.snapshot], "drill")
        return result

    def close(self) -> None:
        self.target.close()
