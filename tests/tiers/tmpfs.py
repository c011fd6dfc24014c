"""A small tmpfs mounted over a tier folder: a separate file system (moves must copy) that can be
nearly full. Needs root (CI runs as root); elsewhere the tests that need it skip, in CI they fail."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@contextmanager
def tmpfs(path: Path, size: str, areas: tuple[str, ...] = ()) -> Iterator[Path]:
    """Mount a tmpfs of ``size`` (``1m``, ``64m``) at ``path`` (made if missing), with ``areas``
    folders inside; unmounted on exit."""
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        msg = f"cannot mount a tmpfs (needs root): {proc.stderr.strip()}"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    try:
        for area in areas:
            (path / area).mkdir()
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
