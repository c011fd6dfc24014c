"""Reading a remote's objects back: each object's bytes hashed and compared with its name.

``list_objects`` asks the remote what it holds (DVC 3's ``files/md5/XX/REST`` and 2.x's
``XX/REST``); ``read_back`` downloads each object given (a folder remote: reads it in place),
hashes every byte (a DVC 2.x object as DVC 2 named it), and says per object: ok, ``corrupt`` (the md5 of the bytes is not the name),
``missing`` (gone since it was listed) or ``unreadable`` (an error reading it). Nothing is
trusted: no stat cache, no size shortcut.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from labvault.core.hashing import legacy_md5_bytes, md5_bytes, md5_file
from labvault.core.tree import OID, Tree
from labvault.errors import ManifestError
from labvault.progress import NULL_PROGRESS, Progress
from labvault.remotes.base import Backend
from labvault.remotes.local import LocalBackend
from labvault.remotes.store import Ref, key_of, ref_of


@dataclass(frozen=True)
class ObjectCheck:
    ref: Ref
    size: int
    problem: str | None  # None (ok), corrupt, missing, unreadable
    detail: str | None


def list_objects(backend: Backend) -> dict[Ref, int]:
    """Every object on the remote with its size."""
    out: dict[Ref, int] = {}
    for key, size in backend.walk(""):
        ref = ref_of(key)
        if ref is not None and OID.fullmatch(ref[0]):
            out[ref] = size
    return out


def read_back(backend: Backend, items: Sequence[tuple[Ref, int]], jobs: int = 4,
              deadline: float | None = None, progress: Progress = NULL_PROGRESS) -> list[ObjectCheck]:
    """Hash each of ``items`` (ref, listed size) as stored; objects not started before ``deadline``
    (``time.monotonic()``) are left out of the result."""
    task = progress.task("verifying objects", total=len(items), total_bytes=sum(s for _, s in items))
    local_root = backend.root if isinstance(backend, LocalBackend) else None

    with tempfile.TemporaryDirectory(prefix="labvault-verify-") as tmp:
        def one(i: int) -> ObjectCheck | None:
            ref, size = items[i]
            if deadline is not None and time.monotonic() >= deadline:
                return None
            try:
                check = _check(backend, local_root, tmp, i, ref, size)
            finally:
                task.advance(1, size)
            return check

        try:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                results = list(pool.map(one, range(len(items))))
        finally:
            task.close()
    return [r for r in results if r is not None]


def _check(backend: Backend, local_root: str | None, tmp: str, i: int, ref: Ref, size: int) -> ObjectCheck:
    oid, legacy = ref
    want = oid.removesuffix(".dir")
    key = key_of(oid, legacy)
    try:
        if local_root is not None:
            path = os.path.join(local_root, key)
            digest, got = _hash(path, oid, legacy) if legacy else md5_file(path), os.path.getsize(path)
        else:
            local = os.path.join(tmp, str(i))
            try:
                digest, got = backend.get_hashed(key, local)
                if legacy:
                    digest = _hash(local, oid, legacy)
            finally:
                if os.path.lexists(local):
                    os.chmod(local, 0o600)
                    os.unlink(local)
    except FileNotFoundError:
        return ObjectCheck(ref, size, "missing", "gone from the remote since it was listed")
    except OSError as e:
        return ObjectCheck(ref, size, "unreadable", f"{type(e).__name__}: {e}")
    if digest != want:
        return ObjectCheck(ref, got, "corrupt", f"its bytes hash to {digest} ({got} bytes)")
    return ObjectCheck(ref, got, None, None)


def _hash(path: str, oid: str, legacy: bool) -> str:
    """DVC 2.x objects are named by its md5, which reads text files with CRLF as LF."""
    if oid.endswith(".dir"):
        with open(path, "rb") as f:
            data = f.read()
        return legacy_md5_bytes(data) if legacy else md5_bytes(data)
    return md5_file(path, legacy=legacy)


def fetch_tree(backend: Backend, oid: str, legacy: bool) -> Tree | None:
    """The ``.dir`` manifest ``oid`` as the remote holds it, if its bytes match its name and parse
    as a safe manifest; else None."""
    with tempfile.TemporaryDirectory(prefix="labvault-verify-") as tmp:
        local = os.path.join(tmp, "manifest")
        try:
            backend.get_hashed(key_of(oid, legacy), local)
            digest = _hash(local, oid, legacy)
            with open(local, "rb") as f:
                data = f.read()
        except OSError:
            return None
        finally:
            if os.path.lexists(local):
                os.chmod(local, 0o600)
    if digest + ".dir" != oid:
        return None
    try:
        return Tree.parse(data, f"manifest {oid} on the remote")
    except ManifestError:
        return None
