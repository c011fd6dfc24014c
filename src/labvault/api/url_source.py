"""The source of a URL import or download (``import-url``, ``get-url``, ``add -o``, and ``fetch``
of imports recorded without their data): a local path, an s3://, gs://, azure:// URL, or one
file's http(s):// URL, opened for listing and reading; and the staged, size-checked download of
its files. ``api/import_url.py`` decides what to do with them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from labvault.core.hashing import md5_file
from labvault.core.links import copy_file
from labvault.core.tree import check_relpath
from labvault.errors import ManifestError, PathError, RemoteError, UsageError
from labvault.progress import Progress, Task
from labvault.remotes.base import Backend
from labvault.workspace.download import remove_staging, staging_name
from labvault.workspace.url_imports import SourceState, is_http, is_url

if TYPE_CHECKING:
    from labvault.remotes.http import HttpBackend

JOBS_LOCAL = 4
JOBS_CLOUD = 16


class _Source:
    """A local path, an object-storage URL or an http(s) URL (one file), opened for listing and
    reading. ``kind`` names the checksum recorded for it: ``md5`` (local), ``etag``, ``checksum``."""

    def __init__(self, where: str, fs_config: dict[str, Any]) -> None:
        self.shown = where
        self.local = not is_url(where)
        self.backend: Backend | None = None
        self.http: HttpBackend | None = None
        self.kind = "md5" if self.local else "etag"
        if self.local:
            self.path = os.path.abspath(os.path.expanduser(where))
            self.key = ""
        elif is_http(where):
            from labvault.remotes.http import HttpBackend
            from labvault.remotes.retry import RetryingBackend

            if urlparse(where).path.endswith("/"):
                raise PathError(f"{where} names a folder, which cannot be listed over HTTP",
                                "import its files one by one (an http(s) URL names one file)")
            self.kind = "checksum"
            self.key = ""
            self.http = HttpBackend(where, {str(k): str(v) for k, v in fs_config.items()}, resource=True)
            self.backend = RetryingBackend(self.http)
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
        if self.http is not None:
            return False, [self._http_file()]
        try:
            is_dir, files = self.backend.checksums(self.key)
        except FileNotFoundError:
            raise PathError(f"{self.shown} does not exist", "check the URL (`labvault ls` shows what is there)") from None
        return is_dir, files

    def _http_file(self) -> tuple[str, int, str]:
        from labvault.remotes.http import dvc_checksum
        from labvault.remotes.retry import RetryingBackend

        http, retrying = self.http, self.backend
        assert http is not None and isinstance(retrying, RetryingBackend)
        try:
            info = retrying.attempt("reading the source's headers", lambda: http.info(""))
        except FileNotFoundError:
            raise PathError(f"{self.shown} does not exist", "check the URL") from None
        if info.get("size") is None:
            raise RemoteError(f"{self.shown}: the server tells no size for it, so a download cannot be checked",
                              "download it another way, then `labvault add` it")
        return "", int(info["size"]), dvc_checksum(self.shown, info)

    def state(self) -> SourceState:
        """The source's checksums now (a local source is hashed in place)."""
        is_dir, files = self.listing()
        if not self.local:
            return SourceState(self.kind, is_dir, tuple(files))
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
