"""A backup target: a folder or a bucket prefix holding objects and snapshots.

::

    <target>/files/md5/XX/REST        objects, named by the md5 of their bytes (a DVC remote's layout)
    <target>/snapshots/<id>.json      one per snapshot, written last
    <target>/locks/                   the target lock (``lock.py``)

Objects are written whole or not at all: on a folder, at a temp name in their fan-out folder
(``.REST.<pid>-<host><random>.lvtmp``, the remotes' leftover rules apply) then renamed, and the
target's file system is flushed once (``syncfs``) before any snapshot naming them is written; on
object storage, by a single PUT (or a multipart upload completed at the end) of a local staging
copy. The bytes sent are hashed as they are read, and the object is named by that hash, so an
object's name always matches its content even when the source changed after it was first hashed.

A bucket target with a ``storage_class`` (``coldstore.py``): on S3 the file objects are sent in
that class (with ``Content-MD5``, ``labvault.remotes.archive``); manifests (``put_bytes``),
snapshot files and locks always go in the bucket's default class, so that listing, forget plans
and ``check`` without ``--read-data`` never need a restore.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

from labvault.backup.lock import Held, target_lock
from labvault.core.hashing import md5
from labvault.errors import RemoteError, from_os_error
from labvault.fsutil import atomic_write_bytes, syncfs
from labvault.progress import NULL_PROGRESS, Progress
from labvault.remotes import archive
from labvault.remotes.base import OBJECT_MODE, Backend
from labvault.remotes.classes import canonical_class
from labvault.remotes.leftovers import tmp_name
from labvault.remotes.local import LocalBackend
from labvault.remotes.registry import open_backend
from labvault.remotes.store import RemoteStore, key_of

BLOCK = 4 << 20
SMALL_OBJECT = 8 << 20  # restored from a folder target by one read


class Stored(NamedTuple):
    """A small file stored by ``Target.store_small``: the md5 and size of the bytes read, whether an
    object was written (else one of that name and size was there), the file's stat after the read."""

    md5: str
    size: int
    written: bool
    stat: os.stat_result


def snapshot_key(sid: str) -> str:
    return f"snapshots/{sid}.json"


