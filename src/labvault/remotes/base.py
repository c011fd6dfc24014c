"""The backend interface every storage kind implements, and the errors it raises."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from labvault.core.hashing import md5_fd

ByteCallback = Callable[[int], None]


@dataclass(frozen=True)
class Entry:
    """One item of a listing: ``name`` relative to the listed prefix; folders end without '/'."""

    name: str
    size: int
    is_dir: bool


class Backend(ABC):
    """Keys are '/'-separated paths relative to the backend's root URL."""

    scheme: str = ""
    # Asking about one object costs a system call (a folder), not a request: no listing ever pays.
    cheap_lookups: bool = False
    # The storage can list what it holds (an HTTP server cannot: objects are asked about one by one).
    listable: bool = True
    credentials_hint = "check the credentials (labvault remote modify NAME access_key_id/profile/...)"

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def describe(self, key: str = "") -> str:
        return f"{self.url}/{key}" if key else self.url

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int:
        """Size in bytes of the object ``key``; FileNotFoundError when there is none (a folder or
        prefix is no object)."""

    @abstractmethod
    def walk(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        """Every file key under ``prefix`` (recursively) with its size."""

    def checksums(self, key: str) -> tuple[bool, list[tuple[str, int, str]]]:
        """The object ``key`` or the objects below it, with the storage's own checksum (object
        storage only; see ``FsspecBackend.checksums``)."""
        raise NotImplementedError(f"{self.describe(key)}: no storage checksums here")

    @abstractmethod
    def ls(self, prefix: str = "") -> list[Entry]:
        """The direct children of ``prefix``."""

    @abstractmethod
    def put_file(self, local: str, key: str, callback: ByteCallback | None = None) -> None:
        """Upload a local file; the key appears only once its content is complete. ``callback(n)``
        is told of ``n`` more bytes sent, as they go where the backend can tell (object storage:
        per request or part), and adds up to the file's size once it returns."""

    @abstractmethod
    def get_file(self, key: str, local: str, callback: ByteCallback | None = None) -> None:
        """Download to ``local`` (the caller gives a temp name and renames it)."""

    def get_hashed(self, key: str, local: str, callback: ByteCallback | None = None) -> tuple[str, int]:
        """Download ``key`` to ``local``, a new read-only (0444) file, and return the md5 hex digest
        and size of exactly the bytes that file holds; FileNotFoundError when the key is absent.

        The caller decides from the digest whether the file may enter the cache, and removes
        ``local`` on any error. This default downloads with ``get_file`` (one request) and hashes
        the file it wrote, which is still in the page cache; backends that can see the bytes
        go by (a local folder) hash while copying instead. ``callback`` gets the bytes as they
        arrive, where the backend can tell (see ``put_file``)."""
        self.get_file(key, local, callback)
        return hash_and_seal(local)

    def open_read(self, key: str) -> BinaryIO:
        """A binary stream of the object ``key`` (read from its start, not seekable by contract);
        FileNotFoundError when there is none. The caller closes it."""
        raise NotImplementedError(f"{self.scheme} storage cannot stream objects")

    def object_url(self, key: str) -> str:
        """The URL a user would give to read ``key`` with other tools."""
        return self.describe(key)

    @abstractmethod
    def delete(self, key: str) -> None: ...

    def check_writable_root(self) -> None:
        """Raise a clear error when the root (bucket, container, folder) cannot receive objects;
        a folder whose parent exists is created."""
        return None

    def check_readable_root(self) -> None:
        """Raise a clear error when the root cannot be read; changes nothing (a missing folder
        whose parent exists is an empty remote)."""
        self.check_writable_root()

    def clean_leftovers(self, prefixes: list[str], now: float) -> int:
        """Remove what killed uploads left under ``prefixes`` (the folders about to be written)
        and no live writer owns (see ``remotes/leftovers.py``); returns how many went."""
        return 0

    def sync(self) -> None:
        """Make what this backend wrote durable before the caller relies on it (a folder remote:
        one syncfs of its file system; object stores acknowledge a PUT only once it is stored)."""
        return None

    def close(self) -> None:
        return None


OBJECT_MODE = 0o444
READ_BLOCK = 4 << 20


def hash_and_seal(path: str) -> tuple[str, int]:
    """md5 and size of a just-written file, which is made read-only through the same descriptor."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        digest, size = md5_fd(fd, READ_BLOCK)
        os.fchmod(fd, OBJECT_MODE)
    finally:
        os.close(fd)
    return digest, size
