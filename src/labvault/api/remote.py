"""Remotes: configuration, and moving data between the cache and them."""

from __future__ import annotations

import os
from pathlib import Path

from labvault.progress import NULL_PROGRESS, Progress
from labvault.remotes.transfer import TransferResult
from labvault.workspace import remotes as _remotes
from labvault.workspace import sync as _sync
from labvault.workspace.index import Tracked
from labvault.workspace.repo import Repo, open_repo
from labvault.workspace.used import PipelineRoutes

PathLike = str | os.PathLike[str]
RemoteInfo = _remotes.RemoteInfo
Revisions = _sync.Revisions
PullResult = _sync.PullResult
CloudStatus = _sync.CloudStatus


def _open(repo: PathLike | None, progress: Progress = NULL_PROGRESS) -> Repo:
    return open_repo(Path(repo) if repo is not None else None, progress)


def remote_add(
    name: str, url: str, default: bool = False, level: str = "repo", force: bool = False, repo: PathLike | None = None
) -> RemoteInfo:
    """Register a remote: a folder, NFS mount, s3://bucket/path, gs://bucket/path or azure://container/path."""
    return _remotes.remote_add(_open(repo), name, url, default, level, force)


def remote_modify(
    name: str, option: str, value: str | None = None, level: str | None = None, unset: bool = False,
    repo: PathLike | None = None,
) -> None:
    _remotes.remote_modify(_open(repo), name, option, value, level, unset)


def remote_remove(name: str, level: str | None = None, repo: PathLike | None = None) -> None:
    _remotes.remote_remove(_open(repo), name, level)


def remote_rename(old: str, new: str, level: str | None = None, repo: PathLike | None = None) -> None:
    _remotes.remote_rename(_open(repo), old, new, level)


def remote_default(
    name: str | None = None, level: str = "repo", unset: bool = False, repo: PathLike | None = None
) -> str | None:
    return _remotes.remote_default(_open(repo), name, level, unset)


def remote_list(repo: PathLike | None = None) -> list[RemoteInfo]:
    return _remotes.remote_list(_open(repo))


def push(
    targets: list[str] | None = None,
    remote: str | None = None,
    jobs: int | None = None,
    revisions: Revisions = _sync.NO_REVISIONS,
    repo: PathLike | None = None,
    progress: Progress = NULL_PROGRESS,
) -> TransferResult:
    """Upload the objects the outputs (and chosen revisions) use that the remote lacks."""
    from labvault.api.spill_setup import refs_hook

    r = _open(repo, progress)
    # a spilled object is fetched back into the cache (verified), then pushed like any other
    result = _sync.push_objects(r, targets or None, remote, jobs, revisions, refs_hook(r), _routes(r))
    _capture_locations(r, remote, result)
    return result


def _routes(r: Repo) -> PipelineRoutes:
    from labvault.pipelines.outputs import pipeline_routes

    return pipeline_routes(r)


def _capture_locations(r: Repo, remote: str | None, result: TransferResult) -> None:
    """Outputs now complete on the remote they went to are recorded as stored there (via the
    journal): the remote an output names, else the one pushed to (with ``-r``, an output naming
    another remote was not pushed)."""
    from labvault.api.capture import note
    from labvault.workspace.index import workspace_outputs
    from labvault.workspace.used import out_remote

    places: dict[str | None, tuple[str, str]] = {}
    missing = set(result.missing_local) | {f.split(":", 1)[0] for f in result.failed}
    for t in workspace_outputs(r) + _locked_outputs(r):
        oid, named = t.out.oid, out_remote(t.out.extra)
        if not oid or oid in missing or t.out.extra.get("push") is False or (remote and named and named != remote):
            continue
        where = named or remote
        if where not in places:
            places[where] = _remotes.remote_url(r, where)
        name, url = places[where]
        note(r, {"type": "location", "hash": oid, "remote": name, "url": url})


def _locked_outputs(r: Repo) -> list[Tracked]:
    """Pipeline outputs recorded in dvc.lock files; the pipeline modules (and their YAML parser)
    are imported only when the workspace has a dvc.yaml, which is what defines them."""
    from labvault.workspace.index import find_control_files

    if not find_control_files(r)[2]:
        return []
    from labvault.pipelines.outputs import locked_outputs

    return locked_outputs(r)


