"""``push``, ``fetch``, ``pull`` and ``status --cloud``: the objects the chosen outputs and
revisions need, between the cache and a remote."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from labvault.remotes.compare import cloud_status
from labvault.remotes.transfer import TransferResult, fetch, push
from labvault.workspace.index import Tracked, select, workspace_outputs
from labvault.workspace.remotes import open_remote
from labvault.workspace.repo import Repo
from labvault.workspace.used import UsedObjects, add_tracked, collect_used

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


def _refs(repo: Repo, targets: list[str] | None, revs: Revisions, for_push: bool) -> tuple[set[Ref], set[Ref]]:
    """(refs, optional refs): optional ones may be legitimately absent (uncached stage outputs)."""
    if targets:
        used = UsedObjects()
        chosen = select(workspace_outputs(repo), repo, targets)
        add_tracked(repo, used, [t for t in chosen if not (for_push and t.out.extra.get("push") is False)])
        refs = set(used.refs)
        optional: set[Ref] = set()
        if revs.any:
            more = collect_used(repo, revs.all_tags, revs.all_branches, revs.all_commits)
            optional = more.optional - refs
            refs |= more.refs
        return refs, optional
    used = collect_used(repo, revs.all_tags, revs.all_branches, revs.all_commits, skip_no_push=for_push)
    return used.refs, used.optional


def push_objects(
    repo: Repo, targets: list[str] | None, remote: str | None, jobs: int | None, revs: Revisions,
    restore: Restore | None = None,
) -> TransferResult:
    store = open_remote(repo, remote, jobs)
    store.backend.check_writable_root()
    refs, optional = _refs(repo, targets, revs, for_push=True)
    if restore is not None:
        with repo.locked():
            restore(refs)
    return push(repo.odb, store, refs, repo.progress, optional)


def fetch_objects(
    repo: Repo, targets: list[str] | None, remote: str | None, jobs: int | None, revs: Revisions,
    restore: Restore | None = None,
) -> TransferResult:
    store = open_remote(repo, remote, jobs)
    store.backend.check_readable_root()
    refs, optional = _refs(repo, targets, revs, for_push=False)
    with repo.locked():
        if restore is not None:
            restore(refs)
        return fetch(repo.odb, store, refs, repo.progress, optional=optional)


@dataclass(frozen=True)
class PullResult:
    fetched: TransferResult
    checkout: CheckoutResult


def pull(
    repo: Repo, targets: list[str] | None, remote: str | None, jobs: int | None, revs: Revisions, force: bool,
    extra: list[Tracked] | None = None, restore: Restore | None = None,
) -> PullResult:
    from labvault.workspace.checkout import checkout

    fetched = fetch_objects(repo, targets, remote, jobs, revs, restore)
    result = checkout(repo, targets, force=force, extra=extra)
    return PullResult(fetched, result)


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
    elsewhere: Callable[[set[str]], set[str]] | None = None,
) -> CloudStatus:
    """``elsewhere``: of the oids the cache lacks, those held locally elsewhere (a spill tier):
    they count as local, so one the remote has is in sync and one it lacks is to push."""
    store = open_remote(repo, remote, jobs)
    store.backend.check_readable_root()
    refs, optional = _refs(repo, targets, revs, for_push=False)
    d = cloud_status(repo.odb, store, refs, optional)
    to_push, to_pull, lost = d.to_push, d.to_pull, d.lost
    if elsewhere is not None and (to_pull or lost):
        held = elsewhere({*to_pull, *lost})
        to_push = sorted({*to_push, *(o for o in lost if o in held)})
        to_pull = [o for o in to_pull if o not in held]
        lost = [o for o in lost if o not in held]
    return CloudStatus(store.name, tuple(to_push), tuple(to_pull), tuple(lost), tuple(d.wrong_size))
