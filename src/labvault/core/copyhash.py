"""Copy a large file and md5 it in the same pass over the disk.

The copy runs in the kernel (``copy_file_range``: no user-space buffers; a reflink where the file
system can) on a second thread, while this thread hashes the same source through a reused buffer.
The disk is read once: whichever thread is behind finds the pages in the page cache. Where the
kernel cannot copy between the two files (another file system, an old kernel) a buffered loop
hashes and writes the same bytes instead, the writes overlapping with the hashing.

A caller that will not read the copy next (``add``: the cache object is a second copy of bytes
the workspace file still holds) asks for its pages to be let go behind it (:class:`DropBehind`):
write-back of each span is started as soon as it is written, and the span is dropped from the page
cache once clean; no write is waited for, so durability is unchanged (``labvault.fsync`` still
decides). Without it, 4 GiB of fresh dirty pages cost the kernel seconds of system time on the CPU
the hash needs (see docs/design.md, "Downloads").

The source is stat-ed before and after: if it changed meanwhile (a writer still at work), the hash
may not describe the copy, and :class:`SourceChanged` is raised; nothing is kept.
"""

from __future__ import annotations

import errno
import os
import queue
import threading
from collections.abc import Sequence

from labvault.core.hashing import md5

BUF = 4 << 20
_SPAN = 64 << 20
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF, errno.EPERM}


class SourceChanged(OSError):
    """The source file was modified while it was being copied."""


def _stamp(fd: int) -> tuple[int, int, int, int]:
    st = os.fstat(fd)
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def copy_and_hash(
    src_fd: int, dst_fd: int, expect: os.stat_result | None = None, drop_behind: bool = False,
) -> tuple[str, int]:
    """Copy ``src_fd`` (from offset 0) into the empty ``dst_fd``; return (md5 hex, bytes copied).

    ``expect``: the stat the caller took when it chose this file; a different version raises
    :class:`SourceChanged` before anything is copied. ``drop_behind``: let the copy's pages go
    behind it (for a copy nobody reads next)."""
    digest, copied, _ = copy_and_hash_to(src_fd, dst_fd, (), expect, drop_behind)
    return digest, copied


def copy_and_hash_to(
    src_fd: int, dst_fd: int, copies: Sequence[int], expect: os.stat_result | None = None,
    drop_behind: bool = False,
) -> tuple[str, int, list[bool]]:
    """:func:`copy_and_hash`, also copying the source into each of the empty files ``copies``
    (each on its own thread, all reading the source's pages while they are in the page cache);
    returns (md5 hex, bytes copied, for each of ``copies`` whether it holds the whole source).
    The digest describes ``dst_fd``'s bytes and each complete copy's: the source's stamp is
    checked after every copy has finished. A copy that failed is the caller's to delete."""
    before = _stamp(src_fd)
    if expect is not None and (expect.st_ino, expect.st_size, expect.st_mtime_ns, expect.st_ctime_ns) != before:
        raise SourceChanged(errno.EAGAIN, "the file changed since it was chosen")
    size = before[1]
    ok = [False] * len(copies)
    try:
        digest, copied = _kernel_copy(src_fd, dst_fd, size, drop_behind, copies, ok)
    except OSError as exc:
        if exc.errno not in _NO_KERNEL_COPY:
            raise
        os.ftruncate(dst_fd, 0)
        ok = [False] * len(copies)
        digest, copied = buffered_copy_and_hash(src_fd, dst_fd)
    if _stamp(src_fd) != before or copied != size:
        raise SourceChanged(errno.EAGAIN, "the file changed while it was being read")
    return digest, copied, ok


