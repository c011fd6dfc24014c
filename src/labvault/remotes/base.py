"""The backend interface every storage kind implements, and the errors it raises."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass

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

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def describe(self, key: str = "") -> str:
        return f"{self.url}/{key}" if key else self.url

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int:
        """Size in bytes; raises FileNotFoundError when absent."""

    @abstractmethod
    def walk(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        """Every file key under ``prefix`` (recursively) with its size."""

    @abstractmethod
    def ls(self, prefix: str = "") -> list[Entry]:
        """The direct children of ``prefix``."""

    @abstractmethod
    def put_file(self, local: str, key: str, callback: ByteCallback | None = None) -> None:
        """Upload a local file; the key appears only once its content is complete."""

    @abstractmethod
    def get_file(self, key: str, local: str, callback: ByteCallback | None = None) -> None:
        """Download to ``local`` (the caller gives a temp name and renames it)."""

    @abstractmethod
    def delete(self, key: str) -> None: ...

    def check_writable_root(self) -> None:
        """Raise a clear error when the root (bucket, container, folder) does not exist."""
        return None

    def close(self) -> None:
        return None
