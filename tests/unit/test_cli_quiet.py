"""``-q`` as dvc users rely on it: nothing on stdout but what ``--json`` asks for, errors still on
stderr, and ``status -q`` answering by its exit code (1: something changed)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import _labvault_cmd


def _lv(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_labvault_cmd(), *args], cwd=repo, capture_output=True, text=True)


def test_quiet_prints_only_errors_and_json(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert _lv(tmp_path, "init").returncode == 0
    (tmp_path / "a.txt").write_text("a\n")
    for argv in (["-q", "add", "a.txt"], ["add", "-q", "a.txt"]):
        done = _lv(tmp_path, *argv)
        assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    quiet = _lv(tmp_path, "status", "-q")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    (tmp_path / "a.txt").write_text("changed\n")
    quiet = _lv(tmp_path, "-q", "status")
    assert (quiet.returncode, quiet.stdout) == (1, "")
    assert _lv(tmp_path, "status").returncode == 0  # without -q: exit 0 even when dirty
    data = _lv(tmp_path, "-q", "status", "--json")
    assert data.returncode == 0 and json.loads(data.stdout)["clean"] is False
    failed = _lv(tmp_path, "-q", "add", "missing.txt")
    assert failed.returncode != 0 and failed.stdout == "" and failed.stderr.startswith("error: missing.txt")
