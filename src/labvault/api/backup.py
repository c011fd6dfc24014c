"""Backups of the lab, by the policies of its lab config::

    from labvault import api

    for r in api.backup_run():                      # every policy (or api.backup_run("daily"))
        print(r.snapshot, r.objects_added, r.bytes_added)
    snaps = api.backup_list()
    api.backup_restore(snaps[-1].id, "/tmp/restore", verify=True)
    api.backup_forget(dry_run=True)                 # what retention would remove
    api.backup_prune()
    assert api.backup_check(read_data=True)[0].ok
    api.backup_drill()                              # restore a sample, compare, record

Every function takes ``lab`` (the lab config file, as ``labvault.api.lab``); ``policy`` narrows
to one policy (and its target). The format on the target is in docs/design.md ("Backups").
"""

from __future__ import annotations

import fnmatch
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from labvault.backup.engine import BackupEngine, Cold, OwnEngine
from labvault.backup.restic_cli import PREFIX
from labvault.backup.restic_engine import ResticEngine
from labvault.backup.retention import Policy, parse_duration
from labvault.backup.types import (
    BadObject,
    CheckResult,
    DrillResult,
    ForgetItem,
    ForgetResult,
    PruneResult,
    RestoreResult,
    RunResult,
    SnapshotInfo,
)
from labvault.errors import ConfigError, UsageError
from labvault.progress import NULL_PROGRESS, Progress
from labvault.tiers import load as _load
from labvault.tiers.lab import BackupPolicy, LabConfig, Retention, catalog_url_of

PathLike = str | os.PathLike[str]

__all__ = ["BackupEngine", "BadObject", "CheckResult", "DrillResult", "ForgetItem", "ForgetResult", "PruneResult",
           "RestoreResult", "RunResult", "SnapshotInfo", "Wait", "backup_check", "backup_drill", "backup_forget",
           "backup_list", "backup_prune", "backup_restore", "backup_run", "retention_policy"]


def retention_policy(r: Retention) -> Policy:
    """The lab config's retention as ``backup.retention``'s policy."""
    return Policy(r.last, r.hourly, r.daily, r.weekly, r.monthly, r.yearly,
                  parse_duration(r.within) if r.within else parse_duration("0h"),
                  tuple(frozenset(s) for s in r.keep_tags))


def _policies(config: LabConfig, policy: str | None) -> list[BackupPolicy]:
    if policy is not None:
        return [config.backup(policy)]
    if not config.backups:
        raise ConfigError(f"{config.source or 'the lab config'} has no backup policies",
                          "add a `backups:` list (see docs/design.md, Backups)")
    return list(config.backups)


def _engine(p: BackupPolicy, cache_dir: Path | None = None, wait: Wait | None = None) -> BackupEngine:
    """restic's engine for a ``restic:REPOSITORY`` target, labvault's own for the others (with the
    policy's storage class; ``wait`` for archive restores before reading)."""
    if p.target.startswith(PREFIX):
        return ResticEngine(p.target[len(PREFIX):], p.password_file, p.password_command, p.name, cache_dir)
    w = wait or Wait()
    return OwnEngine(p.target, dict(p.options), cache_dir,
                     cold=Cold(p.storage_class, p.price_per_gb_month, w.wait, w.timeout, w.poll_seconds))


@dataclass(frozen=True)
class Wait:
    """Whether ``restore``, ``drill`` and ``check --read-data`` wait for the archive restores they
    request (at most ``timeout`` seconds, asking every ``poll_seconds``) instead of raising
    ``RestorePendingError`` (exit 10)."""

    wait: bool = False
    timeout: float | None = None
    poll_seconds: float = 300.0


def _targets(config: LabConfig, policy: str | None) -> list[tuple[BackupPolicy, list[BackupPolicy]]]:
    """Each distinct target once (with the first policy naming it, and all of them)."""
    seen: dict[tuple[str, tuple[tuple[str, str], ...]], list[BackupPolicy]] = {}
    for p in _policies(config, policy):
        seen.setdefault((p.target, p.options), []).append(p)
    return [(group[0], group) for group in seen.values()]


