"""``gc``: delete the cache's (and with ``cloud``, a remote's) objects that the kept revisions do
not use, as ``dvc gc``; the plans are made first, under the repository's lock."""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from labvault.errors import UsageError
from labvault.progress import NULL_PROGRESS, Progress
from labvault.workspace.repo import Repo, open_repo

if TYPE_CHECKING:
    from labvault.remotes.store import RemoteStore

PathLike = str | os.PathLike[str]


def _open(repo: PathLike | None, progress: Progress) -> Repo:
    return open_repo(Path(repo) if repo is not None else None, progress)


@dataclass(frozen=True)
class GcResult:
    dry_run: bool
    removed: int
    removed_bytes: int
    kept: int
    objects: tuple[str, ...]
    missing_manifests: tuple[str, ...]
    revisions: int
    spilled_removed: tuple[str, ...] = ()  # --spilled: spilled copies forgotten (tier files no other cache names deleted)
    remote: str | None = None  # --cloud: the remote also cleaned
    remote_removed: tuple[str, ...] = ()  # its objects deleted (or, dry run, to delete)
    remote_removed_bytes: int = 0
    remote_kept: int = 0  # its 3.x objects the kept revisions use
    bound_remotes: tuple[RemoteCleanup, ...] = ()  # --cloud: the other remotes kept outputs are bound to


@dataclass(frozen=True)
class RemoteCleanup:
    """``gc --cloud`` on a remote that outputs of the kept revisions name (``remote:``)."""

    remote: str
    removed: tuple[str, ...]  # its objects deleted (or, dry run, to delete)
    removed_bytes: int
    kept: int  # its 3.x objects the kept revisions use


def gc(
    all_tags: bool = False,
    all_branches: bool = False,
    all_commits: bool = False,
    dry_run: bool = False,
    repo: PathLike | None = None,
    progress: Progress = NULL_PROGRESS,
    spilled: bool = False,
    cloud: bool = False,
    remote: str | None = None,
    jobs: int | None = None,
    rev: str | None = None,
    num: int | None = None,
    date: str | None = None,
    not_in_remote: bool = False,
) -> GcResult:
    """Delete cache objects nothing uses (the workspace, plus the chosen git revisions).
    ``spilled``: also the spilled copies (on the repo's spill tiers) of objects nothing uses; the
    spill tiers are never touched otherwise. ``cloud``: also the objects of ``remote`` (default:
    the default remote) nothing uses, as ``dvc gc -c`` (see :mod:`labvault.workspace.gc_remote`);
    both plans are made before anything is deleted. As ``dvc gc``: ``rev`` keeps that commit
    too, ``num`` the ``num`` commits along first parents from ``rev`` and, with ``all_branches``,
    from each branch tip (one of the two is needed); ``date`` (YYYY-MM-DD) every commit made since;
    ``not_in_remote`` deletes even used objects that ``remote`` holds (with the cache's size),
    keeping only what the remote lacks. With ``cloud``, the remotes that outputs of the kept
    revisions are bound to (``remote:`` in a .dvc entry or dvc.yaml) are cleaned too, as dvc
    cleans them; on each remote, every object the kept revisions use is kept, wherever its
    output is bound (dvc keeps on each only what is routed to it)."""
    from labvault.api.pull_imports import recorded_imports, resolve_imports
    from labvault.core.gc import plan_gc
    from labvault.workspace.gc_remote import RemoteGcPlan, execute_remote_gc, plan_remote_gc
    from labvault.workspace.remotes import open_remote
    from labvault.workspace.used import collect_by_remote, collect_used, keep_if_present, merge_used

    if cloud and not_in_remote:
        raise UsageError("--not-in-remote and --cloud cannot go together (as in dvc): one keeps what the remote "
                         "lacks, the other cleans the remote", "run them one after the other")
    r = _open(repo, progress)
    gone: tuple[str, ...] = ()
    rplan: RemoteGcPlan | None = None
    others: list[tuple[RemoteStore, RemoteGcPlan]] = []
    with r.locked(), ExitStack() as closing:
        commits = _gc_commits(r, rev, num, date, all_branches)
        bound: list[str] = []
        if cloud:  # the outputs' remotes are needed: every remote they are bound to is cleaned too
            from labvault.pipelines.outputs import pipeline_routes

            groups = collect_by_remote(r, all_tags, all_branches, all_commits, commits=commits,
                                       routes=pipeline_routes(r))
            used = merge_used(groups.values())
            bound = sorted(name for name in groups if name is not None)
        else:
            used = collect_used(r, all_tags, all_branches, all_commits, commits=commits)
        # fetched URL imports recorded without their data: checkout places them from the cache
        for t in resolve_imports(r, recorded_imports(r, None))[0]:
            keep_if_present(r, used, t.out.oid or "")
        if cloud or not_in_remote:
            store = open_remote(r, remote, jobs)
            store.backend.check_readable_root()
        if cloud:
            # every remote opened and checked before any plan is made: a missing one deletes nothing
            more: list[RemoteStore] = []
            for name in bound:
                if name != store.name:
                    more.append(open_remote(r, name, jobs))
                    closing.callback(more[-1].backend.close)
            for other in more:
                other.backend.check_readable_root()
            rplan = plan_remote_gc(store, used, r.odb)
            others = [(other, plan_remote_gc(other, used, r.odb)) for other in more]
        keep = used.refs
        if not_in_remote:
            keep = _not_held(r, store, keep)
        plan = plan_gc(r.odb, keep)
        if spilled:
            from labvault.api.spill_gc import gc_spilled

            gone = gc_spilled(r, used.refs, dry_run)
        if not dry_run:
            if plan.remove:
                r.state.bump_generation()  # before deleting: no snapshot may vouch for a deleted object
            plan.execute(progress)
            if rplan is not None and rplan.remove:
                execute_remote_gc(store, rplan, progress)
            for other, oplan in others:
                if oplan.remove:
                    execute_remote_gc(other, oplan, progress)
    return GcResult(
        dry_run=dry_run,
        removed=len(plan.remove),
        removed_bytes=plan.removed_bytes,
        kept=plan.kept,
        objects=tuple(sorted(o.oid for o in plan.remove)),
        missing_manifests=tuple(sorted(o for o, _ in used.missing_manifests)),
        revisions=used.revisions,
        spilled_removed=gone,
        remote=rplan.remote if rplan is not None else None,
        remote_removed=tuple(oid for oid, _ in rplan.remove) if rplan is not None else (),
        remote_removed_bytes=rplan.removed_bytes if rplan is not None else 0,
        remote_kept=rplan.kept if rplan is not None else 0,
        bound_remotes=tuple(RemoteCleanup(p.remote, tuple(oid for oid, _ in p.remove), p.removed_bytes, p.kept)
                            for _, p in others),
    )


