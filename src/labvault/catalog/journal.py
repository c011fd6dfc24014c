"""The capture journal: commands append events to a file; the catalog applies them later.

Files, in the journal's folder (``.dvc/tmp/labvault/`` of a repository)::

    catalog-journal.jsonl               events waiting, one JSON object a line, appended by commands
    catalog-journal.jsonl.applying-*    a batch taken for applying (renamed from the journal)
    catalog-journal.rejected.jsonl      lines set aside: {"reason", "source", "line", "text", "at"}
    catalog-journal.jsonl.lock          appenders hold it shared, the rename takes it exclusive
    catalog-journal.apply.lock          one applier at a time (others wait)

Appending is one ``write`` of one whole line on an ``O_APPEND`` descriptor, under the shared lock,
so that a batch renamed for applying can no longer receive lines: no event is lost to a rename.
Applying takes the whole journal as a batch, applies its lines in order, then deletes the batch;
a crash leaves the batch, which the next applier applies again, and applying is idempotent (a
dataset version is keyed by name and content, a run by a fingerprint of the event).

A line that cannot be applied (not UTF-8 or not JSON, cut short by a crash, an unknown event
type, fields of the wrong type, a version name already holding other content) is moved to the
rejected file with the reason, and one warning line says so; it never blocks the lines after it
or later commands. Only a database that cannot be reached stops applying: the batch then waits
for the next command.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from labvault.catalog import events
from labvault.catalog.events import (
    CardEvent,
    Event,
    EventError,
    LocationEvent,
    RunEvent,
    VersionEvent,
)
from labvault.errors import CatalogError
from labvault.progress import NULL_PROGRESS, Progress

if TYPE_CHECKING:
    from labvault.catalog.store import Catalog

# Appending (every add, commit, push and repro that ran a stage) needs no database layer: the
# modules that apply events (SQLAlchemy, about 0.6 s to import) are loaded only to apply them.

JOURNAL = "catalog-journal.jsonl"
REJECTED = "catalog-journal.rejected.jsonl"
_APPEND_LOCK = JOURNAL + ".lock"
_APPLY_LOCK = "catalog-journal.apply.lock"
_BATCH = JOURNAL + ".applying-"


@dataclass(frozen=True)
class Rejected:
    source: str
    line: int
    reason: str


@dataclass(frozen=True)
class JournalResult:
    applied: int
    rejected: tuple[Rejected, ...] = ()


@contextmanager
def _flock(path: Path, mode: int) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def append(folder: Path, *items: Event) -> None:
    """Add events to the journal in ``folder`` (created if missing). Raises OSError."""
    if not items:
        return
    folder.mkdir(parents=True, exist_ok=True)
    data = b"".join((json.dumps(events.dump_event(e), sort_keys=True, default=str) + "\n").encode() for e in items)
    with _flock(folder / _APPEND_LOCK, fcntl.LOCK_SH):
        fd = os.open(folder / JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            written = 0
            while written < len(data):  # whole lines in one write; appends never interleave
                written += os.write(fd, data[written:])
        finally:
            os.close(fd)


def pending(folder: Path) -> bool:
    """Whether anything waits to be applied (cheap: no lock, no read)."""
    if not folder.is_dir():
        return False
    return (folder / JOURNAL).exists() or any(folder.glob(_BATCH + "*"))


def apply_journal(cat: Catalog, folder: Path, progress: Progress = NULL_PROGRESS) -> JournalResult:
    """Apply every waiting event in ``folder`` to ``cat``; malformed lines are set aside."""
    if not pending(folder):
        return JournalResult(0)
    applied = 0
    rejected: list[Rejected] = []
    with _flock(folder / _APPLY_LOCK, fcntl.LOCK_EX):
        with _flock(folder / _APPEND_LOCK, fcntl.LOCK_EX):
            if (folder / JOURNAL).exists():
                os.replace(folder / JOURNAL, folder / f"{_BATCH}{time.time_ns():020d}-{os.getpid()}")
        for batch in sorted(folder.glob(_BATCH + "*")):
            n, bad = _apply_batch(cat, batch)
            applied += n
            rejected += bad
            batch.unlink()
    if rejected:
        first = rejected[0]
        more = f" and {len(rejected) - 1} more" if len(rejected) > 1 else ""
        progress.message(f"warning: set aside catalog journal line {first.line} ({first.reason}){more}; "
                         f"kept in {folder / REJECTED}")
    return JournalResult(applied, tuple(rejected))


def _apply_batch(cat: Catalog, batch: Path) -> tuple[int, list[Rejected]]:
    from labvault.catalog.store import CatalogUnavailable

    data = batch.read_bytes()
    lines = data.split(b"\n")
    cut = lines.pop()  # b"" when the file ends with a newline, else a line a crash cut short
    numbered = [(i + 1, raw, False) for i, raw in enumerate(lines)]
    if cut.strip():
        numbered.append((len(lines) + 1, cut, True))
    applied = 0
    rejected: list[Rejected] = []
    seen = _already_aside(batch)
    for number, raw, truncated in numbered:
        if not raw.strip():
            continue
        try:
            event = events.parse_line(raw)
        except EventError as exc:
            reason = f"cut short by an interrupted command: {exc}" if truncated else str(exc)
            rejected.append(_set_aside(batch, number, raw, reason, seen))
            continue
        try:
            apply_event(cat, event)
        except CatalogUnavailable:
            raise  # the database, not the line: the batch waits for the next command
        except CatalogError as exc:
            rejected.append(_set_aside(batch, number, raw, exc.line(), seen))
            continue
        applied += 1
    return applied, rejected


def _already_aside(batch: Path) -> set[int]:
    """Lines of ``batch`` already in the rejected file (a crash made the batch apply twice)."""
    target = batch.parent / REJECTED
    seen: set[int] = set()
    if target.exists():
        for old in target.read_bytes().splitlines():
            try:
                entry = json.loads(old)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("source") == batch.name and isinstance(entry.get("line"), int):
                seen.add(entry["line"])
    return seen


def _set_aside(batch: Path, number: int, raw: bytes, reason: str, seen: set[int]) -> Rejected:
    """Append the line to the rejected file, once."""
    target = batch.parent / REJECTED
    source = batch.name
    if number in seen:
        return Rejected(source, number, reason)
    seen.add(number)
    from labvault.catalog.store import now

    entry = {"at": now().isoformat(timespec="seconds") + "Z", "reason": reason, "source": source, "line": number,
             "text": raw.decode("utf-8", "backslashreplace")}
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode())
        os.fsync(fd)  # before the batch holding the line is deleted
    finally:
        os.close(fd)
    return Rejected(source, number, reason)


def apply_event(cat: Catalog, event: Event) -> None:
    """Record one event (idempotent)."""
    from labvault.catalog import record, runs

    if isinstance(event, VersionEvent):
        record.record_artifact(cat, event.artifact, event.git_rev, event.card)
    elif isinstance(event, RunEvent):
        runs.record_run_event(cat, event)
    elif isinstance(event, LocationEvent):
        record.record_location(cat, event.content_hash, event.remote, event.url, event.tier)
    elif isinstance(event, CardEvent):
        record.index_card(cat, event.name, event.card, event.description or None)
