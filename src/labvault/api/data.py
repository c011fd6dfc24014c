"""Versioning operations on a repository's data."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labvault import __version__
from labvault.errors import UsageError
from labvault.progress import NULL_PROGRESS, Progress
from labvault.workspace.repo import Repo, open_repo

if TYPE_CHECKING:
    from labvault.workspace.add import Recorded as Recorded
    from labvault.workspace.checkout import CheckoutResult as CheckoutResult
    from labvault.workspace.data_status import DataStatus as DataStatus
    from labvault.workspace.diff import DiffReport as DiffReport
    from labvault.workspace.ignore import IgnoreMatch as IgnoreMatch
    from labvault.workspace.index import Tracked
    from labvault.workspace.listing import Listed as Listed
    from labvault.workspace.move import Moved as Moved
    from labvault.workspace.remove import Removed as Removed
    from labvault.workspace.status import StatusReport

# The workspace modules load when a function needs them: `labvault status` imports no more than
# status needs.
_TYPES = {
    "Recorded": "labvault.workspace.add", "CheckoutResult": "labvault.workspace.checkout",
    "DiffReport": "labvault.workspace.diff", "Listed": "labvault.workspace.listing",
    "DataStatus": "labvault.workspace.data_status", "IgnoreMatch": "labvault.workspace.ignore",
    "Moved": "labvault.workspace.move", "Removed": "labvault.workspace.remove",
    "OutputStatus": "labvault.workspace.status", "StatusReport": "labvault.workspace.status",
}


def __getattr__(name: str) -> Any:
    if name in _TYPES:
        import importlib

        return getattr(importlib.import_module(_TYPES[name]), name)
    raise AttributeError(name)


PathLike = str | os.PathLike[str]



def _open(repo: PathLike | None, progress: Progress) -> Repo:
    return open_repo(Path(repo) if repo is not None else None, progress)


def version() -> str:
    return __version__


def init(path: PathLike = ".", no_scm: bool = False, force: bool = False) -> Path:
    """Create ``.dvc/`` (config, .gitignore) and ``.dvcignore`` in ``path``; returns the repo root."""
    from labvault.workspace.repo import init_repo

    return init_repo(Path(path), no_scm=no_scm, force=force).root


def add(targets: list[str], repo: PathLike | None = None, progress: Progress = NULL_PROGRESS,
        new_version: bool = False, no_commit: bool = False, out: PathLike | None = None,
        force: bool = False, jobs: int | None = None, to_remote: bool = False,
        remote: str | None = None) -> list[Recorded]:
    """Track files, folders or glob patterns (relative to ``repo`` when given, else to the
    current folder). New content of a protected output is refused (ProtectedDataError, exit 4)
    unless ``new_version``: then it is recorded and made read-only again. ``no_commit``: write
    the pointers, store nothing (``commit`` stores later). ``out``: one target from outside the
    workspace (a path or an s3://, gs://, azure:// URL) copied to ``out`` and tracked there;
    ``force`` replaces an existing ``out`` whose content is in the cache. ``to_remote`` (one
    target, ``out`` optional): its data goes to ``remote`` (default: the default remote), not to
    the cache or the workspace, as ``dvc add --to-remote``; ``pull`` brings it later."""
    from labvault.workspace import add as _add

    if out is not None or to_remote:
        return [_add_external(targets, out, no_commit, force, jobs, repo, progress, to_remote, remote)]
    if remote is not None:
        raise UsageError("--remote goes with --to-remote", "add --to-remote, or leave -r out")
    if force:
        raise UsageError("--force only replaces the destination of -o/--out", "drop --force, or give -o")
    r = _open(repo, progress)
    results = _add.add(r, targets, new_version, no_commit)
    _capture_datasets(r, results)
    if new_version:
        _note_new_versions(r, results)
    return results


def _add_external(targets: list[str], out: PathLike | None, no_commit: bool, force: bool, jobs: int | None,
                  repo: PathLike | None, progress: Progress, to_remote: bool = False,
                  remote: str | None = None) -> Recorded:
    from labvault.api.import_url import add_external
    from labvault.workspace.add import Recorded as _Recorded

    option = "--to-remote" if to_remote else "-o/--out"
    if len(targets) != 1:
        raise UsageError(f"{option} takes exactly one source", "add the others one at a time")
    if no_commit:
        raise UsageError(f"--no-commit cannot be used with {option}: the copy goes through the cache"
                         if not to_remote else "--no-commit cannot be used with --to-remote", "drop one of them")
    r = add_external(targets[0], out, force, jobs, repo, progress, to_remote=to_remote, remote=remote)
    assert r.oid is not None  # add -o always downloads
    root = _open(repo, NULL_PROGRESS)
    # everything was copied: the bytes downloaded are the output's size
    results = [_Recorded(r.path, r.pointer, r.oid, r.bytes, r.files if r.oid.endswith(".dir") else None, True, r.files)]
    _capture_datasets(root, results)
    return results[0]


def commit(
    targets: list[str] | None = None, repo: PathLike | None = None, progress: Progress = NULL_PROGRESS,
    new_version: bool = False,
) -> list[Recorded]:
    """Record the current content of tracked outputs (all of them when ``targets`` is empty);
    protected outputs as :func:`add`."""
    from labvault.workspace import add as _add

    r = _open(repo, progress)
    results = _add.commit(r, targets or None, new_version)
    _capture_datasets(r, results)
    if new_version:
        _note_new_versions(r, results)
    return results


def _note_new_versions(r: Repo, results: list[Recorded]) -> None:
    """Protected outputs recorded anew: their catalog rows get the new content hash."""
    from labvault.api.protection import note_new_versions

    note_new_versions([(str(r.abspath(x.path)), x.oid) for x in results if x.changed])


def _capture_datasets(r: Repo, results: list[Recorded]) -> None:
    from labvault.api.capture import capture_datasets

    capture_datasets(r, results)


def status(
    targets: list[str] | None = None, repo: PathLike | None = None, progress: Progress = NULL_PROGRESS,
    read_ahead: bool = False,
) -> StatusReport:
    """What differs between the workspace and the pointers. ``read_ahead=True`` lets a helper
    process (a fresh interpreter, never a fork) list the outputs on a second core; off by
    default, so a library call starts no process."""
    from labvault.api.spill_setup import lookup_for, restore
    from labvault.workspace import status as _status
    from labvault.workspace.index import select, workspace_outputs

    r = _open(repo, progress)
    tracked = select(workspace_outputs(r), r, targets or None)
    lookup = lookup_for(r)
    if lookup is None:
        report = _status.status(r, targets or None, read_ahead, tracked=tracked)
    else:
        # A cache that spilled: spilled objects count as present (their tier file exists), and a
        # folder manifest gone from the cache is fetched back (small; the files it names are known then).
        restore(r, lookup, tracked, manifests_only=True)
        report = _status.status(r, targets or None, read_ahead, lambda oids: set(lookup.present(oids)), tracked)
    return _with_import_sources(tracked, report)


def _with_import_sources(tracked: list[Tracked], report: StatusReport) -> StatusReport:
    """URL imports that are not frozen (old dvc wrote them so, or ``unfreeze``): their source is
    checked, as dvc's status checks it ("changed deps"). Frozen ones, the usual, cost nothing. A
    source that cannot be checked is "unreachable", its reason in the output's ``notes``, and
    the status of everything else is still given."""
    open_imports = {t.pointer_rel: t.pointer.file for t in tracked
                    if t.pointer.extra.get("deps") and not t.pointer.extra.get("frozen")}
    if not open_imports:
        return report
    from dataclasses import replace

    from labvault.api.import_url import source_change

    outputs = []
    for o in report.outputs:
        changes, why = source_change(open_imports[o.pointer]) if o.pointer in open_imports else ({}, None)
        if changes:
            o = replace(o, changed_deps=changes, notes=(*o.notes, why) if why else o.notes)
        outputs.append(o)
    return replace(report, outputs=tuple(outputs))


def has_stages(repo: PathLike | None = None) -> bool:
    """Whether the workspace has a ``dvc.yaml`` (so that stage commands have work); cheap: it does
    not load the pipeline modules."""
    from labvault.workspace.index import find_control_files

    return bool(find_control_files(_open(repo, NULL_PROGRESS))[2])


def checkout(
    targets: list[str] | None = None,
    force: bool = False,
    relink: bool = False,
    repo: PathLike | None = None,
    progress: Progress = NULL_PROGRESS,
) -> CheckoutResult:
    """Make the workspace hold the data the .dvc files and dvc.lock files name, from the cache;
    refuses (WorkspaceConflictError, nothing changed) when that would destroy data not in the
    cache unless ``force``. URL imports recorded without their data are placed once fetched;
    ``failed`` lists the outputs (or files) whose objects the cache lacks."""
    from labvault.api.access import record_checkout
    from labvault.api.pull_imports import recorded_imports, resolve_imports
    from labvault.api.spill_setup import restore_spilled
    from labvault.pipelines.outputs import locked_outputs
    from labvault.workspace import checkout as _checkout
    from labvault.workspace.index import workspace_outputs

    r = _open(repo, progress)
    extra = locked_outputs(r)
    restore_spilled(r, targets, extra)
    # URL imports recorded without their data: placed from the cache once fetched (as dvc does)
    outputs = workspace_outputs(r)
    placed, unplaceable = resolve_imports(r, recorded_imports(r, targets, outputs))
    result = _checkout.checkout(r, targets or None, force=force, relink=relink, extra=extra + placed,
                                outputs=outputs)
    result.failed.extend(unplaceable)
    record_checkout(r, result, "checkout", extra + placed)
    return result


def remove(
    targets: list[str], outs: bool = False, repo: PathLike | None = None, force: bool = False,
    dry_run: bool = False,
) -> list[Removed]:
    """Stop tracking ``targets``; ``outs`` also deletes their data, but never a file whose
    content is not in the cache unless ``force`` (WorkspaceConflictError, nothing changed).
    ``dry_run``: the same checks, nothing changed; the result says what would go."""
    from labvault.workspace import remove as _remove

    return _remove.remove(_open(repo, NULL_PROGRESS), targets, outs=outs, force=force, dry_run=dry_run)


def move(src: str, dst: str, repo: PathLike | None = None) -> Moved:
    from labvault.workspace import move as _move

    return _move.move(_open(repo, NULL_PROGRESS), src, dst)


def list_outputs(repo: PathLike | None = None) -> list[Listed]:
    """Outputs of ``.dvc`` files and cached outputs of pipeline stages, as ``dvc list --dvc-only``
    shows them: recorded hash, size and file count (none for a stage that never ran)."""
    from labvault.pipelines.revision import Snapshot
    from labvault.workspace import listing as _listing

    r = _open(repo, NULL_PROGRESS)
    p = Snapshot(r, None).pipelines()
    recorded = {o.rel: o for o in p.lock_outs}
    staged = []
    for stage in p.stages:
        for out in stage.outs:
            if not out.cache:
                continue
            lo = recorded.get(out.rel)
            if lo is None:  # declared, never run
                staged.append(_listing.Listed(out.rel, stage.lockfile, None, None, None, False, False, stage.address))
                continue
            staged.append(_listing.Listed(
                out.rel, lo.lockfile, lo.oid, lo.size, lo.nfiles if lo.is_dir else None, lo.is_dir,
                r.odb.exists(lo.oid, lo.legacy), stage.address,
            ))
    return _listing.list_outputs(r, staged)


def diff(a_rev: str | None = None, b_rev: str | None = None, repo: PathLike | None = None) -> DiffReport:
    """Outputs of ``.dvc`` files and of pipelines (``dvc.lock``) compared between two revisions,
    or a revision and the workspace, as ``dvc diff`` compares them."""
    from labvault.pipelines.revision import Snapshot
    from labvault.workspace import diff as _diff

    r = _open(repo, NULL_PROGRESS)

    def pipeline_outputs(sha: str | None) -> list[_diff.Recorded]:
        p = Snapshot(r, sha).pipelines()
        if sha is not None:
            return [_diff.Recorded(o.rel, o.oid, o.legacy) for o in p.lock_outs if o.cache]
        legacy = {o.rel: o.legacy for o in p.lock_outs}
        return [_diff.Recorded(o.rel, None, legacy.get(o.rel, False)) for s in p.stages for o in s.outs if o.cache]

    return _diff.diff(r, a_rev, b_rev, pipeline_outputs)


def data_status(
    granular: bool = False, unchanged: bool = False, untracked_files: bool = False, repo: PathLike | None = None,
    not_in_remote: bool = False, remote: str | None = None, targets: list[str] | None = None,
) -> DataStatus:
    """Tracked data compared as ``dvc data status`` compares it: what the pointers (``.dvc``
    files, ``dvc.lock``) record against git's HEAD (``committed``), the workspace against the
    pointers (``uncommitted``), and recorded objects the cache lacks (``not_in_cache``); per
    output, or with ``granular`` per file inside folders too. ``unchanged`` and
    ``untracked_files`` add those lists; ``not_in_remote`` what the remote lacks (each output's
    own remote, else ``remote`` or the default; see :mod:`labvault.api.data_remote`).
    ``targets`` (paths, relative to the current folder) limits every list to those paths and
    what is below them, as dvc's; only the outputs they touch are hashed."""
    from dataclasses import replace

    from labvault.pipelines.revision import Snapshot
    from labvault.workspace import data_status as _ds
    from labvault.workspace.diff import Recorded as _Recorded
    from labvault.workspace.index import workspace_outputs

    r = _open(repo, NULL_PROGRESS)
    scope = _ds.Scope.of(r, targets)
    now = Snapshot(r, None).pipelines()
    recorded = [_Recorded(o.rel, o.oid, o.legacy) for o in now.lock_outs if o.cache and scope.touches(o.rel)]
    legacy = {o.rel: o.legacy for o in now.lock_outs}
    to_scan = [_Recorded(o.rel, None, legacy.get(o.rel, False)) for s in now.stages for o in s.outs
               if o.cache and scope.touches(o.rel)]
    tracked = [t for t in workspace_outputs(r) if scope.touches(t.rel)]
    head = None
    if r.scm is not None and r.scm.has_commits():
        then = Snapshot(r, "HEAD").pipelines()
        head = _ds.recorded_at_head(r, [_Recorded(o.rel, o.oid, o.legacy) for o in then.lock_outs if o.cache])
        head = [o for o in head if scope.touches(o.rel)] if head is not None else None
    result = _ds.data_status(r, recorded, head, to_scan, tracked=tracked, granular=granular, unchanged=unchanged,
                             untracked=untracked_files)
    if not_in_remote:
        from labvault.api.data_remote import not_in_remote as _missing

        result = replace(result, not_in_remote=_missing(r, granular, remote, scope.touches))
    return scope.limit(result)


@dataclass(frozen=True)
class IgnoreCheck:
    """One path checked against the ``.dvcignore`` files: the pattern deciding it, if any."""

    path: str  # as given
    match: IgnoreMatch | None

    @property
    def ignored(self) -> bool:
        return self.match is not None and self.match.ignored


def check_ignore(paths: list[str], repo: PathLike | None = None) -> list[IgnoreCheck]:
    """Which ``paths`` (relative to the current folder, or absolute) the ``.dvcignore`` files
    exclude, and by which pattern (file, line, text), as ``dvc check-ignore`` decides: the last
    matching pattern wins, the deepest ``.dvcignore`` last; a negation (``!pattern``) includes the
    path again. A path that is a folder on disk is matched as a folder (a trailing `/` alone does not make one, as in DVC). Paths outside the
    repository match nothing."""
    from labvault.workspace.ignore import IgnoreRules

    r = _open(repo, NULL_PROGRESS)
    rules = IgnoreRules(r.root)
    out = []
    for p in paths:
        absolute = os.path.abspath(os.path.join(r.base, p))
        real = os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))
        rel = os.path.relpath(real, r.root).replace(os.sep, "/")
        if rel == "." or rel == ".." or rel.startswith("../"):
            out.append(IgnoreCheck(p, None))
            continue
        out.append(IgnoreCheck(p, rules.explain(rel, os.path.isdir(real))))  # as dvc: "x/" is a folder only if one is there
    return out


