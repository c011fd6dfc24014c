"""Copying a unit (a file or a folder) across file systems, hashing a copy, removing a tree.

The copy keeps each file's mode and mtime (a folder's too), copies symlinks inside a unit as
symlinks, and flushes the destination's file system (one ``syncfs``) before it returns, so a copy
that was announced complete survives a power cut. File data goes through ``copy_file_range`` (in
the kernel; a reflink where the file system can), else ``sendfile`` (in the kernel too, between
file systems), else a read/write loop.

:func:`hash_copy` reads the copy back, after asking the kernel to drop its cached pages, and
computes DVC's hash (a file's md5, a folder's ``.dir`` oid): the bytes compared with the
catalog's content hash are the ones on the destination, not the ones the copy loop sent.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import stat
from collections.abc import Callable

from labvault.core.hashing import md5
from labvault.core.tree import Tree
from labvault.fsutil import fsync_dir, syncfs_fd

FileStat = tuple[int, int, int, str]  # inode, size, mtime_ns, md5
_SPAN = 64 << 20
_BUF = 1 << 20
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF, errno.EPERM}
_RENAME_EXCHANGE = 2


class SpecialFileError(OSError):
    """A unit holds something that is neither a file, a folder nor a symlink."""


def unit_bytes(path: str) -> tuple[int, int]:
    """(bytes, regular files) under ``path`` (a file or a folder; symlinks not followed)."""
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        return (st.st_size, 1) if stat.S_ISREG(st.st_mode) else (0, 0)
    total = files = 0
    stack = [path]
    while stack:
        with os.scandir(stack.pop()) as it:
            for e in it:
                s = e.stat(follow_symlinks=False)
                if stat.S_ISDIR(s.st_mode):
                    stack.append(e.path)
                elif stat.S_ISREG(s.st_mode):
                    total += s.st_size
                    files += 1
    return total, files


def copy_unit(src: str, dst: str, advance: Callable[[int], None], copier: Copier | None = None) -> None:
    """Copy ``src`` to the new path ``dst`` (which must not exist), all flushed to the disk on
    return: one ``syncfs`` of the destination's file system once every file is written (its
    write-back errors since the copy began are reported), not one fsync per file and folder.

    ``advance(nbytes)`` is called after each file; ``copier`` (default: all ways allowed) copies the
    files' data. OSError (ENOSPC included) propagates; the caller removes the partial copy."""
    guard = os.open(os.path.dirname(dst) or ".", os.O_RDONLY | os.O_DIRECTORY)  # before any write: see syncfs_fd
    try:
        st = os.lstat(src)
        copier = copier or Copier()
        if stat.S_ISDIR(st.st_mode):
            _copy_dir(src, dst, advance, copier)
        elif stat.S_ISREG(st.st_mode):
            copier.file(src, dst, st)
            advance(st.st_size)
        else:
            raise SpecialFileError(errno.EINVAL, "a unit must be a regular file or a folder", src)
        syncfs_fd(guard)
    finally:
        os.close(guard)


def _copy_dir(src: str, dst: str, advance: Callable[[int], None], copier: Copier) -> None:
    os.mkdir(dst, 0o700)
    for entry in sorted(os.scandir(src), key=lambda e: e.name):
        s = entry.stat(follow_symlinks=False)
        target = os.path.join(dst, entry.name)
        if stat.S_ISDIR(s.st_mode):
            _copy_dir(entry.path, target, advance, copier)
        elif stat.S_ISREG(s.st_mode):
            copier.file(entry.path, target, s)
            advance(s.st_size)
        elif stat.S_ISLNK(s.st_mode):
            os.symlink(os.readlink(entry.path), target)
            os.utime(target, ns=(s.st_atime_ns, s.st_mtime_ns), follow_symlinks=False)
        else:
            raise SpecialFileError(errno.EINVAL, "a unit may hold only files, folders and symlinks", entry.path)
    top = os.stat(src)
    os.chmod(dst, stat.S_IMODE(top.st_mode))
    os.utime(dst, ns=(top.st_atime_ns, top.st_mtime_ns))


