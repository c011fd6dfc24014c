"""Plain copies and listings between local folders and object storage (``labvault cp`` / ``ls``).

These work on any path or URL, outside any repository: no cache, no hashing, no pointers.

Where a copy lands follows ``aws s3 cp`` and ``gsutil cp``:

* a file copied onto an existing folder, a bucket, or a destination ending in '/' goes inside it,
  under its own name; otherwise the destination is the new file's name;
* with ``recursive``, a source ending in '/' (or a bucket, or '.') has its *contents* copied into
  the destination; a folder named without '/' goes inside the destination when that is an
  existing folder or ends in '/', and becomes the destination otherwise.

Local files are written to a temp name beside their final name, flushed and renamed, so no file is
ever seen half-written; uploads rely on ``Backend.put_file``, which never exposes a partial
object. A copy between two object stores passes through a temp file on this machine.
"""

from __future__ import annotations

import errno
import os
import posixpath
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass

from labvault.core.links import copy_file
from labvault.errors import LabvaultError, PathError, RemoteError, UsageError, from_os_error
from labvault.fsutil import fsync_dir, is_tmp_name, tmp_name
from labvault.progress import NULL_PROGRESS, Progress, Task
from labvault.remotes.base import Backend, Entry
from labvault.remotes.local import LocalBackend
from labvault.remotes.registry import open_backend, split_url

LOCAL_JOBS = 4
CLOUD_JOBS = 16
_FATAL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)

__all__ = ["CopyResult", "Entry", "copy", "listing"]


@dataclass(frozen=True)
class CopyResult:
    """What ``copy`` did. ``destination`` is the file written (one file) or the folder written into."""

    src: str
    dst: str
    destination: str
    files: int
    bytes: int
    seconds: float
    failed: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class _Loc:
    """A parsed path or URL. For object storage ``key`` is the path inside the bucket ('' for the
    bucket itself); for a local path it is the absolute path."""

    kind: str  # file, s3, gs, azure
    bucket: str
    key: str
    shown: str  # how to name it to a person
    slash: bool  # written with a trailing '/'

    @property
    def local(self) -> bool:
        return self.kind == "file"

    @property
    def name(self) -> str:
        return os.path.basename(self.key) if self.local else posixpath.basename(self.key)

    def child(self, rel: str) -> _Loc:
        if self.local:
            key = os.path.join(self.key, *rel.split("/"))
        else:
            key = f"{self.key}/{rel}" if self.key else rel
        base = self.shown if self.shown.endswith("/") else self.shown + "/"
        return _Loc(self.kind, self.bucket, key, base + rel, False)


def _parse(url: str) -> _Loc:
    """Raises ConfigError for an unsupported scheme or a malformed bucket name."""
    kind, rest = split_url(url)
    slash = url.endswith("/") or url.endswith(os.sep)
    if kind == "file":
        path = os.path.abspath(os.path.expanduser(rest))
        return _Loc(kind, "", path, url, slash)
    bucket, _, key = rest.partition("/")
    key = key.strip("/")
    return _Loc(kind, bucket, key, f"{kind}://{bucket}/{key}" if key else f"{kind}://{bucket}", slash)


class _Backends:
    """One backend per bucket, opened at the bucket's root and shared by the worker threads."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str], Backend] = {}
        self._checked: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def get(self, loc: _Loc) -> Backend:
        with self._lock:
            b = self._open.get((loc.kind, loc.bucket))
            if b is None:
                b = open_backend(f"{loc.kind}://{loc.bucket}")
                self._open[(loc.kind, loc.bucket)] = b
            return b

    def check_bucket(self, loc: _Loc) -> Backend:
        """The bucket's backend; RemoteError when the bucket (or container) does not exist."""
        b = self.get(loc)
        if (loc.kind, loc.bucket) not in self._checked:
            if not b.exists(""):
                raise RemoteError(
                    f"bucket {loc.kind}://{loc.bucket} does not exist",
                    "check the url (`labvault ls` shows what is there) or create the bucket first",
                )
            self._checked.add((loc.kind, loc.bucket))
        return b

    def close(self) -> None:
        for b in self._open.values():
            b.close()
        self._open.clear()


@contextmanager
def _backends() -> Iterator[_Backends]:
    bs = _Backends()
    try:
        yield bs
    finally:
        bs.close()


# --- what is at a location ------------------------------------------------------------------

def _remote_file_size(backend: Backend, key: str) -> int | None:
    """The object's size, or None when ``key`` names no object (a prefix, or nothing)."""
    if not key:
        return None
    try:
        return backend.size(key)
    except FileNotFoundError:
        return None


def _is_dir(loc: _Loc, bs: _Backends) -> bool:
    """Whether ``loc`` is an existing folder (a bucket, or a prefix with objects below it)."""
    if loc.local:
        return os.path.isdir(loc.key)
    b = bs.check_bucket(loc)
    if not loc.key:
        return True
    return _remote_file_size(b, loc.key) is None and b.exists(loc.key)