def _gc_commits(r: Repo, rev: str | None, num: int | None, date: str | None, all_branches: bool) -> list[str]:
    """The commits ``--rev``, ``--num`` and ``--date`` keep (see ``gc``)."""
    if rev is None and num is None and date is None:
        return []
    if num is not None and num < 1:
        raise UsageError(f"--num {num}: give a number of commits of 1 or more", "for example --num 5")
    if num is not None and rev is None and not all_branches:
        raise UsageError("--num counts commits from --rev or from the branch tips (-a)", "add --rev REV or -a")
    git = r.require_scm()
    out: list[str] = []
    if rev is not None or num is not None:
        roots = [rev] if rev is not None else []
        if num is not None and all_branches:
            roots += git.refs(tags=False, branches=True)
        for root in roots:
            out += git.first_parents(root, num or 1)
    if date is not None:
        import datetime

        try:
            day = datetime.date.fromisoformat(date)
        except ValueError:
            raise UsageError(f"--date {date!r} is not a date", "write it YYYY-MM-DD, e.g. --date 2026-01-31") from None
        out += git.commits_since(datetime.datetime(day.year, day.month, day.day).timestamp())  # local midnight
    return out


def _not_held(r: Repo, store: RemoteStore, keep: set[tuple[str, bool]]) -> set[tuple[str, bool]]:
    """``keep`` without the objects ``store`` holds with the cache's size (``--not-in-remote``, as
    dvc means it: what is safely on the remote leaves the cache, used or not). Refused when the
    workspace links into the cache by symlinks, which would then point at nothing."""
    if "symlink" in str(r.config.get("cache", "type") or ""):
        raise UsageError("--not-in-remote would delete objects the workspace's symlinks point to (cache.type "
                         "symlink)", "run `labvault unprotect` on the outputs first, or gc without it")
    from labvault.remotes.compare import local_sizes

    local = local_sizes(r.odb, keep)
    held = store.sizes(set(local))
    return {ref for ref in keep if ref not in held or held[ref] != local.get(ref)}