def fetch(
    targets: list[str] | None = None,
    remote: str | None = None,
    jobs: int | None = None,
    revisions: Revisions = _sync.NO_REVISIONS,
    repo: PathLike | None = None,
    progress: Progress = NULL_PROGRESS,
) -> TransferResult:
    """Download into the cache, verified, the objects the outputs use that the cache lacks
    (spilled ones are fetched back from their tier, not downloaded). URL imports recorded without
    their data (``import-url --no-download``) come from their sources, checked against the
    recorded checksum (see :mod:`labvault.api.pull_imports`); with only those, no remote is needed."""
    from labvault.api.spill_setup import refs_hook

    r = _open(repo, progress)
    imports = _imports(r, targets)
    if _imports_only(r, imports, remote):
        result = TransferResult()
    else:
        result = _sync.fetch_objects(r, targets or None, remote, jobs, revisions, refs_hook(r), _routes(r))
    if imports:
        _fetch_imports(r, imports, jobs, progress, result)
    return result


def _imports(r: Repo, targets: list[str] | None) -> list[Tracked]:
    from labvault.api.pull_imports import recorded_imports

    return recorded_imports(r, targets)


def _imports_only(r: Repo, imports: list[Tracked], remote: str | None) -> bool:
    """As dvc: with imports to fetch and no remote named or set, only the imports are fetched
    (the other outputs are checked out from the cache as it is)."""
    return bool(imports) and remote is None and not r.config.get("core", "remote")


def _fetch_imports(r: Repo, imports: list[Tracked], jobs: int | None, progress: Progress,
                   result: TransferResult) -> list[str]:
    """Fetch the imports into the cache; their outcome joins ``result``. Returns the paths of
    those that failed."""
    from labvault.api.pull_imports import fetch_imports

    with r.locked():
        got = fetch_imports(r, imports, jobs, progress)
    result.add(TransferResult(transferred=got.oids, transferred_bytes=got.nbytes, skipped=len(got.present),
                              failed=got.failed))
    return got.failed_paths


def pull(
    targets: list[str] | None = None,
    remote: str | None = None,
    jobs: int | None = None,
    revisions: Revisions = _sync.NO_REVISIONS,
    force: bool = False,
    repo: PathLike | None = None,
    progress: Progress = NULL_PROGRESS,
) -> PullResult:
    """fetch, then checkout. URL imports recorded without their data (``import-url
    --no-download``) are fetched from their sources, checked against the recorded checksum, and
    checked out like any output (see :mod:`labvault.api.pull_imports`); with only those to pull,
    no remote is needed."""
    from labvault.api.access import record_checkout
    from labvault.api.pull_imports import resolve_imports
    from labvault.api.spill_setup import refs_hook, restore_spilled
    from labvault.workspace.checkout import checkout

    r = _open(repo, progress)
    imports = _imports(r, targets)
    extra = _locked_outputs(r)
    restore_spilled(r, targets, extra)
    fetched = TransferResult()
    if imports:
        from labvault.workspace.safepath import guard_for

        guard = guard_for(r)
        for t in imports:  # an output checkout would refuse is refused before anything is fetched
            guard.check_output(t.rel, False)
        failed = set(_fetch_imports(r, imports, jobs, progress, fetched))
        placed, _ = resolve_imports(r, [t for t in imports if t.rel not in failed])
        extra = extra + placed
    if _imports_only(r, imports, remote):
        result = _sync.PullResult(TransferResult(), checkout(r, targets or None, force=force, extra=extra))
    else:
        result = _sync.pull(r, targets or None, remote, jobs, revisions, force, extra=extra, restore=refs_hook(r),
                            routes=_routes(r))
    result.fetched.add(fetched)
    record_checkout(r, result.checkout, "pull", extra)
    return result


def status_cloud(
    targets: list[str] | None = None,
    remote: str | None = None,
    jobs: int | None = None,
    revisions: Revisions = _sync.NO_REVISIONS,
    repo: PathLike | None = None,
) -> CloudStatus:
    """What the remote lacks (to push), what the cache lacks (to pull), and what neither has.
    A spilled object (its tier file present) counts as in the cache."""
    from labvault.api.spill_setup import held_elsewhere

    r = _open(repo)
    return _sync.status_cloud(r, targets or None, remote, jobs, revisions, held_elsewhere(r), _routes(r))