def unprotect(targets: list[str], repo: PathLike | None = None) -> list[str]:
    from labvault.workspace import unprotect as _unprotect

    return _unprotect.unprotect(_open(repo, NULL_PROGRESS), targets)


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    corrupt: tuple[str, ...]
    unreadable: tuple[str, ...]
    missing: tuple[str, ...]
    quarantined: tuple[str, ...]
    spilled: tuple[str, ...] = ()  # needed, not in the cache, on a spill tier (counted present, not re-hashed)

    @property
    def ok(self) -> bool:
        return not (self.corrupt or self.unreadable or self.missing)


def verify(
    remove_corrupt: bool = False, repo: PathLike | None = None, progress: Progress = NULL_PROGRESS
) -> VerifyResult:
    """Re-hash every cache object; list corrupt ones and objects the workspace needs but lacks."""
    from labvault.core.verify import verify_store
    from labvault.workspace.used import collect_used

    r = _open(repo, progress)
    report = verify_store(r.odb, r.jobs, progress)
    quarantined: list[str] = []
    if remove_corrupt and report.corrupt:
        with r.locked():
            r.state.bump_generation()
            for obj in report.corrupt:
                quarantined.append(r.odb.quarantine(obj.path))
    from labvault.api.spill_setup import held_elsewhere

    used = collect_used(r)
    missing = sorted(oid for oid, legacy in used.refs if not r.odb.exists(oid, legacy))
    elsewhere = held_elsewhere(r) if missing else None
    spilled = elsewhere(set(missing)) if elsewhere is not None else set()
    return VerifyResult(
        checked=report.checked,
        corrupt=tuple(sorted(o.oid for o in report.corrupt)),
        unreadable=tuple(sorted(o.oid for o in report.unreadable)),
        missing=tuple(o for o in missing if o not in spilled),
        quarantined=tuple(quarantined),
        spilled=tuple(sorted(spilled)),
    )
