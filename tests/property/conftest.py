"""Fixtures for the property tests: one long-running dvc_data oracle process per test session."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ORACLE_SCRIPT = ROOT / "tests" / "oracle" / "dvc_oids.py"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def dvc_python() -> Path:
    """The interpreter of dvc's own virtual environment (it holds ``dvc_data``)."""
    explicit = os.environ.get("LABVAULT_DVC_PYTHON")
    if explicit:
        return Path(explicit)
    oracle = os.environ.get("LABVAULT_DVC_ORACLE")
    if oracle:
        return Path(oracle).parent / "python"
    return ROOT / ".venv-dvc" / "bin" / "python"


class DvcOids:
    """A client of tests/oracle/dvc_oids.py: one request line out, one answer line back."""

    def __init__(self, python: Path) -> None:
        env = dict(os.environ)
        env["DVC_NO_ANALYTICS"] = "1"
        self.proc = subprocess.Popen(
            [str(python), str(ORACLE_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )
        self.request({"op": "ping"})

    def request(self, req: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"dvc oracle died (exit {self.proc.poll()})")
        out: dict[str, Any] = json.loads(line)
        if "error" in out:
            raise RuntimeError(
                f"dvc oracle failed on {req}: {out['error']}\n{out.get('trace', '')}"
            )
        return out

    def build(self, path: str | os.PathLike[str], legacy: bool = False) -> dict[str, Any]:
        """What ``dvc add`` would name this file or directory (``md5`` or legacy ``md5-dos2unix``)."""
        algo = "md5-dos2unix" if legacy else "md5"
        return self.request({"op": "build", "path": os.fspath(path), "algo": algo})

    def file_md5(self, path: str | os.PathLike[str], legacy: bool = False) -> str:
        algo = "md5-dos2unix" if legacy else "md5"
        return str(self.request({"op": "file", "path": os.fspath(path), "algo": algo})["oid"])

    def tree(self, entries: list[tuple[str, str]]) -> dict[str, Any]:
        return self.request({"op": "tree", "entries": [list(e) for e in entries]})

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def dvc_oids() -> Iterator[DvcOids]:
    python = dvc_python()
    if not python.exists():
        msg = f"dvc's python not found at {python}: run `make dvc-oracle`"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    client = DvcOids(python)
    try:
        yield client
    finally:
        client.close()
