"""The objects a repo still needs: those named by its pointers (and ``dvc.lock`` files),
in the workspace and, when asked, at every tag, branch or commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from labvault.workspace.index import (
    Tracked,
    find_control_files,
    lock_outputs,
    outputs_at_rev,
    workspace_outputs,
)
from labvault.workspace.repo import Repo

Ref = tuple[str, bool]  # (oid, legacy)


@dataclass
class UsedObjects:
    refs: set[Ref] = field(default_factory=set)
    missing_manifests: set[Ref] = field(default_factory=set)
    # Named only by dvc.lock files: a stage output may be uncached (cache: false), so its absence
    # from the cache or a remote is not an error.
    optional: set[Ref] = field(default_factory=set)
    revisions: int = 0


def _add_out(repo: Repo, used: UsedObjects, oid: str, legacy: bool, optional: bool = False) -> None:
    ref = (oid, legacy)
    if ref in used.refs:
        if not optional and ref in used.optional:
            used.optional.discard(ref)
            _add_children(repo, used, ref, optional)
        return
    used.refs.add(ref)
    if optional:
        used.optional.add(ref)
    _add_children(repo, used, ref, optional)


def keep_if_present(repo: Repo, used: UsedObjects, oid: str) -> None:
    """Keep ``oid`` (and a manifest's files) where it is, without requiring it anywhere."""
    _add_out(repo, used, oid, False, optional=True)


def _add_children(repo: Repo, used: UsedObjects, ref: Ref, optional: bool) -> None:
    oid, legacy = ref
    if oid.endswith(".dir"):
        tree = repo.odb.try_load_tree(oid, legacy)
        if tree is None:
            if not optional:
                used.missing_manifests.add(ref)
            return
        children = {(child, legacy) for _, child in tree}
        if optional:
            used.optional.update(children - used.refs)
        else:
            used.optional.difference_update(children)
        used.refs.update(children)


def add_tracked(repo: Repo, used: UsedObjects, tracked: list[Tracked], skip_no_push: bool = False) -> None:
    for t in tracked:
        if skip_no_push and t.out.extra.get("push") is False:
            continue
        if t.out.oid and t.out.use_cache:
            _add_out(repo, used, t.out.oid, t.out.legacy)


def _lock_files_workspace(repo: Repo) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in find_control_files(repo)[1]]


def collect_used(
    repo: Repo,
    all_tags: bool = False,
    all_branches: bool = False,
    all_commits: bool = False,
    skip_no_push: bool = False,
    commits: Iterable[str] = (),
) -> UsedObjects:
    """``commits``: more revisions to keep (commit ids), besides the chosen refs."""
    used = UsedObjects()
    add_tracked(repo, used, workspace_outputs(repo), skip_no_push)
    for text in _lock_files_workspace(repo):
        for _, oid, legacy in lock_outputs(text):
            _add_out(repo, used, oid, legacy, optional=True)
    used.revisions = 1
    commits = list(commits)
    if not (all_tags or all_branches or all_commits or commits):
        return used
    git = repo.require_scm()
    revs = set(git.all_commits()) if all_commits else set()
    revs.update(git.refs(tags=all_tags, branches=all_branches))
    revs.update(commits)
    for rev in sorted(revs):
        add_tracked(repo, used, outputs_at_rev(repo, rev), skip_no_push)
        names = git.ls_files_at(rev, ("dvc.lock",))
        for blob in git.read_files_at(rev, names).values():
            for _, oid, legacy in lock_outputs(blob.decode("utf-8", errors="replace")):
                _add_out(repo, used, oid, legacy, optional=True)
    used.revisions += len(revs)
    return used
