"""``sbs``: a fresh side-by-side pair of repositories (labvault and the real dvc) per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sidebyside.harness import SideBySide


@pytest.fixture
def sbs(tmp_path: Path) -> SideBySide:
    return SideBySide(tmp_path)
