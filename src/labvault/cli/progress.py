"""Progress bars on the terminal (rich), silent when quiet or when stderr is not a terminal.

A task given ``total_bytes`` shows bytes, rate and time left, with a running file count; others
show items.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from labvault.progress import NullProgress, Progress, Task


class _RichTask:
    def __init__(self, owner: RichProgress, description: str, total: int | None, total_bytes: int | None) -> None:
        self.owner = owner
        self.description = description
        self.total = total
        self.by_bytes = total_bytes is not None
        self.items = 0
        bar = owner.bytes_bar if self.by_bytes else owner.items_bar
        self.bar = bar
        self.id = bar.add_task(self._label(), total=total_bytes if self.by_bytes else total)

    def _label(self) -> str:
        if self.by_bytes and self.total is not None:
            return f"{self.description} ({self.items}/{self.total} files)"
        return self.description

    def advance(self, items: int = 1, nbytes: int = 0) -> None:
        with self.owner.lock:
            self.items += items
            if self.by_bytes:
                self.bar.update(self.id, advance=nbytes, description=self._label())
            else:
                self.bar.advance(self.id, items)

    def close(self) -> None:
        with self.owner.lock:
            self.bar.remove_task(self.id)


class RichProgress:
    def __init__(self) -> None:
        from rich.console import Console, Group
        from rich.live import Live
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as Bar

        self.console = Console(stderr=True)
        self.items_bar: Any = Bar(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TimeRemainingColumn(), console=self.console,
        )
        self.bytes_bar: Any = Bar(
            TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(), console=self.console,
        )
        self.live = Live(Group(self.items_bar, self.bytes_bar), console=self.console, transient=True,
                         refresh_per_second=8)
        self.lock = threading.Lock()
        self.live.start()

    def task(self, description: str, total: int | None = None, total_bytes: int | None = None) -> Task:
        return _RichTask(self, description, total, total_bytes)

    def message(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False)

    def stop(self) -> None:
        self.live.stop()


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
