"""Fixtures for the pipeline tests: stage commands run ``python`` from this interpreter's folder, and
stage scripts log each run (stage name, start and end time) to a file outside the repository."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


@pytest.fixture
def runlog(tmp_path: Path) -> Path:
    """The file stage scripts append ``<stage> <start> <end>`` lines to (outside the repo)."""
    return tmp_path / "runlog.txt"


@pytest.fixture
def env(env: dict[str, str], runlog: Path) -> dict[str, str]:
    env = dict(env)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PIPE_RUNLOG"] = str(runlog)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