def _missing(loc: _Loc) -> PathError:
    if loc.local:
        return PathError(f"{loc.shown} does not exist", "check the path")
    return PathError(f"{loc.shown} does not exist", f"see what is there with `labvault ls {posixpath.dirname(loc.shown)}/`")


def _walk_local(top: str) -> tuple[list[tuple[str, int]], list[str]]:
    """Every file below ``top`` and the broken links found. Links are followed (a link to a
    folder is copied as a folder; a link back to one of its own parent folders is skipped, so
    loops end); labvault temp files are skipped. (``LocalBackend.walk`` neither follows folder
    links nor survives a broken link, hence this walk.)"""
    files: list[tuple[str, int]] = []
    broken: list[str] = []
    st = os.stat(top)
    stack: list[tuple[str, str, frozenset[tuple[int, int]]]] = [("", top, frozenset({(st.st_dev, st.st_ino)}))]
    while stack:
        rel_dir, folder, parents = stack.pop()
        with os.scandir(folder) as it:
            entries = list(it)
        for e in entries:
            rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
            try:
                info = e.stat()  # follows links
            except FileNotFoundError:
                broken.append(rel)
                continue
            if e.is_dir():
                ident = (info.st_dev, info.st_ino)
                if ident not in parents:
                    stack.append((rel, e.path, parents | {ident}))
            elif e.is_file() and not is_tmp_name(e.name):
                files.append((rel, info.st_size))
    return sorted(files), sorted(broken)


def _walk(loc: _Loc, bs: _Backends) -> tuple[list[tuple[str, int]], list[str]]:
    """(path relative to ``loc``, size) of every file below the folder ``loc``, and the broken
    links found (local folders only)."""
    if loc.local:
        return _walk_local(loc.key)
    prefix = f"{loc.key}/" if loc.key else ""
    b = bs.get(loc)
    found = [(k[len(prefix) :], size) for k, size in b.walk(loc.key) if k.startswith(prefix) and k != prefix]
    return sorted(found), []


def _source(loc: _Loc, recursive: bool, bs: _Backends) -> tuple[list[tuple[str, int]], list[str], bool]:
    """The files to copy as (relpath, size) pairs (relpath '' when ``loc`` is itself a file), the
    broken links below it, and whether ``loc`` is a folder."""
    if loc.local:
        if os.path.isfile(loc.key):
            return [("", os.path.getsize(loc.key))], [], False
        if not os.path.isdir(loc.key):
            raise _missing(loc)
    else:
        b = bs.check_bucket(loc)
        size = _remote_file_size(b, loc.key)
        if size is not None:
            return [("", size)], [], False
        if loc.key and not b.exists(loc.key):
            raise _missing(loc)
    if not recursive:
        raise PathError(f"{loc.shown} is a folder", f"copy it with everything inside with `labvault cp -r {loc.shown} ...`")
    files, broken = _walk(loc, bs)
    return files, broken, True


def _copies_contents(loc: _Loc) -> bool:
    if loc.slash or (not loc.local and not loc.key):
        return True
    tail = loc.shown.rstrip("/").rsplit("/", 1)[-1]
    return tail in ("", ".", "..")


def _same_place(a: _Loc, b: _Loc) -> bool:
    if a.kind != b.kind or a.bucket != b.bucket:
        return False
    if a.local:
        return os.path.realpath(a.key) == os.path.realpath(b.key)
    return a.key == b.key


def _inside(child: _Loc, parent: _Loc) -> bool:
    if child.kind != parent.kind or child.bucket != parent.bucket:
        return False
    if child.local:
        c, p = os.path.realpath(child.key), os.path.realpath(parent.key)
        return c == p or c.startswith(p.rstrip(os.sep) + os.sep)
    return not parent.key or child.key == parent.key or child.key.startswith(parent.key + "/")


# --- moving one file ------------------------------------------------------------------------

