"""Moving a unit's bytes to and from a bucket tier (the copy steps of the mover for URL tiers).

:func:`send_unit` walks the source (a file, or a folder with files, folders and symlinks), hashes
each file as it is read and sends it as ``files/md5/XX/REST`` (:class:`TierObjects`); it returns
the unit's :class:`Manifest`. :func:`check_sent` then confirms every object is on the tier intact
and that the manifest's DVC hash is the catalog's content hash (the source did not change since
the scan) before the manifest is written and the catalog switched.

:func:`fetch_unit` rebuilds a unit from its manifest at a new local path: every object is
downloaded and its md5 checked as it is written, each file gets its mode and mtime, folders and
symlinks are remade, and everything is fsynced; the mover then re-reads the copy from disk
(``hash_copy``) as it does for a local move.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

from labvault.core.hashing import md5_fd
from labvault.core.tree import Tree
from labvault.errors import StorageError
from labvault.fsutil import fsync_dir
from labvault.tiers.bucket import FileEntry, Manifest
from labvault.tiers.copy import SpecialFileError
from labvault.tiers.objects import TierObjects


def _file_md5(path: str) -> tuple[str, int]:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return md5_fd(fd)
    finally:
        os.close(fd)


def send_unit(src: str, store: TierObjects, advance: Callable[[int], None]) -> Manifest:
    """Send every file of ``src``; the manifest of what was sent (content_hash from the bytes read)."""
    st = os.lstat(src)
    if stat.S_ISREG(st.st_mode):
        digest, size = _file_md5(src)
        store.put(src, digest, size)
        advance(size)
        entry = FileEntry("", digest, size, stat.S_IMODE(st.st_mode), st.st_mtime_ns)
        return Manifest(digest, False, (entry,), storage_class=store.tier.storage_class)
    if not stat.S_ISDIR(st.st_mode):
        raise SpecialFileError(0, "a unit must be a regular file or a folder", src)
    files: list[FileEntry] = []
    dirs: list[tuple[str, int, int]] = [("", stat.S_IMODE(st.st_mode), st.st_mtime_ns)]
    links: list[tuple[str, str]] = []
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        with os.scandir(os.path.join(src, rel_dir) if rel_dir else src) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
            s = e.stat(follow_symlinks=False)
            if stat.S_ISDIR(s.st_mode):
                dirs.append((rel, stat.S_IMODE(s.st_mode), s.st_mtime_ns))
                stack.append(rel)
            elif stat.S_ISREG(s.st_mode):
                digest, size = _file_md5(e.path)
                store.put(e.path, digest, size)
                advance(size)
                files.append(FileEntry(rel, digest, size, stat.S_IMODE(s.st_mode), s.st_mtime_ns))
            elif stat.S_ISLNK(s.st_mode):
                links.append((rel, os.readlink(e.path)))
            else:
                raise SpecialFileError(0, "a unit may hold only files, folders and symlinks", e.path)
    oid = Tree.from_pairs((f.relpath, f.md5) for f in files).oid()
    return Manifest(oid, True, tuple(sorted(files, key=lambda f: f.relpath)), tuple(sorted(dirs)),
                    tuple(sorted(links)), store.tier.storage_class)


def check_sent(src: str, store: TierObjects, manifest: Manifest, content_hash: str, ref: str) -> None:
    """Raise StorageError unless the manifest hashes to ``content_hash`` and every object is on
    the tier intact (S3: size, class and ETag from a HEAD; see :mod:`labvault.tiers.objects`)."""
    if manifest.content_hash != content_hash:
        raise StorageError(f"{ref} does not match its content hash (the source changed since the last scan); "
                           "source kept", "run `labvault lab scan`, then move it again")
    for f in manifest.files:
        local = os.path.join(src, f.relpath) if f.relpath else src
        if not store.intact(f.md5, f.size, local):
            raise StorageError(f"object {f.md5} of {ref} is not intact on tier {store.tier.name} after sending; "
                               "source kept", "retry the move")


def fetch_unit(store: TierObjects, manifest: Manifest, dst: str, advance: Callable[[int], None]) -> None:
    """Rebuild the unit at the new path ``dst`` (all fsynced on return). Raises StorageError for
    an object whose bytes are not its md5, OSError for local failures, FileNotFoundError for an
    object missing on the tier; the caller removes the partial copy."""
    if not manifest.is_dir:
        _fetch_file(store, manifest.files[0], dst)
        advance(manifest.files[0].size)
        fsync_dir(os.path.dirname(dst))
        return
    os.mkdir(dst, 0o700)
    for rel, _mode, _mtime in manifest.dirs:
        if rel:
            os.makedirs(os.path.join(dst, rel), 0o700, exist_ok=True)
    for f in manifest.files:
        path = os.path.join(dst, f.relpath)
        os.makedirs(os.path.dirname(path), 0o700, exist_ok=True)
        _fetch_file(store, f, path)
        advance(f.size)
    for rel, target in manifest.links:
        path = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(path), 0o700, exist_ok=True)
        os.symlink(target, path)
    for rel, mode, mtime_ns in sorted(manifest.dirs, key=lambda d: -d[0].count("/") - (1 if d[0] else 0)):
        path = os.path.join(dst, rel) if rel else dst
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(path, mode)
        os.utime(path, ns=(mtime_ns, mtime_ns))
    fsync_dir(os.path.dirname(dst))


def _fetch_file(store: TierObjects, f: FileEntry, path: str) -> None:
    digest, size = store.get(f.md5, path)
    if digest != f.md5 or size != f.size:
        raise StorageError(f"object {f.md5} on tier {store.tier.name} holds other bytes ({size} bytes, md5 {digest})",
                           "the tier's copy is damaged; restore the unit from another copy")
    os.chmod(path, 0o600)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, f.mode)
    os.utime(path, ns=(f.mtime_ns, f.mtime_ns))
