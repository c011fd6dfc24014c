"""Walking an output's folder: its files with their stat, a folder at a time, like DVC's walk
(symlinks to files followed, symlinked folders skipped, .dvcignore applied, labvault's own temp
files set aside, or deleted when their writer was killed). A folder that the read-ahead helper (``prefetch``) already listed is taken
from it instead of being read again."""

from __future__ import annotations

import os
import stat as statmod
from collections.abc import Iterator, Sequence

from labvault.errors import PathError, from_os_error
from labvault.fsutil import is_exact_tmp_name, tmp_owner_alive
from labvault.workspace.ignore import ALWAYS_IGNORED, DVCIGNORE, IgnoreChecker
from labvault.workspace.prefetch import DIR_FLAGS, ENTRY, Listing, listing

# A file found by a walk: (rel, path, inode, mtime_ns, size, mode, nlink, is_symlink)
FileStat = tuple[str, str, int, int, int, int, int, bool]


def iter_walk(top: str, checker: IgnoreChecker, leftovers: list[str] | None = None) -> Iterator[list[FileStat]]:
    """The files under ``top``, a folder at a time (symlinks to files followed, symlinked folders
    skipped, like DVC). Only one folder's entries are held at once.

    labvault's temp files (exactly ``.<name>.<pid>-<8 hex>.lvtmp``) are never data: one whose
    writer is gone (killed mid-write) is deleted as the walk meets it, whatever the command, so
    no folder is called clean while it holds one; one whose writer still runs belongs to that
    command (it will rename or delete it) and goes to ``leftovers``.
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


def drop_if_stale(path: str) -> bool:
    """Delete the temp file ``path`` if the process that wrote it is gone; whether it is gone."""
    if tmp_owner_alive(os.path.basename(path), path):
        return False
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        return False  # not ours to delete (permissions): left alone, and still not data
    return True


def _walk_level(
    folder: str, rel: str, checker: IgnoreChecker, leftovers: list[str] | None, files: list[FileStat]
) -> list[tuple[str, str]]:
    """Append the files of one folder to ``files``; return its sub-folders to walk."""
    got = listing(folder)
    if got is not None:
        return _walk_listing(got, folder, rel, checker, leftovers, files)
    try:
        # Listed through a descriptor: each stat then resolves one name, not the whole path.
        fd = os.open(folder, DIR_FLAGS)
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
        names = [e.name for e in entries]
        subdirs, keep = _sort_names(names, [e.is_dir(follow_symlinks=False) for e in entries], folder, rel, checker, leftovers)
        stats = []
        for i in keep:
            st = entries[i].stat(follow_symlinks=False)
            stats.append((names[i], st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode, st.st_nlink))
        _add_files(stats, folder, rel, files, fd)
    except OSError as exc:
        raise from_os_error(exc, "reading") from exc
    return subdirs


def _walk_listing(
    got: Listing, folder: str, rel: str, checker: IgnoreChecker, leftovers: list[str] | None, files: list[FileStat]
) -> list[tuple[str, str]]:
    """``_walk_fd`` on a folder the prefetch helper has already listed and stat-ed."""
    names, kinds, packed = got
    subdirs, keep = _sort_names(names, kinds, folder, rel, checker, leftovers)
    stats = [(names[i], *ENTRY.unpack_from(packed, i * ENTRY.size)) for i in keep]
    try:
        _add_files(stats, folder, rel, files, None)
    except OSError as exc:
        raise from_os_error(exc, "reading") from exc
    return subdirs


def _sort_names(
    names: list[str], is_dir: Sequence[object], folder: str, rel: str, checker: IgnoreChecker,
    leftovers: list[str] | None,
) -> tuple[list[tuple[str, str]], list[int]]:
    """A folder's sub-folders to walk, and the positions of the names that may be files to track
    (not ignored, not labvault's temp files: those go to ``leftovers``)."""
    base = folder + "/"
    check = checker.active
    subdirs: list[tuple[str, str]] = []
    keep: list[int] = []
    for i, name in enumerate(names):
        if name == DVCIGNORE:
            raise PathError(f"{base + name} is inside a tracked folder", "move its patterns to a .dvcignore above the folder")
        if is_dir[i]:
            if not (name in ALWAYS_IGNORED or (check and checker(rel + name, True, False))):
                subdirs.append((base + name, rel + name + "/"))
        elif name[0] == "." and is_exact_tmp_name(name):
            if not drop_if_stale(base + name) and leftovers is not None:
                leftovers.append(base + name)
        elif not (check and checker(rel + name, False, False)):
            keep.append(i)
    return subdirs, keep


def _add_files(
    stats: list[tuple[str, int, int, int, int, int]], folder: str, rel: str, files: list[FileStat], fd: int | None
) -> None:
    """Append the regular files among ``stats`` (name, inode, mtime_ns, size, mode, links: an
    lstat), and symlinks to regular files with their target's stat."""
    base = folder + "/"
    append = files.append
    for name, ino, mtime, size, mode, nlink in stats:
        if statmod.S_ISREG(mode):
            append((rel + name, base + name, ino, mtime, size, mode, nlink, False))
        elif statmod.S_ISLNK(mode):
            try:
                st = os.stat(name, dir_fd=fd) if fd is not None else os.stat(base + name)
            except FileNotFoundError:
                raise PathError(f"{base + name} is a broken symlink", "fix or delete it") from None
            if statmod.S_ISREG(st.st_mode):
                append((rel + name, base + name, st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode, st.st_nlink, True))
