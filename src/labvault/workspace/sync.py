"""``push``, ``fetch``, ``pull`` and ``status --cloud``: the objects the chosen outputs and
revisions need, between the cache and a remote."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from labvault.errors import LabvaultError
from labvault.fsutil import tmp_name, unlink_quietly
from labvault.remotes.compare import cloud_status
from labvault.remotes.transfer import Through, TransferResult, fetch, push
from labvault.workspace.index import Tracked, select, workspace_outputs
from labvault.workspace.remotes import open_remote
from labvault.workspace.repo import Repo
from labvault.workspace.used import PipelineRoutes, Route, collect_by_remote

if TYPE_CHECKING:
    from labvault.workspace.checkout import CheckoutResult

Ref = tuple[str, bool]
# Given the refs a transfer needs, bring into the cache those held elsewhere (a tier the cache
# spilled to); called under the repo's lock. None: the cache is the only local place.
Restore = Callable[[set[Ref]], None]


@dataclass(frozen=True)
class Revisions:
    all_tags: bool = False
    all_branches: bool = False
    all_commits: bool = False

    @property
    def any(self) -> bool:
        return self.all_tags or self.all_branches or self.all_commits


NO_REVISIONS = Revisions()


Plan = list[tuple[str | None, set[Ref], set[Ref]]]  # (remote name or None: default, refs, optional refs)


def _plan(repo: Repo, targets: list[str] | None, revs: Revisions, for_push: bool, remote: str | None,
          routes: PipelineRoutes | None) -> Plan:
    """Which objects go to or come from which remote, as dvc routes them: an output naming a
    remote (its ``remote:`` field) uses that one, the others the remote named on the command
    line or the default; with ``-r NAME``, outputs naming another remote are left out. Optional
    refs may be legitimately absent (uncached stage outputs). With nothing to move, the command's
    own remote (so that its errors, no default remote or unreachable, are still reported); a
    remote nothing is routed to is not opened (every output bound: no default remote needed)."""
    tracked = None
    if targets:
        chosen = select(workspace_outputs(repo), repo, targets)
        tracked = [t for t in chosen if not (for_push and t.out.extra.get("push") is False)]
    groups = collect_by_remote(repo, revs.all_tags, revs.all_branches, revs.all_commits, skip_no_push=for_push,
                               routes=routes, tracked=tracked)
    merged: dict[str | None, tuple[set[Ref], set[Ref]]] = {}
    for name, used in groups.items():
        if name is None or name == remote:
            where = remote
        elif remote is None:
            where = name
        else:
            continue  # `-r NAME`: an output bound to another remote is not moved (as dvc)
        refs, optional = merged.setdefault(where, (set(), set()))
        optional |= used.optional - refs
        optional -= used.refs - used.optional
        refs |= used.refs
    plan = [(name, refs, optional) for name, (refs, optional) in merged.items() if refs]
    return plan or [(remote, set(), set())]


def push_objects(
    repo: Repo, targets: list[str] | None, remote: str | None, jobs: int | None, revs: Revisions,
    restore: Restore | None = None, routes: PipelineRoutes | None = None,
) -> TransferResult:
    """``routes``: the pipeline outputs' remotes (see :func:`_plan`); .dvc outputs' are read here."""
    plan = _plan(repo, targets, revs, True, remote, routes or _no_routes)
    stores = [(open_remote(repo, name, jobs), refs, optional) for name, refs, optional in plan]
    for store, _, _ in stores:
        store.backend.check_writable_root()
    if restore is not None:
        with repo.locked():
            restore(set().union(*(refs for _, refs, _ in stores)))
    result = TransferResult()
    for store, refs, optional in stores:
        result.add(push(repo.odb, store, refs, repo.progress, optional))
    return result


def fetch_objects(
    repo: Repo, targets: list[str] | None, remote: str | None, jobs: int | None, revs: Revisions,
    restore: Restore | None = None, routes: PipelineRoutes | None = None, through: Through | None = None,
) -> TransferResult:
    plan = _plan(repo, targets, revs, False, remote, routes or _no_routes)
    stores = [(open_remote(repo, name, jobs), refs, optional) for name, refs, optional in plan]
    for store, _, _ in stores:
        store.backend.check_readable_root()
    result = TransferResult()
    with repo.locked():
        if restore is not None:
            restore(set().union(*(refs for _, refs, _ in stores)))
        for store, refs, optional in stores:
            result.add(fetch(repo.odb, store, refs, repo.progress, optional=optional, through=through))
    return result


def _no_routes(rev: str | None) -> dict[tuple[str, str], Route]:
    """No pipeline output names a remote (the caller read no dvc.yaml)."""
    return {}


@dataclass(frozen=True)
class PullResult:
    fetched: TransferResult
    checkout: CheckoutResult


def pull(
    repo: Repo, targets: list[str] | None, remote: str | None, jobs: int | None, revs: Revisions, force: bool,
    extra: list[Tracked] | None = None, restore: Restore | None = None, routes: PipelineRoutes | None = None,
) -> PullResult:
    from labvault.workspace.checkout import checkout

    premade: dict[str, tuple[str, str]] = {}
    try:
        fetched = fetch_objects(repo, targets, remote, jobs, revs, restore, routes, _through(repo, targets, extra))
        premade = fetched.premade
        result = checkout(repo, targets, force=force, extra=extra, premade=premade)
    finally:
        for _oid, copy in premade.values():  # made but not taken (the checkout failed, or chose otherwise)
            unlink_quietly(copy)
        premade.clear()
    return PullResult(fetched, result)


THROUGH_MIN = 64 << 20  # files at least this big (by their pointer) are pulled through


def _through(repo: Repo, targets: list[str] | None, extra: list[Tracked] | None) -> Through:
    """Pull-through: the workspace files the fetch should also write, in the same pass over the
    remote's object, so that their bytes go to disk beside the cache's copy rather than after it
    (a pull of 4 GiB from a folder remote waited behind the write-back of the first copy). Only
    large single files that are absent from the workspace (no conflict to weigh), whose folder
    exists and passes the output guard, whose object the cache lacks, and only where the linker
    would copy (a reflink or link costs no bytes). The checkout takes each copy only for a file it
    plans to write with that object; the fetch verified it like the cache's."""
    from labvault.workspace.safepath import guard_for

    out: Through = {}
    guard = guard_for(repo)
    copies: dict[int, bool] = {}  # st_dev of a folder -> the linker would copy there
    for t in select(workspace_outputs(repo) + list(extra or []), repo, targets):
        o = t.out
        if not (o.use_cache and o.oid) or o.is_dir or o.legacy or (o.size or 0) < THROUGH_MIN:
            continue
        path = str(repo.abspath(t.rel))
        try:
            guard.check_output(t.rel, False)
            if os.path.lexists(path) or repo.odb.exists(o.oid):
                continue
            folder = os.stat(os.path.dirname(path))
        except (LabvaultError, OSError):
            continue  # the checkout reports it
        if folder.st_dev not in copies:
            copies[folder.st_dev] = _linker_copies(repo, os.path.dirname(path))
        if copies[folder.st_dev]:
            out.setdefault(o.oid, []).append(path)
    return out


