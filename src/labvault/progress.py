"""Progress reporting, injected into the library so that it never imports a UI toolkit.

The CLI passes a rich-backed implementation, tests pass nothing (``NULL_PROGRESS``).
"""

from __future__ import annotations

from typing import Protocol


class Task(Protocol):
    def advance(self, items: int = 1, nbytes: int = 0) -> None: ...

    def close(self) -> None: ...


class Progress(Protocol):
    def task(self, description: str, total: int | None = None, total_bytes: int | None = None) -> Task:
        """Start a task; ``total`` counts items, ``total_bytes`` bytes (either may be unknown)."""
        ...

    def message(self, text: str) -> None:
        """A line for the person running the command (warnings, waiting for a lock, ...)."""
        ...


class _NullTask:
    def advance(self, items: int = 1, nbytes: int = 0) -> None:
        return None

    def close(self) -> None:
        return None


class NullProgress:
    def task(self, description: str, total: int | None = None, total_bytes: int | None = None) -> Task:
        return _NullTask()

    def message(self, text: str) -> None:
        return None


NULL_PROGRESS: Progress = NullProgress()
