"""Walking an output's folder: its files with their stat, a folder at a time, like DVC's walk
(symlinks to files followed, symlinked folders skipped, .dvcignore applied, labvault's own temp
files set aside). With a cold cache, ``prefetch.Prefetch`` reads inodes ahead of it."""

from __future__ import annotations

import os
import stat as statmod
from collections.abc import Iterator

from labvault.errors import PathError, from_os_error
from labvault.fsutil import is_tmp_name
from labvault.workspace.ignore import ALWAYS_IGNORED, DVCIGNORE, IgnoreChecker

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC

# A file found by a walk: (rel, path, inode, mtime_ns, size, mode, nlink, is_symlink)
FileStat = tuple[str, str, int, int, int, int, int, bool]


def iter_walk(top: str, checker: IgnoreChecker, leftovers: list[str] | None = None) -> Iterator[list[FileStat]]:
    """The files under ``top``, a folder at a time (symlinks to files followed, symlinked folders
    skipped, like DVC). Only one folder's entries are held at once.

    Temp files that an interrupted labvault left behind are not data: they go to ``leftovers``.
    """
    stack = [(top, "")]
    while stack:
        folder, rel = stack.pop()
        files: list[FileStat] = []
        stack.extend(_walk_level(folder, rel, checker, leftovers, files))
        if files:
            yield files


def walk_dir(top: str, checker: IgnoreChecker, leftovers: list[str] | None = None) -> list[FileStat]:
    """Every file under ``top`` in one list (see :func:`iter_walk`)."""
    return [f for files in iter_walk(top, checker, leftovers) for f in files]


def _walk_level(
    folder: str, rel: str, checker: IgnoreChecker, leftovers: list[str] | None, files: list[FileStat]
) -> list[tuple[str, str]]:
    """Append the files of one folder to ``files``; return its sub-folders to walk."""
    try:
        # Listed through a descriptor: each stat then resolves one name, not the whole path.
        fd = os.open(folder, _DIR_FLAGS)
    except OSError as exc:
        raise from_os_error(exc, "listing") from exc
    try:
        return _walk_fd(fd, folder, rel, checker, leftovers, files)
    finally:
        os.close(fd)


def _walk_fd(
    fd: int, folder: str, rel: str, checker: IgnoreChecker, leftovers: list[str] | None, files: list[FileStat]
) -> list[tuple[str, str]]:
    try:
        with os.scandir(fd) as it:
            entries = list(it)
    except OSError as exc:
        raise from_os_error(exc, "listing") from exc
    base = folder + "/"
    check = checker.active
    subdirs: list[tuple[str, str]] = []
    append = files.append
    try:
        for e in entries:
            name = e.name
            if name == DVCIGNORE:
                raise PathError(f"{base + name} is inside a tracked folder", "move its patterns to a .dvcignore above the folder")
            if e.is_dir(follow_symlinks=False):
                if name in ALWAYS_IGNORED or (check and checker(rel + name, True, False)):
                    continue
                subdirs.append((base + name, rel + name + "/"))
                continue
            if name[0] == "." and is_tmp_name(name):
                if leftovers is not None:
                    leftovers.append(base + name)
                continue
            if check and checker(rel + name, False, False):
                continue
            st = e.stat(follow_symlinks=False)
            mode = st.st_mode
            if statmod.S_ISREG(mode):
                append((rel + name, base + name, st.st_ino, st.st_mtime_ns, st.st_size, mode, st.st_nlink, False))
            elif statmod.S_ISLNK(mode):
                try:
                    st = os.stat(name, dir_fd=fd)
                except FileNotFoundError:
                    raise PathError(f"{base + name} is a broken symlink", "fix or delete it") from None
                if statmod.S_ISREG(st.st_mode):
                    append((rel + name, base + name, st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode, st.st_nlink, True))
    except OSError as exc:
        raise from_os_error(exc, "reading") from exc
    return subdirs
