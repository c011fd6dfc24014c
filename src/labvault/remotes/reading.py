"""Reading one object by its oid from the first place that holds it: a cache, then remotes.

Nothing is trusted by its name alone: a file object streams through ``VerifiedReader`` (the md5
is checked as it is read), a ``.dir`` manifest is read whole and checked before it is parsed.
A missing object falls through to the next place; a corrupt one raises (it is never skipped in
silence, since the user would then get another copy without learning that one is damaged).
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from labvault.core.odb import ObjectStore
from labvault.core.tree import Tree
from labvault.core.verified import VerifiedReader, verified_bytes
from labvault.errors import CacheError, ConfigError, LabvaultError, RemoteError
from labvault.remotes.store import RemoteStore, key_of


@dataclass
class ObjectPlaces:
    """Where objects may be: a cache (``odb``) and remotes, tried in order. ``opener`` gives the
    remote when it is first needed (a read from the cache opens no remote); a ``LabvaultError``
    it raises (no default remote) is kept in ``remote_error`` and named when an object is missing."""

    odb: ObjectStore | None
    _remotes: list[RemoteStore] | None = None
    opener: Callable[[], RemoteStore] | None = None
    remote_error: str | None = None
    # Last resort for a file object: local paths that may hold it (a lab tier's copy); each is
    # checked against the oid like any other source.
    fallback: Callable[[str], list[str]] | None = None
    _trees: dict[str, Tree] = field(default_factory=dict)
    # Opens a remote by name, for outputs bound to one (see ``bind``); None when the caller named
    # the remote to read from (it is used for everything, as dvc reads with ``remote=``).
    open_named: Callable[[str], RemoteStore] | None = None
    _bound: str | None = None

    _opening: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bind(self, name: str | None) -> None:
        """What follows is read from remote ``name`` (an output bound to it, ``remote: NAME``)
        instead of the default; nothing changes for None or when the caller named a remote."""
        if name is None or self.open_named is None or name == self._bound:
            return
        open_named = self.open_named
        with self._opening:
            old, self._remotes, self.remote_error = self._remotes, None, None
            self._bound = name
            self.opener = lambda: open_named(name)
        for store in old or []:
            store.backend.close()

    @property
    def remotes(self) -> list[RemoteStore]:
        if self._remotes is None:
            with self._opening:  # download threads may all miss the cache at once
                if self._remotes is None:
                    found: list[RemoteStore] = []
                    if self.opener is not None:
                        try:
                            found.append(self.opener())
                        except ConfigError as exc:
                            self.remote_error = exc.line()
                    self._remotes = found
        return self._remotes

    def where(self, oid: str, legacy: bool) -> tuple[str, str] | None:
        """(kind, place) of the first place holding ``oid``: ("cache", path) or ("remote", name)."""
        if self.odb is not None and self.odb.exists(oid, legacy):
            return "cache", self.odb.oid_path(oid, legacy)
        for store in self.remotes:
            try:
                store.backend.size(key_of(oid, legacy))
            except FileNotFoundError:
                continue
            except LabvaultError:
                raise
            except Exception as exc:
                raise _unreachable(store, exc) from None
            return "remote", store.name
        return None

    def open(self, oid: str, legacy: bool = False, size: int | None = None) -> BinaryIO:
        """A binary stream of a file object, checked against ``oid`` as it is read."""
        if legacy:
            return io.BytesIO(self.read_bytes(oid, True))
        if self.odb is not None:
            path = self.odb.oid_path(oid)
            try:
                raw: BinaryIO = open(path, "rb")  # noqa: SIM115 - handed to the caller
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise CacheError(f"cannot read cache object {path}: {exc.strerror}") from None
            else:
                return cache_stream(raw, oid, size)
        for store in self.remotes:
            try:
                raw = store.backend.open_read(key_of(oid))
            except FileNotFoundError:
                continue
            except LabvaultError:
                raise
            except Exception as exc:
                raise _unreachable(store, exc) from None
            return io.BufferedReader(VerifiedReader(raw, oid, size, f"remote {store.name!r}"), 1 << 20)  # type: ignore[arg-type]
        for path in self.fallback(oid) if self.fallback is not None else []:
            try:
                raw = open(path, "rb")  # noqa: SIM115 - handed to the caller
            except OSError:
                continue
            return io.BufferedReader(VerifiedReader(raw, oid, size, f"the lab's copy {path}"), 1 << 20)  # type: ignore[arg-type]
        raise self.missing(oid)

    def read_bytes(self, oid: str, legacy: bool = False) -> bytes:
        """A whole object, checked before it is returned."""
        if self.odb is not None:
            try:
                with open(self.odb.oid_path(oid, legacy), "rb") as f:
                    return verified_bytes(f.read(), oid.removesuffix(".dir"), legacy, "the cache")
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise CacheError(f"cannot read cache object {oid}: {exc.strerror}") from None
        for store in self.remotes:
            try:
                with store.backend.open_read(key_of(oid, legacy)) as f:
                    data = f.read()
            except FileNotFoundError:
                continue
            except LabvaultError:
                raise
            except Exception as exc:
                raise _unreachable(store, exc) from None
            return verified_bytes(data, oid.removesuffix(".dir"), legacy, f"remote {store.name!r}")
        raise self.missing(oid)

    def tree(self, oid: str, legacy: bool = False) -> Tree:
        """A folder's manifest, checked against its oid, then parsed (and kept)."""
        tree = self._trees.get(oid)
        if tree is None:
            tree = Tree.parse(self.read_bytes(oid, legacy), where=f"manifest {oid}")
            self._trees[oid] = tree
        return tree

    def url(self, oid: str, legacy: bool = False) -> str:
        """Where the object lives on the first remote (as ``dvc.api.get_url``: whether or not it
        is there yet); without remotes, the cache path."""
        if self.remotes:
            return self.remotes[0].backend.object_url(key_of(oid, legacy))
        if self.odb is not None:
            return self.odb.oid_path(oid, legacy)
        raise RemoteError(f"no remote to locate object {oid} on", self.remote_error or "add a remote")

    def missing(self, oid: str) -> CacheError:
        places = ["the cache"] if self.odb is not None else []
        places += [f"remote {s.name!r}" for s in self.remotes]
        hint = "push it from a clone that has it (`labvault push`)"
        if not self.remotes and self.remote_error:
            hint = f"it is not in the cache and there is no remote to fetch it from ({self.remote_error})"
        return CacheError(f"object {oid} is in none of: {', '.join(places) or 'nowhere to look'}", hint)

    def close(self) -> None:
        for store in self._remotes or []:
            store.backend.close()


