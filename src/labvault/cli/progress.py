"""Progress bars on the terminal (rich), silent when quiet or when stderr is not a terminal."""

from __future__ import annotations

import sys
import threading
from typing import Any

from labvault.progress import NullProgress, Progress, Task


class _RichTask:
    def __init__(self, owner: RichProgress, description: str, total: int | None) -> None:
        self.owner = owner
        self.id = owner.bar.add_task(description, total=total)
        self.count = 0

    def advance(self, items: int = 1, nbytes: int = 0) -> None:
        with self.owner.lock:
            self.owner.bar.advance(self.id, items)

    def close(self) -> None:
        with self.owner.lock:
            self.owner.bar.remove_task(self.id)


class RichProgress:
    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import (
            Progress as Bar,
        )

        self.console = Console(stderr=True)
        self.bar: Any = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self.lock = threading.Lock()
        self.bar.start()

    def task(self, description: str, total: int | None = None, total_bytes: int | None = None) -> Task:
        return _RichTask(self, description, total)

    def message(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def stop(self) -> None:
        self.bar.stop()


class StderrMessages(NullProgress):
    """No bars, but messages (e.g. waiting for a lock) still reach the person."""

    def message(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)


def make_progress(quiet: bool) -> Progress:
    if quiet:
        return NullProgress()
    if sys.stderr.isatty():
        try:
            return RichProgress()
        except ImportError:
            pass
    return StderrMessages()


def stop(progress: Progress) -> None:
    if isinstance(progress, RichProgress):
        progress.stop()
