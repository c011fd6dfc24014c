"""``import-url``, ``get-url`` and ``update`` of URL imports: a file or folder at a local path or
an s3://, gs://, azure:// URL downloaded here; ``import-url`` stores it in the cache and records
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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from labvault.core.hashing import md5_file
from labvault.core.links import copy_file
from labvault.core.tree import Tree, check_relpath
from labvault.errors import (
    ManifestError,
    PathError,
    PointerError,
    RemoteError,
    UsageError,
    WorkspaceConflictError,
)
from labvault.progress import NULL_PROGRESS, Progress, Task
from labvault.remotes.base import Backend
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

PathLike = str | os.PathLike[str]
JOBS_LOCAL = 4
JOBS_CLOUD = 16


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


class _Source:
    """A local path or an object-storage URL, opened for listing and reading."""

    def __init__(self, where: str, fs_config: dict[str, Any]) -> None:
        self.shown = where
        self.local = not is_url(where)
        self.backend: Backend | None = None
        if self.local:
            self.path = os.path.abspath(os.path.expanduser(where))
            self.key = ""
        else:
            from labvault.remotes.registry import open_backend, split_url

            kind, rest = split_url(where.rstrip("/"))
            bucket, _, key = rest.partition("/")
            self.key = key.strip("/")
            options = {str(k): str(v) for k, v in fs_config.items()}
            self.backend = open_backend(f"{kind}://{bucket}", options)

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()

    def listing(self) -> tuple[bool, list[tuple[str, int, str]]]:
        """(is_folder, [(relpath, size, etag)]); etags are "" for a local source (hashed later)."""
        if self.local:
            if os.path.isfile(self.path):
                return False, [("", os.path.getsize(self.path), "")]
            if not os.path.isdir(self.path):
                raise PathError(f"{self.shown} does not exist", "check the path")
            return True, _walk_local(self.path)
        assert self.backend is not None
        try:
            is_dir, files = self.backend.checksums(self.key)
        except FileNotFoundError:
            raise PathError(f"{self.shown} does not exist", "check the URL (`labvault ls` shows what is there)") from None
        return is_dir, files

    def state(self) -> SourceState:
        """The source's checksums now (a local source is hashed in place)."""
        is_dir, files = self.listing()
        if not self.local:
            return SourceState("etag", is_dir, tuple(files))
        hashed = tuple((rel, size, md5_file(self._local(rel))) for rel, size, _ in files)
        return SourceState("md5", is_dir, hashed)

    def _local(self, rel: str) -> str:
        return os.path.join(self.path, *rel.split("/")) if rel else self.path

    def fetch(self, rel: str, dest: str) -> None:
        if self.local:
            copy_file(self._local(rel), dest, 0o644)
            return
        assert self.backend is not None
        key = f"{self.key}/{rel}" if rel and self.key else (rel or self.key)
        self.backend.get_file(key, dest)


def _walk_local(top: str) -> list[tuple[str, int, str]]:
    """Every file below ``top`` (links to files followed, links to folders not), sorted."""
    out = []
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in (".git", ".dvc")]
        for name in files:
            path = os.path.join(root, name)
            if not os.path.isfile(path):
                continue  # a broken link, a socket
            rel = os.path.relpath(path, top).replace(os.sep, "/")
            out.append((rel, os.path.getsize(path), ""))
    return sorted(out)


def _download(source: _Source, is_dir: bool, files: list[tuple[str, int, str]], staging: str, jobs: int,
              task: Task) -> int:
    """Every file of the listing into ``staging`` (a new path), each checked against its listed
    size; returns the bytes written."""
    for rel, _, _ in files:
        if rel:  # an object key naming ../ or .git/ is refused before anything is written
            try:
                check_relpath(rel)
            except ManifestError:
                raise RemoteError(f"{source.shown}: the object {rel!r} below it would be written outside the "
                                  "output or into a .git/.dvc folder", "remove or rename that object at the source") from None
    if is_dir:
        os.mkdir(staging)

    def one(item: tuple[str, int, str]) -> int:
        rel, size, _ = item
        dest = os.path.join(staging, *rel.split("/")) if rel else staging
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        source.fetch(rel, dest)
        got = os.path.getsize(dest)
        if got != size:
            raise RemoteError(f"{source.shown}/{rel}: received {got} bytes, the listing said {size}",
                              "the source changed while it was read: run the command again")
        task.advance(1, size)
        return size

    if len(files) <= 1 or jobs <= 1:
        return sum(one(f) for f in files)
    with ThreadPoolExecutor(max_workers=min(jobs, len(files))) as pool:
        return sum(pool.map(one, files))


@contextmanager
def _staged(target: str, what: str, files: list[tuple[str, int, str]], progress: Progress) -> Iterator[tuple[str, Task]]:
    """A staging path beside ``target`` and a progress task; the staging is removed on any failure."""
    staging = staging_name(target)
    task = progress.task(what, total=len(files), total_bytes=sum(s for _, s, _ in files))
    try:
        yield staging, task
    except BaseException:
        remove_staging(staging)
        raise
    finally:
        task.close()


