"""Fixtures for protection and access control: an isolated environment (config folders, the
default catalog) for library calls and the command line, and a clean-up that clears the immutable
flag, which would otherwise stop even root from deleting the test's files."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from labvault.catalog import store
from labvault.core import readonly


def clear_flags(path: Path) -> None:
    if path.exists():
        for p in [*readonly.list_tree(str(path)).dirs, *readonly.list_tree(str(path)).files]:
            if readonly.is_immutable(p):
                readonly.set_immutable(p, False)


@pytest.fixture
def iso(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Isolated config and data folders (catalog: a SQLite file under tmp_path); returns the
    folder to work in. The immutable flag is cleared everywhere under tmp_path at teardown."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("LABVAULT_SYSTEM_CONFIG_DIR", str(tmp_path / "system-config"))
    monkeypatch.setenv("LABVAULT_CATALOG_URL", f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    monkeypatch.delenv("LABVAULT_LAB", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    try:
        yield work
    finally:
        clear_flags(tmp_path)
        store.forget()


@pytest.fixture
def repo(iso: Path) -> Path:
    """A git + labvault repository with ``data/raw/reviews/`` (two files) and
    ``data/raw/labels.csv`` tracked."""
    from labvault import api

    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=iso, check=True)
    api.init(iso)
    (iso / "data" / "raw" / "reviews").mkdir(parents=True)
    (iso / "data" / "raw" / "reviews" / "a.csv").write_text("id,text\n1,good\n")
    (iso / "data" / "raw" / "reviews" / "b.csv").write_text("id,text\n2,bad\n")
    (iso / "data" / "raw" / "labels.csv").write_text("id,label\n1,pos\n")
    os.chmod(iso / "data" / "raw" / "labels.csv", 0o664)
    api.add(["data/raw/reviews", "data/raw/labels.csv"], repo=iso)
    return iso
