"""``get``, ``import`` and ``update``: a tracked file or folder of another repository (a path or a
git URL, at any revision) downloaded here; ``import`` also records where it came from, in a
``.dvc`` file dvc reads too, and ``update`` moves it to a newer revision."""

from __future__ import annotations

import os
import posixpath
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from labvault.errors import CacheError, PathError, PointerError, UsageError, WorkspaceConflictError
from labvault.fsutil import unlink_quietly
from labvault.progress import NULL_PROGRESS, Progress
from labvault.workspace.download import download, staging_name, write_objects
from labvault.workspace.locate import Located, locate, normalize
from labvault.workspace.pointer import Out, pointer_for
from labvault.workspace.repo import Repo, open_repo
from labvault.workspace.source import Source, open_source

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class GetResult:
    path: str  # what was written
    source_path: str
    oid: str
    files: int
    bytes: int
    rev_lock: str | None


@dataclass(frozen=True)
class ImportResult:
    pointer: str  # the .dvc file written, repo-relative
    path: str  # the output, repo-relative
    oid: str | None  # None: recorded without its data (import --no-exec/--no-download)
    files: int
    bytes: int
    rev_lock: str  # empty for import --no-exec
    changed: bool  # update: whether the content changed


def _jobs(source: Source, jobs: int | None) -> int:
    return jobs if jobs else source.repo.jobs


def get(
    repo: str, path: str, out: PathLike | None = None, rev: str | None = None, remote: str | None = None,
    jobs: int | None = None, progress: Progress = NULL_PROGRESS,
) -> GetResult:
    """Download ``path`` (a tracked file or folder, or a file git holds) of ``repo`` at ``rev``
    (its HEAD by default) to ``out`` (default: its name, in the current folder). No repository is
    needed at the destination; ``out`` must not exist."""
    dest = os.fspath(out) if out is not None else posixpath.basename(normalize(path))
    with open_source(repo, rev, workspace=False) as source:
        places = source.places(remote, jobs)
        try:
            try:
                found = locate(source, path, places)
            except PathError:
                blob = source.git_file(normalize(path))
                if blob is None:
                    raise
                from labvault.core.hashing import md5_bytes
                from labvault.fsutil import atomic_write_bytes

                if os.path.lexists(dest):
                    raise PathError(f"{dest} already exists", "remove it, or choose another destination with -o") from None
                atomic_write_bytes(dest, blob)
                return GetResult(dest, normalize(path), md5_bytes(blob), 1, len(blob), source.sha)
            from labvault.api.read_tiers import tier_fallback

            places.fallback = tier_fallback(found, progress, source.repo if source.local else None)
            done = download(found, places, dest, _jobs(source, jobs), progress)
            _record(found, progress)
            return GetResult(dest, found.rel, found.oid, done.files, done.bytes, source.sha)
        finally:
            places.close()


def _record(found: Located, progress: Progress) -> None:
    from labvault.api.access import record_read_hashes
    from labvault.workspace import readlog

    readlog.note(found.oid, found.rel, "", None)
    record_read_hashes({found.output.oid if found.output else found.oid}, "get", progress)


def import_(
    url: str, path: str, out: PathLike | None = None, rev: str | None = None, remote: str | None = None,
    jobs: int | None = None, repo: PathLike | None = None, progress: Progress = NULL_PROGRESS,
    no_exec: bool = False, no_download: bool = False,
) -> ImportResult:
    """Download ``path`` of the repository ``url`` at ``rev`` into this repository, store it in
    the cache and write ``OUT.dvc`` recording the source (``deps: repo: url, rev, rev_lock``) and
    ``frozen: true``, as ``dvc import`` does; ``/OUT`` goes into the ``.gitignore`` beside it.
    ``no_download``: only the ``.dvc`` file, with the commit ``rev`` resolves to (``fetch`` or
    ``pull`` bring the data later, ``update`` records its hash); ``no_exec``: only the ``.dvc``
    file, without even that commit (the source is not read; ``update`` imports it). The result's
    ``oid`` is then None, and ``rev_lock`` empty for ``no_exec``."""
    if no_exec and no_download:
        raise UsageError("--no-exec and --no-download cannot go together", "pass one of them")
    dst = open_repo(Path(repo) if repo is not None else None, progress)
    out_path = Path(os.fspath(out) if out is not None else posixpath.basename(normalize(path)))
    rel = dst.rel(out_path)
    target = dst.abspath(rel)
    pointer = pointer_for(target)
    if pointer.exists():
        raise PathError(f"{pointer.relative_to(dst.root)} already exists", "update it with `labvault update`, or remove it first")
    if os.path.lexists(target):
        raise PathError(f"{rel} already exists", "remove it, or choose another destination with -o")
    with dst.locked():
        if no_exec or no_download:
            return _record_only(dst, rel, url, path, rev, no_exec)
        return _fetch_into(dst, rel, url, path, rev, rev, remote, jobs, {}, progress, None)