def _still_same(source: _Source, listed: tuple[bool, list[tuple[str, int, str]]], shown: str) -> None:
    """An object-storage source listed again after the download: refused when it changed meanwhile."""
    if not source.local and listed != source.listing():
        raise RemoteError(f"{shown} changed while it was downloaded", "run the command again")


def _jobs(source: _Source, jobs: int | None) -> int:
    if jobs is not None and jobs < 1:
        raise UsageError(f"jobs must be at least 1, not {jobs}")
    return jobs or (JOBS_LOCAL if source.local else JOBS_CLOUD)


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
    """Download the file or folder at ``url`` (a local path or an s3://, gs://, azure:// URL) to
    ``out`` (default: its name here; inside ``out`` when that is a folder), as ``dvc get-url``:
    nothing is tracked. The result appears only when complete; an existing path is refused."""
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
               no_download: bool = False, progress: Progress = NULL_PROGRESS) -> UrlImportResult:
    """Download the file or folder at ``url`` (a local path or an s3://, gs://, azure:// URL) into
    this repository, store it in the cache and write ``OUT.dvc`` recording the source, its
    checksum (md5 locally, the ETag in object storage) and ``frozen: true``, as ``dvc import-url``
    does; ``/OUT`` goes into the ``.gitignore`` beside it. An existing OUT or OUT.dvc is refused
    unless ``force``; even then, content of OUT that is not in the cache is never overwritten.

    ``no_exec``: only the ``.dvc`` file, naming the source and no checksum (the source is not
    looked at); ``no_download``: the ``.dvc`` file with the source's checksum, nothing
    downloaded. Either way ``update`` downloads it later, as dvc's ``--no-exec`` and
    ``--no-download`` files are."""
    if no_exec and no_download:
        raise UsageError("--no-exec and --no-download cannot be used together",
                         "--no-exec writes only the .dvc file; --no-download also records the source's checksum")
    dst = open_repo(Path(repo) if repo is not None else None, progress)
    config = _parse_config(fs_config)
    rel, target = _destination(dst, url, out, force)
    recorded = url.rstrip("/") if is_url(url) else _recorded_local(dst, url, target.parent)
    with dst.locked():
        _check_destination(dst, rel, target, force)
        where = url if is_url(url) else os.path.abspath(os.path.expanduser(url))
        if no_exec or no_download:
            return _record_only(dst, rel, where, recorded, config, with_checksum=no_download)
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


def add_external(source: str, out: PathLike, force: bool = False, jobs: int | None = None,
                 repo: PathLike | None = None, progress: Progress = NULL_PROGRESS) -> UrlImportResult:
    """``add SOURCE -o OUT``, as ``dvc add -o``: a file or folder from outside the workspace (a
    local path, or an s3://, gs://, azure:// URL) copied into the cache and to OUT, which gets an
    ordinary pointer (no record of the source). The source is left as it is. An existing OUT or
    OUT.dvc is refused unless ``force``; content of OUT not in the cache never is replaced."""
    dst = open_repo(Path(repo) if repo is not None else None, progress)
    rel, target = _destination(dst, source, out, force)
    where = source if is_url(source) else os.path.abspath(os.path.expanduser(source))
    if not is_url(source) and os.path.realpath(where) == os.path.realpath(target):
        raise UsageError(f"{source} is the output itself", "add it without -o")
    with dst.locked():
        _check_destination(dst, rel, target, force)
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
                layout: Layout | None = None) -> UrlImportResult:
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
            kind = "md5" if source.local else "etag"
            state = SourceState(kind, is_dir, tuple(stored) if source.local else tuple(files))
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
        write_url_import(pointer, state.dep(recorded, config), out, layout=layout)
    from labvault.workspace.ignore import gitignore_add

    gitignore_add(Path(target).parent, Path(target).name)
    return UrlImportResult(pointer.relative_to(dst.root).as_posix(), rel, recorded, oid, len(stored), nbytes, True)


def _store(dst: Repo, staging: str, is_dir: bool, files: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    """Every downloaded file into the cache (a folder's manifest too); (relpath, size, oid)."""
    odb = dst.odb
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
                       layout=(spec.keys, tuple(spec.dep)))


def url_import_source(file: Path) -> str | None:
    """The local source of a URL import, absolute (None for object storage or no URL import);
    ``update`` refuses reading one outside the repository unless its import was named."""
    try:
        spec = read_url_import(file)
    except PointerError:
        return None
    return None if is_url(spec.url) else local_source(spec.url, file.parent)


def source_change(file: Path) -> dict[str, str]:
    """For ``status``: {source: "modified" or "deleted"} when the URL import in ``file`` no longer
    matches its source (the checksum read again, as ``update`` reads it), else {}. Not a URL
    import (a repository import, a plain pointer): {}."""
    try:
        spec = read_url_import(file)
    except PointerError:
        return {}
    where = spec.url if is_url(spec.url) else local_source(spec.url, file.parent)
    source = _Source(where, spec.fs_config)
    try:
        now = source.state().checksum()
    except PathError:
        return {spec.url: "deleted"}
    finally:
        source.close()
    return {} if spec.recorded() == now else {spec.url: "modified"}