class Copier:
    """Copies files' data in the kernel: ``copy_file_range`` (a reflink where the file system can)
    until it fails for lack of support (between file systems, mostly), then ``sendfile``, then a
    plain read/write loop; a way that failed once (or is turned off here) is not tried again."""

    def __init__(self, kernel_copy: bool = True, sendfile: bool = True) -> None:
        self.kernel_copy = kernel_copy
        self.sendfile = sendfile

    def file(self, src: str, dst: str, st: os.stat_result) -> None:
        fin = os.open(src, os.O_RDONLY)
        try:
            fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                self._data(fin, fd, st.st_size)
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
                os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))
            finally:
                os.close(fd)
        finally:
            os.close(fin)

    def _data(self, src_fd: int, dst_fd: int, size: int) -> None:
        for way, copy in (("kernel_copy", _copy_range), ("sendfile", _send)):
            if not getattr(self, way):
                continue
            try:
                if copy(src_fd, dst_fd, size):
                    return
            except OSError as exc:
                if exc.errno not in _NO_KERNEL_COPY:
                    raise
                setattr(self, way, False)
            os.ftruncate(dst_fd, 0)  # start again from nothing the next way
            os.lseek(dst_fd, 0, os.SEEK_SET)
        off = 0
        while block := os.pread(src_fd, _BUF, off):
            view = memoryview(block)
            while view:
                view = view[os.write(dst_fd, view):]
            off += len(block)


def _copy_range(src_fd: int, dst_fd: int, size: int) -> bool:
    """``copy_file_range`` from offset 0 to the end of the file, as the other two ways copy; False
    when it ended before the ``size`` listed (some file systems report no data to this call: copy
    it another way)."""
    off = 0
    while n := os.copy_file_range(src_fd, dst_fd, _SPAN, off, off):
        off += n
    return off >= size


def _send(src_fd: int, dst_fd: int, size: int) -> bool:
    """``sendfile`` from offset 0 to the end of the file (at the destination's position, 0)."""
    off = 0
    while n := os.sendfile(dst_fd, src_fd, off, _SPAN):
        off += n
    return True


def hash_copy(path: str) -> tuple[str, dict[str, FileStat]]:
    """DVC's hash of the file or folder at ``path``, read from the disk, and each file's
    (inode, size, mtime_ns, md5) keyed by posix relpath ("" for a file unit)."""
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        digest = _md5_uncached(path)
        return digest, {"": (st.st_ino, st.st_size, st.st_mtime_ns, digest)}
    stats: dict[str, FileStat] = {}
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        with os.scandir(os.path.join(path, rel_dir) if rel_dir else path) as it:
            for e in it:
                rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
                s = e.stat(follow_symlinks=False)
                if stat.S_ISDIR(s.st_mode):
                    stack.append(rel)
                elif stat.S_ISREG(s.st_mode):
                    stats[rel] = (s.st_ino, s.st_size, s.st_mtime_ns, _md5_uncached(e.path))
    return Tree.from_pairs((rel, s[3]) for rel, s in stats.items()).oid(), stats


def _md5_uncached(path: str) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # read the disk, not what the copy left in memory
        except OSError:
            pass
        h = md5()
        while block := os.read(fd, _BUF):
            h.update(block)
        return h.hexdigest()
    finally:
        os.close(fd)


def remove_tree(path: str) -> None:
    """Remove a file, symlink or folder at ``path``; nothing there is fine."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path, onerror=_writable_then_retry)
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    fsync_dir(os.path.dirname(path))


def _writable_then_retry(func: Callable[[str], object], path: str, _exc: object) -> None:
    try:
        os.chmod(os.path.dirname(path), 0o700)
    except OSError:
        pass
    func(path)


def exchange(a: str, b: str) -> bool:
    """Swap the entries ``a`` and ``b`` atomically (``renameat2(RENAME_EXCHANGE)``); False when the
    file system or kernel cannot."""
    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    at_fdcwd = -100
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), a)