def _write_local(path: str, fill: Callable[[str], None]) -> None:
    """Make ``path`` with ``fill(tmp)``: temp name in the same folder, fsync, rename."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    tmp = tmp_name(path)
    try:
        fill(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(folder)


class _Mover:
    def __init__(self, bs: _Backends, task: Task) -> None:
        self.bs = bs
        self.task = task
        self._scratch: str | None = None
        self._lock = threading.Lock()
        self._n = 0

    def scratch_file(self) -> str:
        with self._lock:
            if self._scratch is None:
                self._scratch = tempfile.mkdtemp(prefix="labvault-cp-")
            self._n += 1
            return os.path.join(self._scratch, f"part-{self._n}")

    def cleanup(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def move(self, src: _Loc, dst: _Loc, size: int) -> int:
        """Copy one file; reports its bytes to the task as they go and the file when done."""
        seen = [0]

        def cb(n: int) -> None:
            n = max(0, min(n, size - seen[0]))
            seen[0] += n
            if n:
                self.task.advance(0, n)

        if src.local and dst.local:
            mode = os.stat(src.key).st_mode & 0o777
            _write_local(dst.key, lambda tmp: copy_file(src.key, tmp, mode))
        elif src.local:
            self.bs.get(dst).put_file(src.key, dst.key, cb)
        elif dst.local:
            _write_local(dst.key, lambda tmp: self.bs.get(src).get_file(src.key, tmp, cb))
        else:
            part = self.scratch_file()
            try:
                self.bs.get(src).get_file(src.key, part)
                self.bs.get(dst).put_file(part, dst.key, cb)
            finally:
                try:
                    os.unlink(part)
                except OSError:
                    pass
        self.task.advance(1, size - seen[0])
        return size


# --- the operations ---------------------------------------------------------------------------

_Pair = tuple[_Loc, _Loc, int]


def _plan(src: _Loc, dst: _Loc, recursive: bool, bs: _Backends) -> tuple[list[_Pair], _Loc, list[str]]:
    """(source, destination, size) of every file to copy, where they go, and what cannot be copied."""
    files, broken, is_dir = _source(src, recursive, bs)
    if not dst.local:
        bs.check_bucket(dst)
    if not is_dir:
        target = dst.child(src.name) if dst.slash or _is_dir(dst, bs) else dst
        if _same_place(src, target):
            raise PathError(f"{src.shown} and {target.shown} are the same file", "give another destination")
        return [(src, target, files[0][1])], target, []
    if _copies_contents(src) or not (dst.slash or _is_dir(dst, bs)):
        base = dst
    else:
        base = dst.child(src.name)
    if _inside(base, src):
        raise PathError(f"cannot copy folder {src.shown} into itself ({base.shown})", "give a destination outside it")
    problems = [f"{src.child(rel).shown}: broken symbolic link, not copied" for rel in broken]
    return [(src.child(rel), base.child(rel), size) for rel, size in files], base, problems


def copy(
    src_url: str,
    dst_url: str,
    recursive: bool = False,
    jobs: int | None = None,
    progress: Progress = NULL_PROGRESS,
) -> CopyResult:
    """Copy a file, or with ``recursive`` a folder or prefix, between any two of: a local path,
    ``s3://``, ``gs://``, ``azure://``. Files are copied ``jobs`` at a time (default 16 when
    object storage is involved, 4 between local folders). A file that fails is reported in
    ``CopyResult.failed`` and the others go on; a missing bucket, refused credentials or a full
    disk stop the whole copy (raised)."""
    if jobs is not None and jobs < 1:
        raise UsageError(f"jobs must be at least 1, not {jobs}")
    src, dst = _parse(src_url), _parse(dst_url)
    started = time.monotonic()
    with _backends() as bs:
        pairs, target, problems = _plan(src, dst, recursive, bs)
        n = jobs or (LOCAL_JOBS if src.local and dst.local else CLOUD_JOBS)
        total = sum(size for _, _, size in pairs)
        task = progress.task(f"copying to {target.shown}", total=len(pairs), total_bytes=total)
        mover = _Mover(bs, task)
        try:
            done, failed = _run(mover, pairs, n)
        finally:
            task.close()
            mover.cleanup()
    return CopyResult(
        src=src_url, dst=dst_url, destination=target.shown, files=len(done), bytes=sum(done),
        seconds=round(time.monotonic() - started, 3), failed=(*problems, *failed),
    )


def _run(mover: _Mover, pairs: list[_Pair], jobs: int) -> tuple[list[int], list[str]]:
    done: list[int] = []
    failed: list[str] = []
    if not pairs:
        return done, failed
    pool = ThreadPoolExecutor(max_workers=min(jobs, len(pairs)))
    try:
        futures: dict[Future[int], _Pair] = {
            pool.submit(mover.move, s, d, size): (s, d, size) for s, d, size in pairs
        }
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for fut in finished:
                s, d, _ = futures[fut]
                exc = fut.exception()
                if exc is None:
                    done.append(fut.result())
                elif isinstance(exc, LabvaultError):
                    raise exc
                elif isinstance(exc, OSError) and exc.errno in _FATAL_ERRNOS:
                    raise from_os_error(exc, f"writing {d.shown}") from exc
                else:
                    failed.append(f"{s.shown} -> {d.shown}: {type(exc).__name__}: {exc}")
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return done, failed


def listing(url: str, recursive: bool = False) -> list[Entry]:
    """The direct children of a folder, prefix or bucket (folders with ``is_dir``), sorted by name;
    a file lists as itself. With ``recursive``, every file below, named by its path relative to
    ``url``."""
    loc = _parse(url)
    if loc.local:
        if not os.path.exists(loc.key):
            raise _missing(loc)
        if os.path.isfile(loc.key):
            return [Entry(loc.name, os.path.getsize(loc.key), False)]
        if recursive:
            return [Entry(rel, size, False) for rel, size in _walk_local(loc.key)[0]]
        return [e for e in LocalBackend(loc.key).ls("") if not is_tmp_name(e.name)]
    with _backends() as bs:
        b = bs.check_bucket(loc)
        size = _remote_file_size(b, loc.key)
        if size is not None:
            return [Entry(loc.name, size, False)]
        if loc.key and not b.exists(loc.key):
            raise _missing(loc)
        if recursive:
            return [Entry(rel, size, False) for rel, size in _walk(loc, bs)[0]]
        return b.ls(loc.key)
