"""Copying a unit (a file or a folder) across file systems, hashing a copy, removing a tree.

The copy keeps each file's mode and mtime (a folder's too), copies symlinks inside a unit as
symlinks, and fsyncs every file and folder before it returns, so a copy that was announced
complete survives a power cut. File data goes through ``copy_file_range`` (in the kernel; a
reflink where the file system can), falling back to a buffered loop between file systems
that cannot.

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
from labvault.fsutil import fsync_dir

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
    for root, _dirs, names in os.walk(path):
        for name in names:
            s = os.lstat(os.path.join(root, name))
            if stat.S_ISREG(s.st_mode):
                total += s.st_size
                files += 1
    return total, files


def copy_unit(src: str, dst: str, advance: Callable[[int], None]) -> None:
    """Copy ``src`` to the new path ``dst`` (which must not exist), all fsynced on return.

    ``advance(nbytes)`` is called after each file. OSError (ENOSPC included) propagates; the
    caller removes the partial copy."""
    st = os.lstat(src)
    if stat.S_ISDIR(st.st_mode):
        _copy_dir(src, dst, advance)
    elif stat.S_ISREG(st.st_mode):
        _copy_file(src, dst, st)
        advance(st.st_size)
    else:
        raise SpecialFileError(errno.EINVAL, "a unit must be a regular file or a folder", src)
    fsync_dir(os.path.dirname(dst))


def _copy_dir(src: str, dst: str, advance: Callable[[int], None]) -> None:
    os.mkdir(dst, 0o700)
    dirs: list[tuple[str, os.stat_result]] = []
    for entry in sorted(os.scandir(src), key=lambda e: e.name):
        s = entry.stat(follow_symlinks=False)
        target = os.path.join(dst, entry.name)
        if stat.S_ISDIR(s.st_mode):
            _copy_dir(entry.path, target, advance)
        elif stat.S_ISREG(s.st_mode):
            _copy_file(entry.path, target, s)
            advance(s.st_size)
        elif stat.S_ISLNK(s.st_mode):
            os.symlink(os.readlink(entry.path), target)
            os.utime(target, ns=(s.st_atime_ns, s.st_mtime_ns), follow_symlinks=False)
        else:
            raise SpecialFileError(errno.EINVAL, "a unit may hold only files, folders and symlinks", entry.path)
        dirs.append((target, s))
    fd = os.open(dst, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    top = os.stat(src)
    os.chmod(dst, stat.S_IMODE(top.st_mode))
    os.utime(dst, ns=(top.st_atime_ns, top.st_mtime_ns))


def _copy_file(src: str, dst: str, st: os.stat_result) -> None:
    with open(src, "rb") as fin:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _copy_data(fin.fileno(), fd, st.st_size)
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
            os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))
            os.fsync(fd)
        finally:
            os.close(fd)


def _copy_data(src_fd: int, dst_fd: int, size: int) -> None:
    off = 0
    try:
        while off < size:
            n = os.copy_file_range(src_fd, dst_fd, min(_SPAN, size - off), off, off)
            if n == 0:
                break
            off += n
        if off >= size:
            return
    except OSError as exc:
        if exc.errno not in _NO_KERNEL_COPY:
            raise
    os.ftruncate(dst_fd, 0)
    os.lseek(src_fd, 0, os.SEEK_SET)
    os.lseek(dst_fd, 0, os.SEEK_SET)
    with open(src_fd, "rb", closefd=False) as fin, open(dst_fd, "wb", closefd=False) as fout:
        shutil.copyfileobj(fin, fout, _BUF)


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
