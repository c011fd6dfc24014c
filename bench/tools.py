"""The tools under test: how to set up a repo and spell each operation."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


@dataclass
class Tool:
    """A DVC-format versioning tool driven through its command line."""

    name: str
    exe: Path
    init_extra: list[list[str]] = field(default_factory=list)  # commands after `init`
    extra_env: dict[str, str] = field(default_factory=dict)

    def available(self) -> bool:
        if not self.exe.exists():
            return False
        try:
            return (
                subprocess.run(
                    [str(self.exe), "--help"], capture_output=True, timeout=60
                ).returncode
                == 0
            )
        except (OSError, subprocess.TimeoutExpired):
            return False

    def version(self) -> str:
        for args in (["--version"], ["version"]):
            try:
                r = subprocess.run(
                    [str(self.exe), *args], capture_output=True, text=True, timeout=60
                )
            except (OSError, subprocess.TimeoutExpired):
                continue
            if r.returncode == 0 and r.stdout.strip():
                return r.stdout.strip().splitlines()[0]
        return "unknown"

    def env(self, repo: Path) -> dict[str, str]:
        env = {**os.environ, **GIT_ENV, **self.extra_env}
        # Per-repo scratch for anything the tool keeps outside the repo (dvc's site cache):
        # repeats must not see each other's state.
        env["DVC_SITE_CACHE_DIR"] = str(repo.parent / (repo.name + ".site-cache"))
        return env

    def argv(self, op: str, target: str) -> list[str]:
        exe = str(self.exe)
        return {
            "init": [exe, "init"],
            "add": [exe, "add", target],
            "status": [exe, "status"],
            "checkout": [exe, "checkout"],
        }[op]


def labvault() -> Tool:
    _byte_compile_sources()
    return Tool("labvault", ROOT / ".venv" / "bin" / "labvault")


def _byte_compile_sources() -> None:
    """Compile labvault's sources to .pyc once, as pip does for dvc's installed package.

    labvault is installed editable from src/; with PYTHONDONTWRITEBYTECODE set (as on this
    machine) it would otherwise be compiled from source on every command, a cost no installed
    package pays.
    """
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "compileall", "-q", str(ROOT / "src" / "labvault")],
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )


def dvc() -> Tool:
    return Tool(
        "dvc",
        ROOT / ".venv-dvc" / "bin" / "dvc",
        init_extra=[
            ["config", "core.analytics", "false"],
            ["config", "core.check_update", "false"],
        ],
        extra_env={"DVC_NO_ANALYTICS": "1"},
    )


def all_tools() -> dict[str, Tool]:
    return {"labvault": labvault(), "dvc": dvc()}
