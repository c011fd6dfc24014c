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


IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


class LabUsers:
    """Test users and groups made for the session: ``alice`` (in ``team``), ``bob`` (in no
    group of ours), ``team`` and ``outsiders`` (a group nobody is in); names carry the pid so
    parallel sessions do not clash."""

    def __init__(self, tag: str) -> None:
        self.alice = f"lva{tag}"
        self.bob = f"lvb{tag}"
        self.team = f"lvteam{tag}"
        self.outsiders = f"lvout{tag}"

    def run_as(self, user: str, argv: list[str], cwd: Path | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """``argv`` as ``user`` (primary group nogroup) with its own groups only (setpriv from
        util-linux)."""
        return subprocess.run(["setpriv", f"--reuid={user}", "--regid=nogroup", "--init-groups", "--", *argv],
                              cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="session")
def lab_users() -> Iterator[LabUsers]:
    if os.geteuid() != 0:
        pytest.skip("creating test users needs root (useradd, groupadd); run the suite as root")
    for tool in ("useradd", "groupadd", "userdel", "groupdel", "setpriv"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode != 0:
            pytest.fail(f"{tool} is missing: install the `passwd` and `util-linux` packages")
    users = LabUsers(str(os.getpid() % 100000))
    made: list[list[str]] = []
    try:
        for group in (users.team, users.outsiders):
            subprocess.run(["groupadd", group], check=True, capture_output=True)
            made.append(["groupdel", group])
        for user, groups in ((users.alice, users.team), (users.bob, "")):
            extra = ["-G", groups] if groups else []
            subprocess.run(["useradd", "-M", "-N", "-g", "nogroup", "-s", "/usr/sbin/nologin", *extra, user],
                           check=True, capture_output=True)
            made.insert(0, ["userdel", user])
        yield users
    finally:
        for argv in made:
            subprocess.run(argv, capture_output=True)