class DropBehind:
    """Let a file's freshly written pages go once they are on disk, without waiting for them.

    ``written(off, n)`` after each span: ``POSIX_FADV_DONTNEED`` on the span starts its write-back
    (the kernel drops only clean pages, so nothing is lost and nothing waits), and the same advice
    on the span written ``LAG`` spans before drops it, its write-back done by then. ``close()``
    advises the whole file once more. Advice only: where the kernel ignores it, nothing changes."""

    LAG = 2

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.spans: list[tuple[int, int]] = []

    def _advise(self, off: int, n: int) -> None:
        try:
            os.posix_fadvise(self.fd, off, n, os.POSIX_FADV_DONTNEED)
        except OSError:
            pass  # advice: a file system that refuses it keeps its pages

    def written(self, off: int, n: int) -> None:
        self._advise(off, n)
        self.spans.append((off, n))
        if len(self.spans) > self.LAG:
            self._advise(*self.spans.pop(0))

    def close(self) -> None:
        if self.spans:
            self._advise(0, 0)
            self.spans.clear()


def _copy_whole(src_fd: int, fd: int, size: int, ok: list[bool], i: int) -> None:
    """One of :func:`copy_and_hash_to`'s extra copies: ``ok[i]`` when all ``size`` bytes went."""
    off = 0
    try:
        while off < size:
            n = os.copy_file_range(src_fd, fd, min(_SPAN, size - off), off, off)
            if n == 0:
                break
            off += n
    except OSError:
        return  # best effort: the caller deletes it and copies from the cache as usual
    ok[i] = off == size


def _kernel_copy(src_fd: int, dst_fd: int, size: int, drop: bool = False, copies: Sequence[int] = (),
                 ok: list[bool] | None = None) -> tuple[str, int]:
    # Probe first: a file system that cannot copy fails here, before any thread starts.
    first = os.copy_file_range(src_fd, dst_fd, min(_SPAN, size), 0, 0) if size else 0
    done = [first]
    error: list[BaseException] = []
    extra = [threading.Thread(target=_copy_whole, args=(src_fd, fd, size, ok, i), daemon=True)
             for i, fd in enumerate(copies)] if ok is not None else []
    for t in extra:
        t.start()

    def copier() -> None:
        off = first
        behind = DropBehind(dst_fd) if drop else None
        if behind is not None:
            behind.written(0, first)
        try:
            while off < size:
                n = os.copy_file_range(src_fd, dst_fd, min(_SPAN, size - off), off, off)
                if n == 0:
                    break
                if behind is not None:
                    behind.written(off, n)
                off += n
            if behind is not None:
                behind.close()
        except BaseException as exc:  # reported after the join
            error.append(exc)
        done[0] = off

    thread = threading.Thread(target=copier, daemon=True)
    started = 0 < first < size
    if started:
        thread.start()
    h = md5()
    buf = bytearray(BUF)
    view = memoryview(buf)
    off = 0
    try:
        while True:
            n = os.preadv(src_fd, [buf], off)
            if n == 0:
                break
            h.update(view[:n])
            off += n
    finally:
        if started:
            thread.join()
        for t in extra:
            t.join()
    if error:
        raise error[0]
    if off != done[0]:
        raise SourceChanged(errno.EAGAIN, "the file changed while it was being read")
    return h.hexdigest(), off


def buffered_copy_and_hash(src_fd: int, dst_fd: int) -> tuple[str, int]:
    """Read, hash and write the same buffers (the hash describes exactly what was written); the
    writes run on a second thread. ``dst_fd`` must be empty, at offset 0."""
    h = md5()
    free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
    full: queue.SimpleQueue[tuple[bytearray, int] | None] = queue.SimpleQueue()
    for _ in range(4):
        free.put(bytearray(BUF))
    error: list[BaseException] = []

    def writer() -> None:
        try:
            while (item := full.get()) is not None:
                buf, n = item
                view = memoryview(buf)[:n]
                while view:
                    view = view[os.write(dst_fd, view) :]
                free.put(buf)
        except BaseException as exc:  # reported after the join
            error.append(exc)
            while (item := full.get()) is not None:
                free.put(item[0])

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    off = 0
    try:
        while not error:
            buf = free.get()
            n = os.preadv(src_fd, [buf], off)
            if n == 0:
                break
            full.put((buf, n))
            h.update(memoryview(buf)[:n])
            off += n
    finally:
        full.put(None)
        thread.join()
    if error:
        raise error[0]
    return h.hexdigest(), off