def _record_only(dst: Repo, rel: str, url: str, path: str, rev: str | None, no_exec: bool) -> ImportResult:
    """The import's ``.dvc`` file without its data, as ``dvc import --no-exec``/``--no-download``
    writes it; with ``--no-download`` the source is opened to lock the revision, and ``path`` must
    be tracked there (an output, a path inside a tracked folder, or a file git holds)."""
    from labvault.workspace.ignore import gitignore_add
    from labvault.workspace.imports import write_import

    target = dst.abspath(rel)
    pointer = pointer_for(target)
    wanted = normalize(path)
    sha = ""
    if not no_exec:
        with open_source(source_url(dst, url), rev, workspace=False) as source:
            assert source.sha is not None
            sha = source.sha
            tracked = any(o.rel == wanted or (o.is_dir and wanted.startswith(o.rel + "/")) for o in source.outputs())
            if not tracked and source.git_file(wanted) is None:
                raise PathError(f"{path} is not tracked in {url} at {sha[:10]}",
                                "check the path and revision (`labvault list` in that repository)")
    write_import(pointer, wanted, url, rev, sha or None, Out(posixpath.basename(rel)))
    gitignore_add(target.parent, target.name)
    return ImportResult(pointer.relative_to(dst.root).as_posix(), rel, None, 0, 0, sha, True)


def update(
    targets: list[str] | None = None, rev: str | None = None, remote: str | None = None, jobs: int | None = None,
    repo: PathLike | None = None, progress: Progress = NULL_PROGRESS,
) -> list[ImportResult]:
    """Move imports (all of the repository's when ``targets`` is empty) to the newest commit of
    their recorded revision (or of ``rev``, which is then recorded): download what changed,
    rewrite ``rev_lock``. URL imports (``import_url``) are downloaded again when their source's
    checksum changed; without ``targets``, one whose local source lies outside the repository is
    refused (name it to read it). An output whose files were changed here is refused (nothing
    changed)."""
    from labvault.api.import_url import update_url, url_import_source
    from labvault.workspace.imports import read_import
    from labvault.workspace.url_imports import read_url_import

    dst = open_repo(Path(repo) if repo is not None else None, progress)
    files = [dst.abspath(dst.rel(Path(t if t.endswith(".dvc") else t + ".dvc"))) for t in targets or []]
    if not targets:
        from labvault.workspace.index import find_pointer_files

        for f in sorted(find_pointer_files(dst)):
            if not (_is_import(f, read_import) or _is_import(f, read_url_import)):
                continue
            local = url_import_source(f)
            real = Path(os.path.realpath(local)) if local is not None else None
            if real is not None and real != dst.root and dst.root not in real.parents:
                raise PathError(f"{f.relative_to(dst.root)} imports {local}, outside the repository",
                                f"read it only when you mean to: name it (`labvault update {f.relative_to(dst.root)}`)")
            files.append(f)
    results = []
    with dst.locked():
        for f in files:
            try:
                spec = read_import(f)
            except PointerError as exc:
                try:
                    read_url_import(f)
                except PointerError:
                    raise exc from None
                if rev is not None:
                    raise PathError(f"{f.relative_to(dst.root)} imports a URL, which has no revisions",
                                    "update it without --rev") from None
                r = update_url(dst, f, jobs, progress)
                assert r.oid is not None  # an update downloads (or finds the content in the cache)
                results.append(ImportResult(r.pointer, r.path, r.oid, r.files, r.bytes, "", r.changed))
                continue
            rel = posixpath.normpath(posixpath.join(f.parent.relative_to(dst.root).as_posix(), spec.out.path))
            new_rev = rev if rev is not None else spec.rev
            results.append(_fetch_into(dst, rel, spec.url, spec.path, new_rev, rev or spec.rev, remote, jobs,
                                       spec.extra_repo, progress, spec))
    return results


def _is_import(file: Path, read: Callable[[Path], object]) -> bool:
    try:
        read(file)
    except PointerError:
        return False
    return True


def source_url(dst: Repo, url: str) -> str:
    """A relative local path in an import is relative to the repository's root (where dvc ran)."""
    from labvault.workspace.clone import is_git_url

    if is_git_url(url) or os.path.isabs(url):
        return url
    return str(dst.root / url)


