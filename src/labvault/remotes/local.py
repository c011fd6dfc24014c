"""Local folders and NFS mounts, with plain system calls (no fsspec overhead on the hot path)."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from labvault.core.copyhash import (
    SourceChanged,
    buffered_copy_and_hash,
    copy_and_hash,
    copy_and_hash_to,
)
from labvault.core.hashing import md5_bytes, md5_fd
from labvault.core.links import copy_file
from labvault.errors import RemoteError
from labvault.fsutil import is_tmp_name, syncfs, unlink_quietly
from labvault.remotes.base import OBJECT_MODE, READ_BLOCK, Backend, ByteCallback, Entry
from labvault.remotes.leftovers import remove_stale, tmp_name

SMALL = 8 << 20  # read whole, hash, write; larger objects are copied in the kernel while hashed
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


class LocalBackend(Backend):
    scheme = "file"
    cheap_lookups = True

    def __init__(self, url: str, link_objects: bool = False) -> None:
        """``link_objects``: share read-only objects with the cache by hard links instead of
        copying them, when both are on one file system (the remote option ``type`` names
        ``hardlink``; see docs/design.md, Remotes)."""
        path = url[len("file://") :] if url.startswith("file://") else url
        self.root = os.path.abspath(os.path.expanduser(path))
        super().__init__(self.root)
        self._made: set[str] = set()
        self.link_objects = link_objects

    def _p(self, key: str) -> str:
        return os.path.join(self.root, key) if key else self.root

    def exists(self, key: str) -> bool:
        return os.path.exists(self._p(key))

    def open_read(self, key: str) -> BinaryIO:
        path = self._p(key)
        try:
            f = open(path, "rb")  # noqa: SIM115 - the caller closes it
        except (NotADirectoryError, IsADirectoryError):
            raise FileNotFoundError(errno.ENOENT, "no such object", path) from None
        return f

    def size(self, key: str) -> int:
        path = self._p(key)
        try:
            st = os.stat(path)
        except NotADirectoryError:
            raise FileNotFoundError(errno.ENOENT, "no such object", path) from None
        if not stat.S_ISREG(st.st_mode):
            raise FileNotFoundError(errno.ENOENT, "not a file", path)
        return st.st_size

    def walk(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        top = self._p(prefix)
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                it = os.scandir(folder)
            except (FileNotFoundError, NotADirectoryError):
                continue
            with it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                    elif not is_tmp_name(e.name) and e.is_file():
                        try:
                            size = e.stat().st_size
                        except FileNotFoundError:
                            continue  # vanished, or a broken link: not an object
                        rel = os.path.relpath(e.path, self.root).replace(os.sep, "/")
                        yield rel, size

    def ls(self, prefix: str = "") -> list[Entry]:
        top = self._p(prefix)
        if os.path.isfile(top):
            return [Entry(os.path.basename(top), os.path.getsize(top), False)]
        try:
            with os.scandir(top) as it:
                entries = [
                    Entry(e.name, 0 if e.is_dir() else e.stat().st_size, e.is_dir())
                    for e in it
                    if not is_tmp_name(e.name)
                ]
        except FileNotFoundError:
            raise RemoteError(f"{self.describe(prefix)} does not exist", "check the path") from None
        return sorted(entries, key=lambda e: e.name)

    def _mkdir(self, folder: str) -> None:
        if folder in self._made:
            return
        os.makedirs(folder, exist_ok=True)
        self._made.add(folder)

    def put_file(self, local: str, key: str, callback: ByteCallback | None = None) -> None:
        dst = self._p(key)
        self._mkdir(os.path.dirname(dst))
        tmp = tmp_name(dst)
        try:
            if not (self.link_objects and _link_read_only(local, tmp)):
                copy_file(local, tmp, 0o444)
            os.replace(tmp, dst)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        self._wrote = True
        if callback:
            callback(os.path.getsize(dst))

    def sync(self) -> None:
        """One syncfs of the remote folder's file system after uploads (not an fsync per object):
        the cache keeps its copy until then, and a push returns only after it."""
        if getattr(self, "_wrote", False):
            syncfs(self.root)
            self._wrote = False

    def get_file(self, key: str, local: str, callback: ByteCallback | None = None) -> None:
        copy_file(self._p(key), local)
        if callback:
            callback(os.path.getsize(local))

    def get_hashed(self, key: str, local: str, callback: ByteCallback | None = None) -> tuple[str, int]:
        """One pass: the bytes read are hashed and written (small objects), or copied in the
        kernel while a second thread hashes the source (large ones; the source's inode, size and
        times must not change meanwhile, else the copy is redone by hashing what is written)."""
        sfd = os.open(self._p(key), os.O_RDONLY | os.O_CLOEXEC)
        try:
            st = os.fstat(sfd)
            if self.link_objects and _linkable(st):
                linked = _hash_and_link(sfd, st, local)
                if linked is not None:
                    return linked
                os.lseek(sfd, 0, os.SEEK_SET)
            if st.st_size <= SMALL:
                data = _read_small(sfd, st.st_size)
                dfd = os.open(local, _NEW, OBJECT_MODE)
                try:
                    _write_all(dfd, data)
                finally:
                    os.close(dfd)
                return md5_bytes(data), len(data)
            dfd = os.open(local, _NEW, OBJECT_MODE)
            try:
                try:
                    # pages kept (no drop_behind): a pull's checkout reads the object right after
                    return copy_and_hash(sfd, dfd, expect=st)
                except SourceChanged:
                    # the remote object changed under us: hash exactly the bytes written instead
                    os.ftruncate(dfd, 0)
                    return buffered_copy_and_hash(sfd, dfd)
            finally:
                os.close(dfd)
        finally:
            os.close(sfd)

    def get_hashed_copies(self, key: str, local: str, copies: Sequence[str]) -> tuple[str, int, list[str]]:
        """:meth:`get_hashed`, also copying the object to each new file of ``copies`` (mode 0644
        less the umask) in the same pass over it; returns (md5, size, the copies made whole). The
        others are deleted here; those made are the caller's to delete if the md5 is wrong. Small
        objects, objects the cache would link to (``link_objects``) and an object that changed
        while it was read are fetched as by :meth:`get_hashed`, without copies."""
        st = os.stat(self._p(key))
        if st.st_size <= SMALL or (self.link_objects and _linkable(st)) or not copies:
            return (*self.get_hashed(key, local), [])
        sfd = os.open(self._p(key), os.O_RDONLY | os.O_CLOEXEC)
        made: list[str] = []  # the copies created here: only those are deleted here
        fds: list[int] = []
        ok: list[bool] = []
        try:
            for path in copies:
                try:
                    fds.append(os.open(path, _NEW, 0o644))
                except OSError:
                    continue  # best effort: that file is checked out from the cache as usual
                made.append(path)
            dfd = os.open(local, _NEW, OBJECT_MODE)
            try:
                digest, size, ok = copy_and_hash_to(sfd, dfd, fds, expect=os.fstat(sfd))
            finally:
                os.close(dfd)
        except SourceChanged:
            unlink_quietly(local)
            return (*self.get_hashed(key, local), [])
        finally:
            os.close(sfd)
            for fd in fds:
                os.close(fd)
            for path, good in zip(made, ok + [False] * (len(made) - len(ok)), strict=True):
                if not good:
                    unlink_quietly(path)
        return digest, size, [path for path, good in zip(made, ok, strict=True) if good]

    def delete(self, key: str) -> None:
        try:
            os.unlink(self._p(key))
        except FileNotFoundError:
            pass

    def _root_problem(self) -> RemoteError | None:
        """Why the root cannot be (or become) the remote's folder; None when it can."""
        if os.path.isdir(self.root):
            return None
        fix = "point the remote at a folder with `labvault remote modify NAME url PATH`"
        if os.path.lexists(self.root):
            return RemoteError(f"remote url {self.root} names a file, not a folder", fix)
        parent = os.path.dirname(self.root)
        if os.path.isdir(parent):
            return None
        if os.path.lexists(parent):
            return RemoteError(f"remote url {self.root} lies inside {parent}, which is a file", fix)
        return RemoteError(
            f"remote folder {self.root} does not exist and neither does its parent",
            "create it, or fix the remote's url with `labvault remote modify`",
        )

    def check_readable_root(self) -> None:
        problem = self._root_problem()
        if problem is not None:
            raise problem

    def check_writable_root(self) -> None:
        self.check_readable_root()
        try:
            os.makedirs(self.root, exist_ok=True)
        except OSError as exc:
            raise RemoteError(f"cannot create remote folder {self.root}: {exc.strerror or exc}") from None
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise RemoteError(
                f"cannot write to remote folder {self.root}: permission denied",
                "check its owner and mode, or use a remote you may write to",
            )

    def clean_leftovers(self, prefixes: list[str], now: float) -> int:
        return sum(remove_stale(self._p(prefix), now) for prefix in prefixes)


