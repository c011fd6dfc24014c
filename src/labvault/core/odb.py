"""The object store: ``<cache>/files/md5/XX/YYYY...`` (DVC 3.x) and ``<cache>/XX/YYYY...`` (2.x).

Objects are written once, at a temp name carrying the writer's pid, and renamed into place only
when complete; they are read-only (0444). An object's name is its content's md5, so a rename race
between two writers is harmless: both hold the same bytes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from labvault.core.copyhash import SourceChanged, copy_and_hash
from labvault.core.hashing import legacy_md5_bytes, md5, md5_fd, md5_file
from labvault.core.links import FICLONE
from labvault.core.tree import DIR_SUFFIX, Tree, is_dir_oid, manifest_text
from labvault.errors import CacheError, ManifestError, from_os_error
from labvault.fsutil import syncfs, tmp_owner_alive, unlink_quietly

HEX = "0123456789abcdef"
OBJ_MODE = 0o444
SMALL = 8 << 20
TMP_MARK = ".lvtmp"


@dataclass(frozen=True)
class StoredObject:
    oid: str
    path: str
    legacy: bool
    size: int


def _valid_oid(oid: str) -> bool:
    body = oid[: -len(DIR_SUFFIX)] if oid.endswith(DIR_SUFFIX) else oid
    return len(body) == 32 and all(c in HEX for c in body)


def temp_owner_alive(name: str) -> bool:
    return tmp_owner_alive(name)


class ObjectStore:
    def __init__(self, cache_dir: str | os.PathLike[str]) -> None:
        self.cache_dir = os.path.abspath(os.fspath(cache_dir))
        self.root = os.path.join(self.cache_dir, "files", "md5")
        self._fanout_ready = False
        self._lock = threading.Lock()
        self._trees: dict[tuple[str, bool], Tree] = {}
        self.wrote = False

    # --- paths -------------------------------------------------------------------------------
    def oid_path(self, oid: str, legacy: bool = False) -> str:
        base = self.cache_dir if legacy else self.root
        return f"{base}/{oid[:2]}/{oid[2:]}"

    def exists(self, oid: str, legacy: bool = False) -> bool:
        return os.path.exists(self.oid_path(oid, legacy))

    def _tmp(self, final: str) -> str:
        head, tail = os.path.split(final)
        return f"{head}/.{tail}.{os.getpid()}-{os.urandom(4).hex()}{TMP_MARK}"

    def ensure_fanout(self) -> None:
        if self._fanout_ready:
            return
        with self._lock:
            if self._fanout_ready:
                return
            try:
                os.makedirs(self.root, exist_ok=True)
                existing = set(os.listdir(self.root))
                for a in HEX:
                    for b in HEX:
                        if a + b not in existing:
                            os.makedirs(f"{self.root}/{a}{b}", exist_ok=True)
            except OSError as exc:
                raise from_os_error(exc, "creating the cache") from exc
            self._fanout_ready = True

    # --- writing -----------------------------------------------------------------------------
    def _commit_tmp(self, tmp: str, final: str) -> None:
        # A concurrent writer may have renamed the same object into place first: both hold the
        # same bytes, so replacing it is harmless and saves a stat per object.
        os.rename(tmp, final)
        self.wrote = True

    def store_bytes(self, data: bytes, oid: str) -> str:
        """Store ``data`` under ``oid`` (the caller computed it), if absent."""
        self.ensure_fanout()
        final = self.oid_path(oid)
        if os.path.exists(final):
            return final
        tmp = self._tmp(final)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OBJ_MODE)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            self._commit_tmp(tmp, final)
        except OSError as exc:
            unlink_quietly(tmp)
            raise from_os_error(exc, "writing cache object") from exc
        return final

    def store_file(self, src: str, adopt: str = "copy") -> tuple[str, int]:
        """Hash ``src`` and store it in one read pass; returns (oid, size).

        ``adopt`` is how the object is made when absent: ``copy`` writes the bytes read while
        hashing; ``hardlink`` or ``reflink`` make the object share ``src``'s data (no copy).
        """
        self.ensure_fanout()
        try:
            fd = os.open(src, os.O_RDONLY)
        except OSError as exc:
            raise from_os_error(exc, "reading") from exc
        try:
            size = os.fstat(fd).st_size
            if adopt != "copy":
                oid = md5_fd(fd)[0]
                self._adopt(src, fd, oid, adopt)
                return oid, size
            if size <= SMALL:
                data = _read_all(fd, size)
                oid = md5(data).hexdigest()
                self.store_bytes(data, oid)
                return oid, len(data)
            return self._store_stream(fd), size
        except OSError as exc:
            raise from_os_error(exc, "storing") from exc
        finally:
            os.close(fd)

    def _store_stream(self, fd: int) -> str:
        """Large files: copied in the kernel while this thread hashes them (see core.copyhash)."""
        tmp = self._tmp(f"{self.root}/00/stream")
        out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OBJ_MODE)
        try:
            try:
                oid, _ = copy_and_hash(fd, out, drop_behind=True)  # the workspace file keeps its pages
            finally:
                os.close(out)
            self._commit_tmp(tmp, self.oid_path(oid))
        except SourceChanged as exc:
            unlink_quietly(tmp)
            raise CacheError(
                "a file changed while it was being added", "wait until it is written completely, then add it again"
            ) from exc
        except BaseException:
            unlink_quietly(tmp)
            raise
        return oid

    def _adopt(self, src: str, fd: int, oid: str, how: str) -> None:
        final = self.oid_path(oid)
        if os.path.exists(final):
            return
        tmp = self._tmp(final)
        try:
            if how == "hardlink":
                os.link(src, tmp)
                os.chmod(tmp, OBJ_MODE)
            else:
                dfd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OBJ_MODE)
                try:
                    import fcntl

                    fcntl.ioctl(dfd, FICLONE, fd)
                finally:
                    os.close(dfd)
            self._commit_tmp(tmp, final)
        except OSError:
            unlink_quietly(tmp)
            raise

    def sync(self) -> None:
        """Flush everything written to the cache's file system (one syncfs, not one fsync per file)."""
        if self.wrote:
            syncfs(self.cache_dir)
        self.wrote = False

    # --- reading -----------------------------------------------------------------------------
    def load_tree(self, oid: str, legacy: bool = False) -> Tree:
        key = (oid, legacy)
        tree = self._trees.get(key)
        if tree is not None:
            return tree
        tree = Tree.parse(self._manifest_text(oid, legacy), where=f"manifest {oid}")
        self._trees[key] = tree
        return tree

    def _manifest_text(self, oid: str, legacy: bool) -> str:
        """The manifest's text; its bytes are dropped on return, before the parse."""
        try:
            with open(self.oid_path(oid, legacy), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise CacheError(
                f"directory manifest {oid} is not in the cache", "fetch it with `labvault pull` or re-add the folder"
            ) from None
        except OSError as exc:
            raise from_os_error(exc, "reading") from exc
        return manifest_text(data, f"manifest {oid}")

    def forget_trees(self) -> None:
        """Drop the manifests kept in memory (a million-file one holds some 150 MB)."""
        self._trees.clear()

    def try_load_tree(self, oid: str, legacy: bool = False) -> Tree | None:
        try:
            return self.load_tree(oid, legacy)
        except (CacheError, ManifestError):
            return None

    def iter_objects(self, with_size: bool = False) -> Iterator[StoredObject]:
        """Every object in both layouts; temp files are not objects."""
        for base, legacy in ((self.root, False), (self.cache_dir, True)):
            try:
                top = os.listdir(base)
            except FileNotFoundError:
                continue
            for prefix in top:
                if len(prefix) != 2 or prefix[0] not in HEX or prefix[1] not in HEX:
                    continue
                try:
                    it = os.scandir(f"{base}/{prefix}")
                except OSError:
                    continue
                with it:
                    for entry in it:
                        name = entry.name
                        if name.startswith(".") or not entry.is_file(follow_symlinks=False):
                            continue
                        oid = prefix + name
                        if not _valid_oid(oid):
                            continue
                        size = entry.stat(follow_symlinks=False).st_size if with_size else 0
                        yield StoredObject(oid, entry.path, legacy, size)

    def iter_temps(self) -> Iterator[str]:
        for base in (self.root, self.cache_dir):
            try:
                top = os.listdir(base)
            except FileNotFoundError:
                continue
            for prefix in top:
                if len(prefix) != 2:
                    continue
                try:
                    names = os.listdir(f"{base}/{prefix}")
                except OSError:
                    continue
                for name in names:
                    if name.endswith(TMP_MARK):
                        yield f"{base}/{prefix}/{name}"

    def check(self, obj: StoredObject) -> bool:
        """Re-hash one object; True when its content matches its name."""
        path = obj.path
        if is_dir_oid(obj.oid):
            with open(path, "rb") as f:
                data = f.read()
            digest = legacy_md5_bytes(data) if obj.legacy else md5(data).hexdigest()
            return digest + DIR_SUFFIX == obj.oid
        return md5_file(path, legacy=obj.legacy) == obj.oid

    def remove(self, path: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise from_os_error(exc, "removing cache object") from exc

    def quarantine(self, obj_path: str) -> str:
        """Move a corrupt object out of the way (kept for inspection, never used again)."""
        qdir = os.path.join(self.cache_dir, "labvault-quarantine")
        os.makedirs(qdir, exist_ok=True)
        dst = os.path.join(qdir, os.path.basename(os.path.dirname(obj_path)) + os.path.basename(obj_path))
        os.replace(obj_path, dst)
        return dst


def _read_all(fd: int, size: int) -> bytes:
    data = os.read(fd, size + 1) if size else b""
    if len(data) <= size:
        more = os.read(fd, 1 << 20)
        if more:
            parts = [data, more]
            while more:
                more = os.read(fd, 1 << 20)
                parts.append(more)
            data = b"".join(parts)
    return data



def cache_dir_for(dvc_dir: Path, configured: str | None) -> Path:
    if not configured:
        return dvc_dir / "cache"
    p = Path(os.path.expanduser(configured))
    return p if p.is_absolute() else (dvc_dir / p).resolve()
