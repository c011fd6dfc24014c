"""``import-url``, ``get-url`` and ``update`` of URL imports: a file or folder at a local path or
an s3://, gs://, azure:// URL (or a file at an http(s):// URL) downloaded here; ``import-url`` stores it in the cache and records
the source and its checksum in a ``.dvc`` file dvc reads too (``workspace/url_imports.py``), and
``update`` downloads it again only when the source's checksum changed.

Every download goes into a staging path beside the destination and is renamed into place only
when complete (a failure or a kill leaves the destination as it was, and the next command removes
the staging). Object keys are checked like manifest entries (no ``..``, no ``.git``), each file's
size is checked against the listing, and an object-storage source is listed again after the
download: a source that changed meanwhile is refused, so the recorded checksum always describes
the bytes stored.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from labvault.api.url_source import _download, _jobs, _Source, _staged, _still_same
from labvault.core.tree import Tree
from labvault.errors import (
    PathError,
    PointerError,
    RemoteError,
    UsageError,
    WorkspaceConflictError,
)
from labvault.progress import NULL_PROGRESS, Progress
from labvault.remotes.retry import is_transient
from labvault.workspace.download import remove_staging, staging_name
from labvault.workspace.pointer import Out, pointer_for
from labvault.workspace.repo import Repo, open_repo
from labvault.workspace.url_imports import (
    Layout,
    SourceState,
    is_url,
    local_source,
    read_url_import,
    write_url_import,
)

if TYPE_CHECKING:
    from labvault.core.odb import ObjectStore

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class UrlImportResult:
    pointer: str  # the .dvc file, repo-relative
    path: str  # the output, repo-relative
    source: str  # the URL or path as recorded
    oid: str | None  # None: not downloaded (--no-exec, --no-download)
    files: int
    bytes: int  # downloaded (0 when nothing changed)
    changed: bool  # whether new content was downloaded


@dataclass(frozen=True)
class GetUrlResult:
    path: str
    source: str
    files: int
    bytes: int


def _default_name(url: str) -> str:
    name = posixpath.basename(posixpath.normpath(urlparse(url).path if is_url(url) else url.replace(os.sep, "/")))
    if not name or name in (".", "..", "/"):
        raise UsageError(f"{url} names no file or folder to name the output after", "give the output's name")
    return name


def _resolve_out(url: str, out: PathLike | None) -> Path:
    """dvc's rule: the source's name, or OUT, or OUT/name when OUT is an existing folder."""
    name = _default_name(url)
    if out is None:
        return Path(name)
    path = Path(os.fspath(out))
    return path / name if path.is_dir() else path


def _parse_config(fs_config: dict[str, Any] | None) -> dict[str, Any]:
    config = dict(fs_config or {})
    for k in config:
        if not isinstance(k, str) or not k:
            raise UsageError(f"storage option {k!r} has no name", "give options as NAME=VALUE")
    return config


def download_url(url: str, out: PathLike | None = None, fs_config: dict[str, Any] | None = None,
            jobs: int | None = None, progress: Progress = NULL_PROGRESS) -> GetUrlResult:
    """Download the file or folder at ``url`` (a local path, an s3://, gs://, azure:// URL, or
    one file's http(s):// URL) to ``out`` (default: its name here; inside ``out`` when that is a
    folder), as ``dvc get-url``: nothing is tracked. The result appears only when complete; an existing path is refused."""
    target = _resolve_out(url, out)
    if os.path.lexists(target):
        raise PathError(f"{target} already exists", "remove it, or give another destination")
    parent = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(parent):
        raise PathError(f"folder {parent} does not exist", "create it first")
    source = _Source(url, _parse_config(fs_config))
    try:
        is_dir, files = source.listing()
        with _staged(str(target), f"downloading {url}", files, progress) as (staging, task):
            nbytes = _download(source, is_dir, files, staging, _jobs(source, jobs), task)
            _still_same(source, (is_dir, files), url)
            os.rename(staging, target)
    finally:
        source.close()
    return GetUrlResult(str(target), url, len(files), nbytes)


def import_url(url: str, out: PathLike | None = None, force: bool = False, fs_config: dict[str, Any] | None = None,
               jobs: int | None = None, repo: PathLike | None = None, no_exec: bool = False,
               no_download: bool = False, progress: Progress = NULL_PROGRESS, to_remote: bool = False,
               remote: str | None = None) -> UrlImportResult:
    """Download the file or folder at ``url`` (a local path, an s3://, gs://, azure:// URL, or
    one file's http(s):// URL) into this repository, store it in the cache and write ``OUT.dvc``
    recording the source, its checksum (md5 locally, the ETag in object storage, dvc's
    ``checksum`` over HTTP) and ``frozen: true``, as ``dvc import-url`` does; ``/OUT`` goes into
    the ``.gitignore`` beside it. An existing OUT or OUT.dvc is refused
    unless ``force``; even then, content of OUT that is not in the cache is never overwritten.

    ``no_exec``: only the ``.dvc`` file, naming the source and no checksum (the source is not
    looked at); ``no_download``: the ``.dvc`` file with the source's checksum, nothing
    downloaded. Either way ``update`` downloads it later, as dvc's ``--no-exec`` and
    ``--no-download`` files are.

    ``to_remote``: the data goes to ``remote`` (default: the default remote) instead of the
    cache and the workspace (see :func:`_fetch_to_remote`); ``pull`` brings it later."""
    if no_exec and no_download:
        raise UsageError("--no-exec and --no-download cannot be used together",
                         "--no-exec writes only the .dvc file; --no-download also records the source's checksum")
    _check_to_remote(to_remote, remote, no_exec or no_download)
    dst = open_repo(Path(repo) if repo is not None else None, progress)
    config = _parse_config(fs_config)
    rel, target = _destination(dst, url, out, force)
    recorded = url.rstrip("/") if is_url(url) else _recorded_local(dst, url, target.parent)
    with dst.locked():
        _check_destination(dst, rel, target, force)
        where = url if is_url(url) else os.path.abspath(os.path.expanduser(url))
        if no_exec or no_download:
            return _record_only(dst, rel, where, recorded, config, with_checksum=no_download)
        if to_remote:
            return _fetch_to_remote(dst, rel, where, recorded, config, remote, jobs, progress)
        return _fetch_into(dst, rel, where, recorded, config, None, jobs, progress)


def _record_only(dst: Repo, rel: str, where: str, recorded: str, config: dict[str, Any],
                 with_checksum: bool) -> UrlImportResult:
    """The ``.dvc`` file of an import not downloaded: the output without a hash; the source's
    checksum in ``deps`` when ``with_checksum`` (else no stage md5 either, as dvc writes it)."""
    target = dst.abspath(rel)
    pointer = pointer_for(Path(target))
    out = Out(posixpath.basename(rel), None, None, None)
    if with_checksum:
        source = _Source(where, config)
        try:
            state = source.state()
        finally:
            source.close()
        write_url_import(pointer, state.dep(recorded, config), out)
    else:
        dep: dict[str, Any] = {"hash": "md5", "path": recorded}
        if config:
            dep["fs_config"] = dict(config)
        write_url_import(pointer, dep, out, stage_md5=False)
    from labvault.workspace.ignore import gitignore_add

    gitignore_add(Path(target).parent, Path(target).name)
    return UrlImportResult(pointer.relative_to(dst.root).as_posix(), rel, recorded, None, 0, 0, True)


def _destination(dst: Repo, source: str, out: PathLike | None, force: bool) -> tuple[str, Path]:
    """The output's repo-relative path and absolute path; an existing output or pointer is
    refused unless ``force``."""
    rel = dst.rel(_resolve_out(source, out))
    target = dst.abspath(rel)
    if not force:
        for existing in (target, pointer_for(target)):
            if os.path.lexists(existing):
                raise PathError(f"{existing.relative_to(dst.root)} already exists",
                                "give --force to replace it, or choose another output name")
    return rel, target


def _check_destination(dst: Repo, rel: str, target: Path, force: bool) -> None:
    """Under the lock: the output's real place (not in .git, not behind a link out), and with
    ``force`` no content of it that the cache lacks."""
    from labvault.workspace.safepath import guard_for

    guard_for(dst).check_output(rel, False)
    if force and os.path.lexists(target):
        _refuse_unsaved(dst, rel)


def add_external(source: str, out: PathLike | None, force: bool = False, jobs: int | None = None,
                 repo: PathLike | None = None, progress: Progress = NULL_PROGRESS, to_remote: bool = False,
                 remote: str | None = None) -> UrlImportResult:
    """``add SOURCE -o OUT``, as ``dvc add -o``: a file or folder from outside the workspace (a
    local path, or an s3://, gs://, azure:// URL) copied into the cache and to OUT, which gets an
    ordinary pointer (no record of the source). The source is left as it is. An existing OUT or
    OUT.dvc is refused unless ``force``; content of OUT not in the cache never is replaced.
    ``to_remote`` (``add --to-remote``): the data goes to ``remote`` instead of the cache and
    OUT (default: the source's name here), as dvc's."""
    _check_to_remote(to_remote, remote, False)
    if out is None and not to_remote:
        raise UsageError("add of a source outside the workspace needs -o OUT", "give where it goes, e.g. -o data/raw")
    dst = open_repo(Path(repo) if repo is not None else None, progress)
    rel, target = _destination(dst, source, out, force)
    where = source if is_url(source) else os.path.abspath(os.path.expanduser(source))
    if not is_url(source) and os.path.realpath(where) == os.path.realpath(target):
        raise UsageError(f"{source} is the output itself", "add it without -o")
    with dst.locked():
        _check_destination(dst, rel, target, force)
        if to_remote:
            return _fetch_to_remote(dst, rel, where, source, {}, remote, jobs, progress, plain=True)
        return _fetch_into(dst, rel, where, source, {}, None, jobs, progress, plain=True)


def _recorded_local(dst: Repo, url: str, wdir: Path) -> str:
    """How a local source is recorded: relative to the pointer's folder when it was given
    relative (dvc resolves it from there), else absolute."""
    path = os.path.abspath(os.path.expanduser(url))
    if os.path.isabs(os.path.expanduser(url)):
        return path
    return os.path.relpath(path, wdir).replace(os.sep, "/")


def _refuse_unsaved(dst: Repo, rel: str) -> None:
    """Refuse replacing ``rel`` when some of its content is not in the cache (the checkout rule)."""
    from labvault.workspace.scan import Scanner

    content = Scanner(dst, store=False).scan(rel)
    if content is None:
        return
    pairs = content.files() if content.nfiles is not None else {"": content.oid}
    lost = [p for p, oid in pairs.items() if not dst.odb.exists(oid)]
    if lost:
        shown = f"{rel}/{lost[0]}" if lost[0] else rel
        raise WorkspaceConflictError(f"{shown} is not in the cache: replacing {rel} would lose it",
                                     f"save it first with `labvault add {rel}`, or move it away")


def _fetch_into(dst: Repo, rel: str, where: str, recorded: str, config: dict[str, Any], old: Out | None,
                jobs: int | None, progress: Progress, plain: bool = False,
                layout: Layout | None = None, frozen: Any = True) -> UrlImportResult:
    """Download ``where`` into ``rel``: staged, stored in the cache, swapped into place; then the
    pointer is written (``plain``: an ordinary pointer, as ``add -o`` writes, not an import;
    ``layout``: the replaced file's key order, kept, with ``old``'s for the output)."""
    target = str(dst.abspath(rel))
    pointer = pointer_for(Path(target))
    source = _Source(where, config)
    try:
        is_dir, files = source.listing()
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with _staged(target, f"importing {recorded}", files, progress) as (staging, task):
            nbytes = _download(source, is_dir, files, staging, _jobs(source, jobs), task)
            stored = _store(dst, staging, is_dir, files)
            _still_same(source, (is_dir, files), recorded)
            state = SourceState(source.kind, is_dir, tuple(stored) if source.local else tuple(files))
            _swap(staging, target)
    finally:
        source.close()
    oid = Tree.from_pairs((r, o) for r, _, o in stored).oid() if is_dir else stored[0][2]
    size = sum(s for _, s, _ in stored)
    out = Out(posixpath.basename(rel), oid, size, len(stored) if is_dir else None,
              extra=dict(old.extra) if old is not None else {}, order=old.order if old is not None else ())
    if plain:
        from labvault.workspace.pointer import Pointer, write_pointer

        write_pointer(Pointer(pointer, (out,), {}))
    else:
        write_url_import(pointer, state.dep(recorded, config), out, layout=layout, frozen=frozen)
    from labvault.workspace.ignore import gitignore_add

    gitignore_add(Path(target).parent, Path(target).name)
    return UrlImportResult(pointer.relative_to(dst.root).as_posix(), rel, recorded, oid, len(stored), nbytes, True)


def _check_to_remote(to_remote: bool, remote: str | None, record_only: bool) -> None:
    if remote is not None and not to_remote:
        raise UsageError("--remote goes with --to-remote", "add --to-remote, or leave -r out")
    if to_remote and record_only:
        raise UsageError("--to-remote cannot go with --no-exec or --no-download", "leave one of them out")


STAGING_PREFIX = "to-remote-"


def _fetch_to_remote(dst: Repo, rel: str, where: str, recorded: str, config: dict[str, Any], remote: str | None,
                     jobs: int | None, progress: Progress, plain: bool = False) -> UrlImportResult:
    """``--to-remote``, as dvc's: download ``where`` into a staging folder in ``.dvc/tmp``, hash
    it into a staging object store there, push those objects to ``remote``, then write the
    pointer (``plain``: an ordinary one, as ``add --to-remote -o`` writes; else the import's,
    with ``/OUT`` in the ``.gitignore``). Nothing enters the cache or the workspace; the staging
    goes whatever happens, and what a killed run left is removed by the next one (under the
    repository's lock, no other run's staging can be live). The pointer is written only once
    every object is on the remote, checked as ``push`` checks it."""
    import shutil

    from labvault.core.odb import ObjectStore
    from labvault.remotes.transfer import push as push_objects
    from labvault.workspace.remotes import open_remote

    store = open_remote(dst, remote, jobs)  # a missing remote fails before anything is downloaded
    tmp = Path(dst.tmp_dir)
    tmp.mkdir(parents=True, exist_ok=True)
    for stale in tmp.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)
    work = tmp / f"{STAGING_PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
    work.mkdir()
    source = _Source(where, config)
    try:
        store.backend.check_writable_root()
        is_dir, files = source.listing()
        with _staged(str(work / "data"), f"downloading {recorded}", files, progress) as (staging, task):
            nbytes = _download(source, is_dir, files, staging, _jobs(source, jobs), task)
        odb = ObjectStore(work / "odb")
        stored = _store(dst, staging, is_dir, files, odb)
        _still_same(source, (is_dir, files), recorded)
        state = SourceState(source.kind, is_dir, tuple(stored) if source.local else tuple(files))
        oid = Tree.from_pairs((r, o) for r, _, o in stored).oid() if is_dir else stored[0][2]
        refs = {(o, False) for _, _, o in stored} | ({(oid, False)} if is_dir else set())
        sent = push_objects(odb, store, refs, progress)
        if not sent.ok:
            first = (sent.failed + sent.missing_local + sent.corrupt)[:1]
            raise RemoteError(f"{recorded} did not all reach remote {store.name}"
                              + (f" ({first[0]})" if first else ""), "run the command again; nothing was recorded")
    finally:
        source.close()
        store.backend.close()
        shutil.rmtree(work, ignore_errors=True)
    size = sum(s for _, s, _ in stored)
    target = dst.abspath(rel)
    pointer = pointer_for(Path(target))
    out = Out(posixpath.basename(rel), oid, size, len(stored) if is_dir else None)
    if plain:
        from labvault.workspace.pointer import Pointer, write_pointer

        write_pointer(Pointer(pointer, (out,), {}))  # no .gitignore entry, as dvc's add --to-remote
    else:
        write_url_import(pointer, state.dep(recorded, config), out)
        from labvault.workspace.ignore import gitignore_add

        gitignore_add(Path(target).parent, Path(target).name)
    return UrlImportResult(pointer.relative_to(dst.root).as_posix(), rel, recorded, oid, len(stored), nbytes, True)


def _store(dst: Repo, staging: str, is_dir: bool, files: list[tuple[str, int, str]],
           odb: ObjectStore | None = None) -> list[tuple[str, int, str]]:
    """Every downloaded file into the cache (or ``odb``; a folder's manifest too); (relpath,
    size, oid)."""
    odb = dst.odb if odb is None else odb
    stored = []
    for rel, _, _ in files:
        oid, size = odb.store_file(os.path.join(staging, *rel.split("/")) if rel else staging)
        stored.append((rel, size, oid))
    if is_dir:
        manifest = Tree.from_pairs((r, o) for r, _, o in stored)
        odb.store_bytes(manifest.to_bytes(), manifest.oid())
    if dst.fsync:
        odb.sync()
    return stored


def _swap(staging: str, target: str) -> None:
    if os.path.lexists(target):
        old = staging_name(target)
        os.rename(target, old)
        os.rename(staging, target)
        remove_staging(old)
    else:
        os.rename(staging, target)


def update_url(dst: Repo, file: Path, jobs: int | None, progress: Progress) -> UrlImportResult:
    """Download a URL import again when its source's checksum changed (caller holds the lock).
    An output changed here since the import is refused; an unchanged source leaves everything
    as it is."""
    spec = read_url_import(file)
    folder = file.parent.relative_to(dst.root).as_posix()
    rel = posixpath.normpath(posixpath.join(folder, spec.out.path))
    from labvault.workspace.safepath import guard_for

    guard_for(dst).check_output(rel, False)
    where = spec.url if is_url(spec.url) else local_source(spec.url, file.parent)
    source = _Source(where, spec.fs_config)
    try:
        now = source.state().checksum()
    finally:
        source.close()
    pointer = file.relative_to(dst.root).as_posix()
    old = spec.out
    if spec.recorded() == now and old.oid is not None and dst.odb.exists(old.oid):
        return UrlImportResult(pointer, rel, spec.url, old.oid, old.nfiles or 1, 0, False)
    target = dst.abspath(rel)
    if os.path.lexists(target) and old.oid is not None:
        from labvault.workspace.scan import Scanner

        content = Scanner(dst, store=False).scan(rel)
        if content is not None and content.oid != old.oid:
            raise WorkspaceConflictError(f"{rel} was changed since it was imported",
                                         f"save the changes elsewhere, or discard them with `labvault checkout --force {rel}`")
    elif os.path.lexists(target):
        _refuse_unsaved(dst, rel)
    return _fetch_into(dst, rel, where, spec.url, spec.fs_config, old, jobs, progress,
                       layout=(spec.keys, tuple(spec.dep)), frozen=spec.frozen)


def url_import_source(file: Path) -> str | None:
    """The local source of a URL import, absolute (None for object storage or no URL import);
    ``update`` refuses reading one outside the repository unless its import was named."""
    try:
        spec = read_url_import(file)
    except PointerError:
        return None
    return None if is_url(spec.url) else local_source(spec.url, file.parent)


def source_change(file: Path) -> tuple[dict[str, str], str | None]:
    """For ``status``: ({source: "modified" or "deleted"}, None) when the URL import in ``file`` no
    longer matches its source (the checksum read again, as ``update`` reads it), else ({}, None).
    A source that cannot be reached (the network, the server, credentials, a backend not
    installed) is ({source: "unreachable"}, why): a change as far as anyone can tell, as dvc counts
    it (dvc reports it "deleted"), and the rest of ``status`` goes on. Not a URL import (a
    repository import, a plain pointer): ({}, None)."""
    try:
        spec = read_url_import(file)
    except PointerError:
        return {}, None
    where = spec.url if is_url(spec.url) else local_source(spec.url, file.parent)
    try:
        source = _Source(where, spec.fs_config)
        try:
            now = source.state().checksum()
        finally:
            source.close()
    except PathError:
        return {spec.url: "deleted"}, None
    except Exception as exc:
        if not isinstance(exc, (RemoteError, ConnectionError, TimeoutError)) and not is_transient(exc):
            raise
        return {spec.url: "unreachable"}, f"{spec.url} could not be checked: {_why(exc)}"
    return ({}, None) if spec.recorded() == now else ({spec.url: "modified"}, None)


def _why(exc: BaseException) -> str:
    """An error's first line (the name of its type when it says nothing)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
