"""Reading one object by its oid from the first place that holds it: a cache, then remotes.

Nothing is trusted by its name alone: a file object streams through ``VerifiedReader`` (the md5
is checked as it is read), a ``.dir`` manifest is read whole and checked before it is parsed.
A missing object falls through to the next place; a corrupt one raises (it is never skipped in
silence, since the user would then get another copy without learning that one is damaged).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import BinaryIO

from labvault.core.odb import ObjectStore
from labvault.core.tree import Tree
from labvault.core.verified import VerifiedReader, verified_bytes
from labvault.errors import CacheError, LabvaultError, RemoteError
from labvault.remotes.store import RemoteStore, key_of


@dataclass
class ObjectPlaces:
    """Where objects may be: a cache (``odb``) and remotes, tried in order."""

    odb: ObjectStore | None
    remotes: list[RemoteStore] = field(default_factory=list)
    remote_error: str | None = None  # why no remote is available (no default remote, ...)
    _trees: dict[str, Tree] = field(default_factory=dict)

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
                return io.BufferedReader(VerifiedReader(raw, oid, size, "the cache"), 1 << 20)  # type: ignore[arg-type]
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
        for store in self.remotes:
            store.backend.close()


def _unreachable(store: RemoteStore, exc: Exception) -> RemoteError:
    text = str(exc).strip()
    why = getattr(exc, "strerror", None) or (text.splitlines()[0] if text else type(exc).__name__)
    return RemoteError(f"remote {store.name!r} ({store.backend.describe()}) is unreachable: {why}",
                       "check the network and the remote's settings (`labvault remote list`)")
