"""The lab's move lock: one exclusive ``flock`` for every mover of a lab, waited for, never failed.

The lock file is ``.labvault-moves.lock`` in the root of the first folder tier (every mover of
the lab must write there anyway, whoever's config file it reads). A second ``lifecycle apply``,
``promote`` or ``demote`` says once that it waits, then runs when the first is done, re-checking
each of its moves (a unit already moved is skipped). ``flock`` is per host on local file
systems: movers on several hosts sharing a catalog need a shared file system that honours it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from labvault.errors import ConfigError, from_os_error
from labvault.progress import NULL_PROGRESS, Progress
from labvault.tiers.lab import LabConfig

LOCK_NAME = ".labvault-moves.lock"


def lock_path(lab: LabConfig) -> str:
    for tier in lab.tiers:
        if tier.path is not None:
            return os.path.join(str(tier.path), LOCK_NAME)
    raise ConfigError("the lab config has no folder tier", "moves need at least one tier with a `path`")


@contextmanager
def move_lock(lab: LabConfig, progress: Progress = NULL_PROGRESS) -> Iterator[None]:
    path = lock_path(lab)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise from_os_error(exc, "opening the move lock") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress.message(f"waiting for another move of this lab to finish (lock {path})")
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