class Target:
    def __init__(self, url: str, options: dict[str, str] | None = None, jobs: int = 8,
                 storage_class: str | None = None) -> None:
        self.url = url
        self.backend: Backend = open_backend(url, options or {})
        self.local_root: str | None = self.backend.root if isinstance(self.backend, LocalBackend) else None
        self.jobs = jobs
        self.scheme = url.split("://", 1)[0] if "://" in url else "file"
        self.storage_class = canonical_class(storage_class, self.scheme) if storage_class else None
        self.fs, self.root = archive.filesystem(self.backend)
        self.s3 = archive.is_s3(self.fs)
        self._folders: set[str] = set()  # fan-out folders known to exist (folder targets)
        self._new_folders: set[str] = set()  # of those, made by this Target: they hold only what it wrote
        self._written: set[str] = set()  # objects this Target wrote into new folders
        # objects a store_small of this lock holding has taken on (written, being written, or found
        # there): a second thread with the same content does not write it again nor count it added
        self._claimed: set[str] = set()
        self._claim_lock = threading.Lock()

    def describe(self) -> str:
        return self.backend.describe()

    @contextmanager
    def lock(self, what: str, progress: Progress = NULL_PROGRESS) -> Iterator[Held]:
        self.backend.check_writable_root()
        with target_lock(self.backend, self.local_root, what, progress) as held:
            self._new_folders.clear()  # others may have written or pruned while it was not held
            self._written.clear()
            with self._claim_lock:
                self._claimed.clear()
            yield held

    # --- objects --------------------------------------------------------------------------------
    def present(self, oids: Iterable[str]) -> dict[str, int]:
        """The objects among ``oids`` the target holds now, with their sizes (asked, never remembered)."""
        store = RemoteStore(self.url, self.backend, self.jobs)
        return {oid: size for (oid, _legacy), size in store.sizes((o, False) for o in oids).items()}

    def all_objects(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for key, size in self.backend.walk("files/md5"):
            parts = key.split("/")
            if len(parts) == 4 and len(parts[2]) == 2 and len(parts[3]) == 30:
                out[parts[2] + parts[3]] = size
        return out

    def put_file(self, path: str) -> tuple[str, int]:
        """Send the file at ``path`` as an object named by the md5 of the bytes read; (md5, size)."""
        if self.local_root is not None:
            return self._put_local(path)
        with tempfile.TemporaryDirectory(prefix="labvault-backup-") as tmp:
            staged = os.path.join(tmp, "object")
            with open(path, "rb") as src, open(staged, "wb") as dst:
                digest, size = _copy_hashed(src.fileno(), dst.fileno())
            if self.s3 and self.storage_class:
                archive.put(self.fs, *archive.split(self.root, key_of(digest)), staged, size, self.storage_class)
            else:
                self.backend.put_file(staged, key_of(digest))
        return digest, size

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store ``data`` (a manifest) as an object in the target's default class."""
        digest = md5(data).hexdigest()
        if self.local_root is not None:
            self._write_local(data, digest, fsync=True)
            return digest, len(data)
        with tempfile.TemporaryDirectory(prefix="labvault-backup-") as tmp:
            staged = os.path.join(tmp, "object")
            with open(staged, "wb") as f:
                f.write(data)
            self.backend.put_file(staged, key_of(digest))
        return digest, len(data)

    def store_small(self, path: str, size_hint: int = 0) -> Stored:
        """A folder target only: read the file at ``path`` whole, hash it, and write it as an object
        unless one of that name and size is there. One read of the source (the object is flushed by
        ``sync()``, with all the others). ``size_hint`` (the size the walk saw) only sizes the read:
        the bytes read are what is hashed and stored, whatever their length. In a fan-out folder
        this Target made while holding the lock (a first backup), what is there is what it wrote:
        no ``stat`` is asked."""
        data, st = _read_whole(path, size_hint)
        digest = md5(data).hexdigest()
        assert self.local_root is not None
        final = os.path.join(self.local_root, key_of(digest))
        with self._claim_lock:  # the same content on two threads at once: one writes, one counts
            if digest in self._claimed:
                return Stored(digest, len(data), False, st)
            self._claimed.add(digest)
        try:
            if os.path.dirname(final) in self._new_folders:  # only this Target wrote there: no stat
                if digest in self._written:
                    return Stored(digest, len(data), False, st)
            else:
                try:
                    if os.stat(final).st_size == len(data):
                        return Stored(digest, len(data), False, st)
                except FileNotFoundError:
                    pass
            self._write_local(data, digest, fsync=False)
        except BaseException:
            with self._claim_lock:
                self._claimed.discard(digest)
            raise
        return Stored(digest, len(data), True, st)

    def _write_local(self, data: bytes, digest: str, fsync: bool) -> None:
        assert self.local_root is not None
        final = os.path.join(self.local_root, key_of(digest))
        folder = os.path.dirname(final)
        if folder not in self._folders:  # each fan-out folder is made (or found) once per Target
            parent = os.path.dirname(folder)
            if parent not in self._folders:
                os.makedirs(parent, exist_ok=True)
                self._folders.add(parent)
            try:
                os.mkdir(folder)
                self._new_folders.add(folder)
            except FileExistsError:
                pass
            self._folders.add(folder)
        tmp = tmp_name(final)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, OBJECT_MODE)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                if fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
            if folder in self._new_folders:
                self._written.add(digest)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def _put_local(self, path: str) -> tuple[str, int]:
        assert self.local_root is not None
        scratch = os.path.join(self.local_root, "files", "md5", "incoming")
        os.makedirs(scratch, exist_ok=True)
        tmp = tmp_name(os.path.join(scratch, "object"))
        try:
            sfd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                dfd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, OBJECT_MODE)
                try:
                    digest, size = _copy_hashed(sfd, dfd)
                finally:
                    os.close(dfd)
            finally:
                os.close(sfd)
            final = os.path.join(self.local_root, key_of(digest))
            os.makedirs(os.path.dirname(final), exist_ok=True)
            os.replace(tmp, final)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return digest, size

    def read_object(self, oid: str) -> bytes:
        if self.local_root is not None:
            with open(os.path.join(self.local_root, key_of(oid)), "rb") as f:
                return f.read()
        with tempfile.TemporaryDirectory(prefix="labvault-backup-") as tmp:
            local = os.path.join(tmp, "object")
            self.backend.get_file(key_of(oid), local)
            with open(local, "rb") as f:
                return f.read()

    def read_small_object(self, oid: str, size: int) -> bytes | None:
        """The bytes of object ``oid`` of a folder target when the manifest says it holds ``size``
        bytes, at most 8 MiB (whatever length it really has: the caller checks md5 and size); None for
        larger objects and object storage (use ``fetch_hashed``). FileNotFoundError when missing."""
        if self.local_root is None or size > SMALL_OBJECT:
            return None
        return _read_whole(os.path.join(self.local_root, key_of(oid)), size)[0]

    def fetch_hashed(self, oid: str, local: str) -> tuple[str, int]:
        """Download object ``oid`` to the new read-only file ``local``; md5 and size of what was written."""
        return self.backend.get_hashed(key_of(oid), local)

    def delete_object(self, oid: str) -> None:
        self._written.discard(oid)
        with self._claim_lock:
            self._claimed.discard(oid)
        self.backend.delete(key_of(oid))

    def sync(self) -> None:
        """Make every object written so far durable (a folder: one syncfs of its file system)."""
        if self.local_root is not None:
            syncfs(self.local_root)

    def clean_leftovers(self, now: float) -> int:
        """Temp files of killed writers (folder targets; the remotes' staleness rules)."""
        if self.local_root is None:
            return 0
        base = os.path.join(self.local_root, "files", "md5")
        try:
            prefixes = ["files/md5/" + p for p in os.listdir(base)]
        except FileNotFoundError:
            return 0
        return self.backend.clean_leftovers(prefixes, now)

    # --- snapshots ------------------------------------------------------------------------------
    def snapshot_ids(self) -> list[str]:
        from labvault.backup.manifest import is_id

        try:
            keys = [k for k, _ in self.backend.walk("snapshots")]
        except FileNotFoundError:
            return []
        ids = [k.rsplit("/", 1)[-1][: -len(".json")] for k in keys if k.endswith(".json")]
        return sorted(i for i in ids if is_id(i))

    def read_snapshot_bytes(self, sid: str) -> bytes:
        if self.local_root is not None:
            with open(os.path.join(self.local_root, snapshot_key(sid)), "rb") as f:
                return f.read()
        with tempfile.TemporaryDirectory(prefix="labvault-backup-") as tmp:
            local = os.path.join(tmp, "snap.json")
            self.backend.get_file(snapshot_key(sid), local)
            with open(local, "rb") as f:
                return f.read()

    def write_snapshot(self, sid: str, data: bytes) -> None:
        """Atomically, after every object it names is durable (the caller's ``sync()``)."""
        if self.local_root is not None:
            os.makedirs(os.path.join(self.local_root, "snapshots"), exist_ok=True)
            atomic_write_bytes(os.path.join(self.local_root, snapshot_key(sid)), data)
            return
        with tempfile.TemporaryDirectory(prefix="labvault-backup-") as tmp:
            staged = os.path.join(tmp, "snap.json")
            with open(staged, "wb") as f:
                f.write(data)
            self.backend.put_file(staged, snapshot_key(sid))

    def delete_snapshot(self, sid: str) -> None:
        self.backend.delete(snapshot_key(sid))

    def close(self) -> None:
        self.backend.close()


def _read_whole(path: str, size_hint: int) -> tuple[bytes, os.stat_result]:
    """All the bytes of the file at ``path``, and its stat taken on the open file after reading
    them. One ``read`` when it is still ``size_hint`` bytes long (a read of one byte more that comes
    back short has met the end), else reads to the end."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, size_hint + 1)
        if len(data) != size_hint:
            parts = [data]
            while chunk := os.read(fd, BLOCK):
                parts.append(chunk)
            data = b"".join(parts)
        return data, os.fstat(fd)
    finally:
        os.close(fd)


def _copy_hashed(sfd: int, dfd: int) -> tuple[str, int]:
    h = md5()
    size = 0
    while chunk := os.read(sfd, BLOCK):
        h.update(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(dfd, view):]
        size += len(chunk)
    return h.hexdigest(), size


def open_target(url: str, options: dict[str, str] | None = None) -> Target:
    try:
        return Target(url, options)
    except OSError as exc:
        raise from_os_error(exc, "opening the backup target") from exc
    except RemoteError:
        raise
