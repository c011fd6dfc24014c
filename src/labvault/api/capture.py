"""Automatic capture into the catalog, through a journal.

``add``, ``commit``, ``push`` and ``repro`` append one JSON line per event to
``.dvc/tmp/labvault/catalog-journal.jsonl`` (microseconds, no database on the hot path, works with
the lab's database down). The journal is applied to the catalog by every ``labvault catalog``
command run in the repo, at the end of a ``repro`` that ran stages, and by ``labvault catalog sync``.
Applying is idempotent: an event applied twice (after a crash) records nothing twice.
Turn capture off with ``labvault config labvault.catalog_capture false``.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from labvault.progress import NULL_PROGRESS, Progress
from labvault.workspace.repo import Repo

JOURNAL = "catalog-journal.jsonl"


def _dir(repo: Repo) -> Path:
    return repo.tmp_dir / "labvault"


def enabled(repo: Repo) -> bool:
    return repo.config.get_bool("labvault", "catalog_capture", True)


def note(repo: Repo, event: dict[str, Any]) -> None:
    """Append one event; never fails the command that produced it."""
    if not enabled(repo):
        return
    try:
        _dir(repo).mkdir(parents=True, exist_ok=True)
        line = (json.dumps(event, sort_keys=True, default=str) + "\n").encode()
        fd = os.open(_dir(repo) / JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line)  # one write of one line: appends never interleave
        finally:
            os.close(fd)
    except OSError as exc:
        repo.progress.message(f"warning: could not record to the catalog journal: {exc}")


@contextmanager
def _flush_lock(repo: Repo) -> Iterator[None]:
    _dir(repo).mkdir(parents=True, exist_ok=True)
    fd = os.open(_dir(repo) / (JOURNAL + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def flush(repo: Repo, catalog_url: str | None = None, progress: Progress = NULL_PROGRESS) -> int:
    """Apply pending events to the catalog; returns how many were applied."""
    folder = _dir(repo)
    journal = folder / JOURNAL
    if not folder.exists() or (not journal.exists() and not any(folder.glob(JOURNAL + ".applying-*"))):
        return 0
    from labvault.api import catalog as cat

    applied = 0
    with _flush_lock(repo):
        if journal.exists():
            os.replace(journal, folder / f"{JOURNAL}.applying-{os.getpid()}")
        for pending in sorted(folder.glob(JOURNAL + ".applying-*")):
            for raw in pending.read_text(encoding="utf-8").splitlines():
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue  # a line cut by a crash: the command it came from did not finish
                _apply(cat, event, catalog_url, repo)
                applied += 1
            pending.unlink()
    return applied


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _apply(cat: Any, e: dict[str, Any], url: str | None, repo: Repo) -> None:
    kind = e.get("type")
    where = {"catalog_url": url, "repo": repo.root}
    if kind == "dataset":
        cat.record_dataset_version(
            e["name"], e["hash"], e.get("path"), e.get("size"), e.get("nfiles"), e.get("git_rev"),
            description=e.get("description"), card=e.get("card"), **where,
        )
    elif kind == "run":
        cat.record_run(
            e["experiment"], e.get("stage"), e.get("params", {}), e.get("metrics", {}), e.get("status", "completed"),
            _time(e.get("started")), _time(e.get("ended")), e.get("git_rev"), list(e.get("inputs", [])),
            [tuple(o) for o in e.get("outputs", [])], **where,
        )
    elif kind == "location":
        cat.record_location(e["hash"], e["remote"], e["url"], e.get("tier"), **where)
    elif kind == "card":
        from labvault.catalog.record import index_card

        index_card(cat.catalog_open(url, repo.root), e["name"], e["card"], e.get("description") or None)