def _fetch_into(dst: Repo, rel: str, url: str, path: str, rev: str | None, record_rev: str | None,
                remote: str | None, jobs: int | None, extra_repo: dict[str, object], progress: Progress,
                previous: object) -> ImportResult:
    from labvault.workspace.imports import ImportSpec, write_import

    target = dst.abspath(rel)
    pointer = pointer_for(target)
    with open_source(source_url(dst, url), rev, workspace=False) as source:
        assert source.sha is not None
        places = source.places(remote, jobs)
        try:
            found = locate(source, path, places)
            if found.legacy:
                raise CacheError(f"{path} is recorded in DVC 2.x's format (no `hash: md5`) at {source.sha[:10]}",
                                 "re-add it in the source repository with DVC 3 or labvault, or use `labvault get`")
            old = previous.out if isinstance(previous, ImportSpec) else None
            same = old is not None and old.oid == found.oid and os.path.lexists(target)
            nbytes = 0
            if not same:
                if old is not None and os.path.lexists(target):
                    _check_unchanged(dst, rel, old)
                nbytes = _place(dst, rel, found, places, _jobs(source, jobs), progress)
            size, nfiles = _measure(found, target)
            out = Out(posixpath.basename(rel), found.oid, size, nfiles if found.is_dir else None,
                      extra=dict(old.extra) if old is not None else {},
                      order=old.order if old is not None else ())  # dvc keeps the keys' order
            write_import(pointer, normalize(path), url, record_rev, source.sha, out, dict(extra_repo),
                         previous.keys if isinstance(previous, ImportSpec) else ())
            from labvault.workspace.ignore import gitignore_add

            gitignore_add(target.parent, target.name)
            _record(found, progress)
            return ImportResult(pointer.relative_to(dst.root).as_posix(), rel, found.oid, len(found.files), nbytes,
                                source.sha, not same)
        finally:
            places.close()


def _check_unchanged(dst: Repo, rel: str, old: Out) -> None:
    """An import recorded with its hash: the output must still hold it. One recorded without
    (``--no-download``, then pulled): its content must be in the cache, as checkout requires
    before it overwrites anything."""
    from labvault.workspace.scan import Scanner

    content = Scanner(dst, store=False).scan(rel)
    if content is not None and old.oid is None and dst.odb.exists(content.oid):
        return
    if content is not None and content.oid != old.oid:
        raise WorkspaceConflictError(f"{rel} was changed since it was imported",
                                     f"save the changes elsewhere, or discard them with `labvault checkout --force {rel}`")


def stage_and_store(dst: Repo, rel: str, found: Located, places: object, staging: str, jobs: int,
                    progress: Progress) -> int:
    """Download ``found`` to ``staging`` (a new path; each file checked against its oid as it is
    written) and store every file, and a folder's manifest, in ``dst``'s cache; returns the bytes
    written. The caller removes or moves the staging."""
    from labvault.core.tree import Tree
    from labvault.remotes.reading import ObjectPlaces

    assert isinstance(places, ObjectPlaces)
    nbytes = write_objects(found, places, staging, jobs, progress)
    odb = dst.odb
    if found.is_dir:
        for sub, oid in found.files:
            got, _ = odb.store_file(os.path.join(staging, sub))
            if got != oid:  # cannot happen: each file was checked while written
                raise WorkspaceConflictError(f"{rel}/{sub} changed while it was imported", "import it again")
        manifest = Tree.from_pairs(found.files)
        odb.store_bytes(manifest.to_bytes(), manifest.oid())
    else:
        odb.store_file(staging)
    if dst.fsync:
        odb.sync()
    return nbytes


def _place(dst: Repo, rel: str, found: Located, places: object, jobs: int, progress: Progress) -> int:
    """Download into a staging path, store every file in the cache (checked against its oid),
    then swap the staging into place; the previous content stays in the cache."""
    target = str(dst.abspath(rel))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    staging = staging_name(target)
    try:
        nbytes = stage_and_store(dst, rel, found, places, staging, jobs, progress)
        if os.path.lexists(target):
            old = staging_name(target)
            os.rename(target, old)
            os.rename(staging, target)
            shutil.rmtree(old, ignore_errors=True) if os.path.isdir(old) else os.unlink(old)
        else:
            os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True) if os.path.isdir(staging) else unlink_quietly(staging)
        raise
    return nbytes



def _measure(found: Located, target: Path) -> tuple[int, int]:
    if not found.is_dir:
        return target.stat().st_size, 1
    total = sum(os.path.getsize(os.path.join(target, sub)) for sub, _ in found.files)
    return total, len(found.files)