def _resolve_sources(config: LabConfig, p: BackupPolicy, catalog_url: str | None) -> list[str]:
    out = [s for s in p.sources if not s.startswith("unit:")]
    globs = [s[len("unit:"):].strip() for s in p.sources if s.startswith("unit:")]
    if globs:
        out.extend(_unit_paths(config, globs, catalog_url, p.name))
    return out


def _unit_paths(config: LabConfig, globs: list[str], catalog_url: str | None, name: str) -> list[str]:
    import sqlalchemy as sa

    from labvault.api.lab import lab_catalog
    from labvault.catalog.lab_schema import lab_placements, lab_units

    cat = lab_catalog(config, catalog_url)
    q = (sa.select(lab_units.c.name, lab_units.c.version, lab_placements.c.location)
         .join(lab_placements, lab_placements.c.unit_id == lab_units.c.id)
         .where(lab_placements.c.state.in_(("present", "verified"))))
    with cat.read() as conn:
        rows = conn.execute(q).all()
    paths: list[str] = []
    for g in globs:
        hits = sorted({r.location for r in rows if r.location.startswith("/") and (
            fnmatch.fnmatchcase(r.name, g) or fnmatch.fnmatchcase(f"{r.name}@{r.version}", g))})
        if not hits:
            raise ConfigError(f"backup policy {name!r}: no lab unit matches unit:{g}",
                              "register units with `labvault lab scan`, or fix the glob")
        paths.extend(h for h in hits if h not in paths)
    return paths


@contextmanager
def catalog_dump_source(url: str) -> Iterator[str]:
    """A temporary folder named ``catalog`` holding a consistent copy of the catalog at ``url``,
    to back up as a source; removed on exit."""
    # imported here: SQLAlchemy and Alembic, only for policies that hold the catalog
    from labvault.catalog import dbcopy

    with tempfile.TemporaryDirectory(prefix="labvault-catalog-") as tmp:
        folder = os.path.join(tmp, "catalog")
        os.mkdir(folder, 0o700)
        dbcopy.dump_catalog(url, folder)
        yield folder


def backup_run(policy: str | None = None, dry_run: bool = False, lab: PathLike | None = None,
               catalog_url: str | None = None, progress: Progress = NULL_PROGRESS,
               cache_dir: Path | None = None) -> list[RunResult]:
    """One snapshot per policy (or of ``policy``); unchanged files are neither read nor sent. A
    policy with ``catalog: true`` also holds a consistent copy of the catalog database."""
    from contextlib import ExitStack

    config = _load.load_lab(lab)
    results = []
    for p in _policies(config, policy):
        sources = _resolve_sources(config, p, catalog_url)
        with ExitStack() as stack:
            if p.catalog:
                sources.append(stack.enter_context(catalog_dump_source(catalog_url_of(config, catalog_url))))
            engine = _engine(p, cache_dir)
            stack.callback(engine.close)
            results.append(engine.run(p.name, sources, p.tags, dry_run, progress))
    return results


def backup_list(policy: str | None = None, lab: PathLike | None = None) -> list[SnapshotInfo]:
    """The snapshots on the targets of every policy (or of ``policy``'s target), oldest first."""
    config = _load.load_lab(lab)
    out: list[SnapshotInfo] = []
    for first, _group in _targets(config, policy):
        engine = _engine(first)
        try:
            out.extend(s for s in engine.list() if policy is None or s.policy == policy)
        finally:
            engine.close()
    return sorted(out, key=lambda s: (s.time, s.id))


def _find(config: LabConfig, snapshot: str, policy: str | None) -> BackupPolicy:
    """The policy whose target holds ``snapshot`` (an id or unique prefix, or ``latest`` with one target)."""
    targets = _targets(config, policy)
    if snapshot == "latest":
        if len(targets) > 1:
            raise UsageError("`latest` is ambiguous with several backup targets", "name the policy with --policy")
        return targets[0][0]
    hits = []
    for first, _group in targets:
        engine = _engine(first)
        try:
            if any(s.id.startswith(snapshot) for s in engine.list()):
                hits.append(first)
        finally:
            engine.close()
    if not hits:
        raise UsageError(f"no snapshot {snapshot!r} on the backup targets", "list them with `labvault backup list`")
    if len(hits) > 1:
        raise UsageError(f"{snapshot!r} is found on several targets", "give more of the id, or --policy")
    return hits[0]