# Cache objects read in full and found to match their md5 in this process, by path, with the
# identity of the file then (inode, size, mtime, ctime). Objects are written once, read-only, and
# renamed into place; anything that rewrites one (an edit through a hard link, a chmod and write, a
# replacement by rename) changes its ctime or inode, so an object whose identity is unchanged holds
# the bytes that were verified. A bit flip on the medium changes nothing visible: it is caught by
# the first read in a new process, and by `labvault verify`. See docs/design.md, "Reading any version".
_VERIFIED: dict[str, tuple[int, int, int, int]] = {}
_VERIFIED_LIMIT = 4096
_verified_lock = threading.Lock()


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def cache_stream(raw: BinaryIO, oid: str, size: int | None) -> BinaryIO:
    path = raw.name if isinstance(raw.name, str) else ""
    ident = _identity(os.fstat(raw.fileno()))
    with _verified_lock:
        trusted = _VERIFIED.get(path) == ident
    if trusted and (size is None or ident[1] == size):
        return raw

    def remember() -> None:
        with _verified_lock:
            if len(_VERIFIED) >= _VERIFIED_LIMIT:
                _VERIFIED.clear()
            _VERIFIED[path] = ident

    reader = VerifiedReader(raw, oid, size, "the cache", on_verified=remember)
    return io.BufferedReader(reader, 1 << 20)  # type: ignore[return-value]


def forget_verified() -> None:
    with _verified_lock:
        _VERIFIED.clear()


def _unreachable(store: RemoteStore, exc: Exception) -> RemoteError:
    text = str(exc).strip()
    why = getattr(exc, "strerror", None) or (text.splitlines()[0] if text else type(exc).__name__)
    return RemoteError(f"remote {store.name!r} ({store.backend.describe()}) is unreachable: {why}",
                       "check the network and the remote's settings (`labvault remote list`)")
