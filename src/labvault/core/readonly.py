"""Read-only data: the write bits and the immutable flag (``chattr +i``) of a file or folder tree.

``make_read_only`` clears every write bit (files and folders; read and execute bits stay as they
were), then sets the immutable flag where the file system and the process's privileges allow it
(``FS_IOC_SETFLAGS``, the ioctl ``chattr`` uses; no process is started). A folder marked immutable
refuses new, deleted and renamed entries even to root; a file refuses every change. The flag is
never set on a file with more than one hard link (a cache object shared with the workspace would
become undeletable by ``gc``) nor on symlinks (not followed). When the first attempt is refused
(no ``CAP_LINUX_IMMUTABLE``, a file system without the flag), no flag is set anywhere and the
reason is returned: protection then rests on the modes alone, which root ignores.

``make_writable`` undoes it: the flag is cleared first (folders, then files), then the owner's
write bit is given back. Group and other write bits are not restored: write access for others is
what ``access grant ... write`` records and applies.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import sys
from dataclasses import dataclass

FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
FS_IMMUTABLE_FL = 0x00000010


@dataclass(frozen=True)
class Tree:
    """A file or folder tree, listed without following symlinks (folders top-down)."""

    dirs: tuple[str, ...]
    files: tuple[str, ...]
    links: tuple[str, ...]


@dataclass(frozen=True)
class Applied:
    """What a change of protection did: files and folders whose modes changed, whether the
    immutable flag is now set (None: not attempted), and why it could not be, if it could not."""

    files: int
    dirs: int
    immutable: bool | None
    immutable_problem: str | None = None


def list_tree(path: str) -> Tree:
    if os.path.islink(path) or not os.path.isdir(path):
        if os.path.islink(path):
            return Tree((), (), (path,))
        return Tree((), (path,), ())
    dirs: list[str] = []
    files: list[str] = []
    links: list[str] = []
    for root, dirnames, filenames in os.walk(path):
        dirs.append(root)
        for name in sorted(dirnames):
            full = os.path.join(root, name)
            if os.path.islink(full):
                links.append(full)
        dirnames[:] = sorted(d for d in dirnames if not os.path.islink(os.path.join(root, d)))
        for name in sorted(filenames):
            full = os.path.join(root, name)
            (links if os.path.islink(full) else files).append(full)
    return Tree(tuple(dirs), tuple(files), tuple(links))


def _flags(fd: int) -> int:
    buf = bytearray(8)
    fcntl.ioctl(fd, FS_IOC_GETFLAGS, buf, True)
    return int.from_bytes(buf[:4], sys.byteorder)


def _open(path: str) -> int:
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))


def is_immutable(path: str) -> bool:
    """Whether ``path`` carries the immutable flag (False where flags cannot be read)."""
    try:
        fd = _open(path)
    except OSError:
        return False
    try:
        return bool(_flags(fd) & FS_IMMUTABLE_FL)
    except OSError:
        return False
    finally:
        os.close(fd)


def set_immutable(path: str, on: bool) -> None:
    """Set or clear the immutable flag of ``path`` (OSError naming ``path`` when refused)."""
    fd = _open(path)
    try:
        flags = _flags(fd)
        new = flags | FS_IMMUTABLE_FL if on else flags & ~FS_IMMUTABLE_FL
        if new != flags:
            buf = bytearray(8)
            buf[:4] = new.to_bytes(4, sys.byteorder)
            fcntl.ioctl(fd, FS_IOC_SETFLAGS, buf, True)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, path) from None
    finally:
        os.close(fd)


def immutable_problem(exc: OSError) -> str:
    if exc.errno in (errno.EPERM, errno.EACCES):
        return "not permitted (needs root or CAP_LINUX_IMMUTABLE)"
    if exc.errno in (errno.ENOTTY, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
        return "the file system has no immutable flag"
    return exc.strerror or str(exc)


def _can_flag(path: str) -> bool:
    return os.lstat(path).st_nlink == 1 or os.path.isdir(path)


def make_read_only(path: str, immutable: bool = True) -> Applied:
    """Clear the write bits of every file and folder of ``path``, then try the immutable flag."""
    tree = list_tree(path)
    files = dirs = 0
    for f in tree.files:
        mode = stat.S_IMODE(os.lstat(f).st_mode)
        if mode & 0o222:
            os.chmod(f, mode & ~0o222)
            files += 1
    for d in reversed(tree.dirs):
        mode = stat.S_IMODE(os.lstat(d).st_mode)
        if mode & 0o222:
            os.chmod(d, mode & ~0o222)
            dirs += 1
    if not immutable:
        return Applied(files, dirs, None)
    done: list[str] = []
    for p in [*(f for f in tree.files if _can_flag(f)), *reversed(tree.dirs)]:
        try:
            set_immutable(p, True)
        except OSError as exc:
            for q in reversed(done):  # all or nothing: a half-flagged tree would mislead
                set_immutable(q, False)
            return Applied(files, dirs, False, immutable_problem(exc))
        done.append(p)
    return Applied(files, dirs, True)


def clear_immutable(path: str) -> int:
    """Clear the immutable flag everywhere in ``path`` (folders first); returns how many had it."""
    tree = list_tree(path)
    cleared = 0
    for p in [*tree.dirs, *tree.files]:
        if is_immutable(p):
            set_immutable(p, False)
            cleared += 1
    return cleared


def make_writable(path: str) -> Applied:
    """Clear the immutable flag, then give the owner write permission back."""
    cleared = clear_immutable(path)
    tree = list_tree(path)
    files = dirs = 0
    for d in tree.dirs:
        mode = stat.S_IMODE(os.lstat(d).st_mode)
        if not mode & 0o200:
            os.chmod(d, mode | 0o200)
            dirs += 1
    for f in tree.files:
        mode = stat.S_IMODE(os.lstat(f).st_mode)
        if not mode & 0o200:
            os.chmod(f, mode | 0o200)
            files += 1
    return Applied(files, dirs, False if cleared else None)


def writable_entries(path: str) -> list[str]:
    """Files and folders of ``path`` with any write bit set."""
    tree = list_tree(path)
    return [p for p in [*tree.dirs, *tree.files] if stat.S_IMODE(os.lstat(p).st_mode) & 0o222]