def backup_restore(snapshot: str, to: PathLike, paths: Sequence[str] = (), verify: bool = False,
                   policy: str | None = None, lab: PathLike | None = None,
                   progress: Progress = NULL_PROGRESS, wait: Wait | None = None) -> RestoreResult:
    """Restore ``snapshot`` (or the entries under ``paths``) into the folder ``to``. From an
    archive class, the restores are requested first (``RestorePendingError`` unless ``wait``)."""
    config = _load.load_lab(lab)
    p = _find(config, snapshot, policy)
    engine = _engine(p, wait=wait)
    try:
        return engine.restore(snapshot, os.fspath(to), paths, verify, progress)
    finally:
        engine.close()


def backup_forget(policy: str | None = None, dry_run: bool = False, lab: PathLike | None = None,
                  progress: Progress = NULL_PROGRESS) -> list[ForgetResult]:
    """Apply each policy's retention to the snapshots it made; deletes snapshot files only."""
    config = _load.load_lab(lab)
    out = []
    for first, group in _targets(config, policy):
        engine = _engine(first)
        try:
            out.append(engine.forget({p.name: retention_policy(p.retention) for p in group}, dry_run, progress))
        finally:
            engine.close()
    return out


def backup_prune(policy: str | None = None, dry_run: bool = False, lab: PathLike | None = None,
                 progress: Progress = NULL_PROGRESS, allow_early: bool = False) -> list[PruneResult]:
    """Delete the objects no remaining snapshot of the target references, except (unless
    ``allow_early``) those still inside their storage class's minimum duration."""
    config = _load.load_lab(lab)
    out = []
    for first, _group in _targets(config, policy):
        engine = _engine(first)
        try:
            out.append(engine.prune(dry_run, progress, allow_early))
        finally:
            engine.close()
    return out


def backup_check(policy: str | None = None, read_data: bool = False, subset: tuple[int, int] | None = None,
                 lab: PathLike | None = None, progress: Progress = NULL_PROGRESS,
                 wait: Wait | None = None) -> list[CheckResult]:
    """Every object the snapshots need is on the target (with ``read_data``: and hashes right)."""
    if subset is not None and not 1 <= subset[0] <= subset[1]:
        raise UsageError(f"invalid subset {subset[0]}/{subset[1]}", "give N/T with 1 <= N <= T, e.g. 1/7")
    config = _load.load_lab(lab)
    out = []
    for first, _group in _targets(config, policy):
        engine = _engine(first, wait=wait)
        try:
            out.append(engine.check(read_data, subset, progress))
        finally:
            engine.close()
    return out


def backup_drill(snapshot: str = "latest", policy: str | None = None, sample: int = 20, seed: int | None = None,
                 lab: PathLike | None = None, catalog_url: str | None = None, record: bool = True,
                 progress: Progress = NULL_PROGRESS, wait: Wait | None = None) -> DrillResult:
    """Restore a random sample of ``snapshot``'s files to a temporary folder, compare every byte
    with the recorded md5, and (``record``) write the outcome to the catalog's ``backup_drills``."""
    if sample < 1:
        raise UsageError("the sample must hold at least one file", "give --sample N with N >= 1")
    config = _load.load_lab(lab)
    p = _find(config, snapshot, policy)
    engine = _engine(p, wait=wait)
    try:
        result = engine.drill(snapshot, sample, seed, progress)
    finally:
        engine.close()
    if record:
        from dataclasses import replace

        from labvault.api.lab import lab_catalog
        from labvault.catalog.backup_log import record_drill

        record_drill(lab_catalog(config, catalog_url), p.name, result)
        result = replace(result, recorded=True)
    return result