def _linker_copies(repo: Repo, folder: str) -> bool:
    """Would the checkout copy from the cache into ``folder``? Its first link type is ``copy``, or
    ``reflink`` followed by ``copy`` where a reflink from the cache's file system fails."""
    from labvault.core.links import LinkUnsupported, _reflink

    types = repo.linker().types
    if types[0] == "copy":
        return True
    if types[:2] != ("reflink", "copy"):
        return False
    repo.odb.ensure_fanout()
    probe = tmp_name(os.path.join(repo.odb.root, "00", "reflink-probe"))
    clone = tmp_name(os.path.join(folder, "reflink-probe"))
    try:
        with open(probe, "xb") as f:
            f.write(b"p")
        _reflink(probe, clone)
        return False
    except LinkUnsupported:
        return True
    except OSError:
        return False
    finally:
        unlink_quietly(probe)
        unlink_quietly(clone)


@dataclass(frozen=True)
class CloudStatus:
    remote: str
    to_push: tuple[str, ...]  # only in the cache, or on the remote with another size
    to_pull: tuple[str, ...]
    lost: tuple[str, ...]
    wrong_size: tuple[str, ...] = ()  # on the remote with another size than the cache's (in to_push too)

    @property
    def in_sync(self) -> bool:
        return not (self.to_push or self.to_pull or self.lost)


def status_cloud(
    repo: Repo, targets: list[str] | None, remote: str | None, jobs: int | None, revs: Revisions,
    elsewhere: Callable[[set[str]], set[str]] | None = None, routes: PipelineRoutes | None = None,
) -> CloudStatus:
    """``elsewhere``: of the oids the cache lacks, those held locally elsewhere (a spill tier):
    they count as local, so one the remote has is in sync and one it lacks is to push. As dvc,
    outputs marked ``push: false`` are not looked at; unlike dvc (which skips them), an output
    bound to a remote is looked for on that remote."""
    plan = _plan(repo, targets, revs, True, remote, routes or _no_routes)
    stores = [(open_remote(repo, name, jobs), refs, optional) for name, refs, optional in plan]
    for store, _, _ in stores:
        store.backend.check_readable_root()
    to_push: list[str] = []
    to_pull: list[str] = []
    lost: list[str] = []
    wrong_size: list[str] = []
    for store, refs, optional in stores:
        d = cloud_status(repo.odb, store, refs, optional)
        to_push += d.to_push
        to_pull += d.to_pull
        lost += d.lost
        wrong_size += d.wrong_size
    if len(stores) > 1:  # an object two remotes hold or lack is listed once
        to_push, to_pull, lost, wrong_size = (sorted(set(x)) for x in (to_push, to_pull, lost, wrong_size))
    if elsewhere is not None and (to_pull or lost):
        held = elsewhere({*to_pull, *lost})
        to_push = sorted({*to_push, *(o for o in lost if o in held)})
        to_pull = [o for o in to_pull if o not in held]
        lost = [o for o in lost if o not in held]
    return CloudStatus(", ".join(store.name for store, _, _ in stores), tuple(to_push), tuple(to_pull), tuple(lost),
                       tuple(wrong_size))
