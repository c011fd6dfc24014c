"""Shared fixtures: run the labvault CLI and the real ``dvc`` oracle as subprocesses, in temp repos."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# The suite never reads or writes the user's own labvault state: in-process calls that fall back to
# the default catalog ($XDG_DATA_HOME) or look for a lab config ($XDG_CONFIG_HOME, LABVAULT_LAB) find
# an empty scratch folder of this test process instead, removed when it exits.
_SCRATCH_XDG = tempfile.mkdtemp(prefix="labvault-tests-xdg-")
atexit.register(shutil.rmtree, _SCRATCH_XDG, ignore_errors=True)
os.environ["XDG_DATA_HOME"] = os.path.join(_SCRATCH_XDG, "data")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_SCRATCH_XDG, "config")
for _name in ("LABVAULT_LAB", "LABVAULT_CATALOG_URL"):
    os.environ.pop(_name, None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI nothing skips: a skip (a missing service or tool, a ``skipif``, a timing that did not
    cooperate) is reported as a failure, with the reason it gave."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may skip: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """The same rule for a whole module skipped while collected (``importorskip``, ``skip`` at
    module level)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may skip: {report.longrepr}"


def _labvault_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "labvault"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "labvault.cli.main"]


def dvc_oracle_path() -> Path:
    return Path(os.environ.get("LABVAULT_DVC_ORACLE", ROOT / ".venv-dvc" / "bin" / "dvc"))


def _clean_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env["XDG_DATA_HOME"] = str(home / ".local" / "share")
    env["LABVAULT_SYSTEM_CONFIG_DIR"] = str(home / "system-config")
    env["DVC_NO_ANALYTICS"] = "1"
    env["DVC_SITE_CACHE_DIR"] = str(home / "dvc-site-cache")
    env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "Test"
    env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "test@example.invalid"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env.pop("LABVAULT_LOCK_TIMEOUT", None)
    return env


class Runner:
    """Runs a command line tool in a working folder with an isolated environment."""

    def __init__(self, argv0: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.argv0 = argv0
        self.cwd = cwd
        self.env = env

    def __call__(
        self, *args: str, check: bool = True, cwd: Path | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*self.argv0, *args],
            cwd=cwd or self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join([*self.argv0[-1:], *args])} exited {proc.returncode}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return _clean_env(home)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    d = tmp_path / "repo"
    d.mkdir()
    return d


@pytest.fixture
def git(workdir: Path, env: dict[str, str]) -> Runner:
    return Runner(["git"], workdir, env)


@pytest.fixture
def git_repo(workdir: Path, git: Runner) -> Path:
    git("init", "-q", "-b", "main")
    return workdir


@pytest.fixture
def lv(workdir: Path, env: dict[str, str]) -> Runner:
    """``lv("add", "data")`` runs ``labvault add data`` in the test repo."""
    return Runner(_labvault_cmd(), workdir, env)


@pytest.fixture
def dvc(workdir: Path, env: dict[str, str]) -> Runner:
    """The real dvc (pinned 3.x, own virtual environment): the oracle for interop tests."""
    path = dvc_oracle_path()
    if not path.exists():
        msg = f"dvc oracle not found at {path}: run `make dvc-oracle`"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return Runner([str(path)], workdir, env)


@pytest.fixture
def make_tree() -> Callable[[Path, dict[str, bytes | str]], None]:
    def _make(base: Path, files: dict[str, bytes | str]) -> None:
        for rel, content in files.items():
            p = base / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(content.encode() if isinstance(content, str) else content)

    return _make


def snapshot(base: Path, skip: tuple[str, ...] = (".git", ".dvc")) -> dict[str, bytes]:
    """relpath -> bytes of every file under base (following nothing special), for comparisons."""
    out: dict[str, bytes] = {}
    for root, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            p = Path(root) / name
            out[p.relative_to(base).as_posix()] = p.read_bytes()
    return out


@pytest.fixture
def clean_dir() -> Iterator[Callable[[Path], None]]:
    def _rm(p: Path) -> None:
        if p.is_dir() and not p.is_symlink():
            for root, dirs, files in os.walk(p):
                for n in dirs + files:
                    try:
                        os.chmod(os.path.join(root, n), 0o755, follow_symlinks=False)
                    except (OSError, NotImplementedError):
                        pass
            shutil.rmtree(p)
        elif p.exists() or p.is_symlink():
            p.unlink()

    yield _rm
from tests.services import (  # noqa: E402,F401
    azure_container,
    azurite_server,
    gcs_bucket,
    gcs_server,
    restore_delay,
    s3_auth_server,
    s3_bucket,
    s3_server,
)
