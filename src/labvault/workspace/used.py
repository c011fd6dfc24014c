"""The objects a repo still needs: those named by its pointers (and ``dvc.lock`` files),
in the workspace and, when asked, at every tag, branch or commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

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


def merge_used(groups: Iterable[UsedObjects]) -> UsedObjects:
    """One set of used objects from several (the groups of ``collect_by_remote``): an object
    any group requires is required, one that every group holding it names as optional stays so."""
    out = UsedObjects()
    required: set[Ref] = set()
    for used in groups:
        out.refs |= used.refs
        required |= used.refs - used.optional
        out.missing_manifests |= used.missing_manifests
        out.revisions = max(out.revisions, used.revisions)
    out.optional = out.refs - required
    return out


def out_remote(extra: dict[str, Any]) -> str | None:
    """The remote an output names (its ``remote:`` field, in a .dvc file or dvc.yaml), if any."""
    value = extra.get("remote")
    return value if isinstance(value, str) and value else None


# A pipeline output's route: (the remote its dvc.yaml names, or None; whether push sends it).
Route = tuple[str | None, bool]
# Given a revision (None: the workspace), the routes of the pipeline outputs whose dvc.yaml names
# a remote or `push: false`, by (lock file's repo-relative path, output path as the lock records
# it); the others go to the default remote and are pushed. Given by the pipelines layer.
PipelineRoutes = Callable[[str | None], dict[tuple[str, str], Route]]


def _lock_files_workspace(repo: Repo) -> list[tuple[str, str]]:
    return [(p.relative_to(repo.root).as_posix(), p.read_text(encoding="utf-8")) for p in find_control_files(repo)[1]]


def collect_used(
    repo: Repo,
    all_tags: bool = False,
    all_branches: bool = False,
    all_commits: bool = False,
    skip_no_push: bool = False,
    commits: Iterable[str] = (),
) -> UsedObjects:
    """``commits``: more revisions to keep (commit ids), besides the chosen refs."""
    groups = collect_by_remote(repo, all_tags, all_branches, all_commits, skip_no_push, commits=commits)
    return groups[None]


def collect_by_remote(
    repo: Repo,
    all_tags: bool = False,
    all_branches: bool = False,
    all_commits: bool = False,
    skip_no_push: bool = False,
    commits: Iterable[str] = (),
    routes: PipelineRoutes | None = None,
    tracked: list[Tracked] | None = None,
) -> dict[str | None, UsedObjects]:
    """The used objects grouped by the remote their outputs name (None: no remote named, so the
    one the command chose, or the default), as dvc routes push and fetch. Without ``routes``
    everything is one group, None (the pipeline outputs' flags are not read, and .dvc outputs'
    remotes not followed). ``tracked``: the workspace outputs to count (default: every one, with
    the outputs of every dvc.lock; given, no dvc.lock is read). ``skip_no_push``: outputs
    marked ``push: false`` are left out."""
    groups: dict[str | None, UsedObjects] = {None: UsedObjects()}

    def group(name: str | None) -> UsedObjects:
        return groups.setdefault(name if routes is not None else None, UsedObjects())

    def add_outputs(outputs: list[Tracked]) -> None:
        for t in outputs:
            if t.out.oid and t.out.use_cache and not (skip_no_push and t.out.extra.get("push") is False):
                _add_out(repo, group(out_remote(t.out.extra)), t.out.oid, t.out.legacy)

    def add_locks(rev: str | None, locks: list[tuple[str, str]]) -> None:
        flags = routes(rev) if routes is not None and locks else {}
        for lockfile, text in locks:
            for path, oid, legacy in lock_outputs(text):
                remote, push = flags.get((lockfile, path), (None, True))
                if push or not skip_no_push:
                    _add_out(repo, group(remote), oid, legacy, optional=True)

    if tracked is None:
        add_outputs(workspace_outputs(repo))
        add_locks(None, _lock_files_workspace(repo))
    else:
        add_outputs(tracked)
    revisions = 1
    commits = list(commits)
    if all_tags or all_branches or all_commits or commits:
        git = repo.require_scm()
        revs = set(git.all_commits()) if all_commits else set()
        revs.update(git.refs(tags=all_tags, branches=all_branches))
        revs.update(commits)
        prefix = repo.root.relative_to(git.root).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        for rev in sorted(revs):
            add_outputs(outputs_at_rev(repo, rev))
            names = git.ls_files_at(rev, ("dvc.lock",))
            add_locks(rev, [(name[len(prefix):] if name.startswith(prefix) else name,
                             blob.decode("utf-8", errors="replace"))
                            for name, blob in git.read_files_at(rev, names).items()])
        revisions += len(revs)
    for used in groups.values():
        used.revisions = revisions
    return groups