def _read_small(fd: int, size: int) -> bytes:
    data = os.read(fd, size + 1)
    if len(data) == size:
        return data  # a short read of a regular file: the end was reached
    parts = [data]
    while True:  # the file changed size since fstat: read to the end; the hash will judge
        more = os.read(fd, READ_BLOCK)
        if not more:
            return b"".join(parts)
        parts.append(more)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _same_version(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_ino, a.st_dev, a.st_size, a.st_mtime_ns, a.st_ctime_ns) == (
        b.st_ino, b.st_dev, b.st_size, b.st_mtime_ns, b.st_ctime_ns
    )


def _linkable(st: os.stat_result) -> bool:
    """Only a read-only regular file may be shared with the cache as is."""
    return stat.S_ISREG(st.st_mode) and not st.st_mode & 0o222


def _hash_and_link(sfd: int, before: os.stat_result, local: str) -> tuple[str, int] | None:
    """Hash the object through ``sfd`` by reading only, then give that very inode the name
    ``local`` (linkat through /proc/self/fd: no path lookup that a rename could redirect). None,
    with nothing left at ``local``, when linking is impossible here or the file changed."""
    digest, size = md5_fd(sfd, READ_BLOCK)
    try:
        # An explicit directory fd makes CPython call linkat(AT_SYMLINK_FOLLOW) (plain link()
        # would try to link the /proc symlink itself); the absolute paths ignore it.
        os.link(f"/proc/self/fd/{sfd}", local, src_dir_fd=_root_fd(), follow_symlinks=True)
    except OSError:
        return None
    after = os.fstat(sfd)
    if size != before.st_size or (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        os.unlink(local)
        return None
    return digest, size


_ROOT_FD: list[int] = []


def _root_fd() -> int:
    if not _ROOT_FD:
        _ROOT_FD.append(os.open("/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
    return _ROOT_FD[0]


def _link_read_only(src: str, dst: str) -> bool:
    """Hard-link ``src`` (a cache object) as ``dst`` when it is a read-only regular file on the
    same file system; False (nothing made) otherwise."""
    try:
        if not _linkable(os.stat(src)):
            return False
        os.link(src, dst)
    except OSError:
        return False
    return True
