"""Lab fixtures: a lab laid out under a temp root, its config found through an isolated user
config folder, its state in a fresh catalog on SQLite and on PostgreSQL (``catalog_url``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from labvault import api
from tests.catalog.conftest import cat, catalog_url, pg_server  # noqa: F401  (fixtures)


@pytest.fixture
def lab_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Isolated config folders: nothing of the machine's lab config leaks in. Returns the user's."""
    user = tmp_path / "user-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user))
    monkeypatch.setenv("LABVAULT_SYSTEM_CONFIG_DIR", str(tmp_path / "system-config"))
    monkeypatch.delenv("LABVAULT_LAB", raising=False)
    monkeypatch.delenv("LABVAULT_CATALOG_URL", raising=False)
    return user


@pytest.fixture
def lab_root(tmp_path: Path, lab_env: Path) -> Path:
    """``lab init --root`` done: the guide's tree and a lab config in the user's config folder."""
    root = tmp_path / "mnt"
    api.lab_init(root)
    return root
