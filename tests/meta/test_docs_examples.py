"""The Python examples of docs/reading.md run as written (in a fresh interpreter, isolated home)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["reading.md"]


def test_python_examples_run(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / ".config"),
           "XDG_DATA_HOME": str(tmp_path / ".local" / "share"),
           "LABVAULT_SYSTEM_CONFIG_DIR": str(tmp_path / "system"), "LABVAULT_GIT_CACHE": str(tmp_path / "git"),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1", "TMPDIR": str(tmp_path)}
    ran = 0
    for name in DOCS:
        text = (ROOT / "docs" / name).read_text(encoding="utf-8")
        for block in re.findall(r"```python\n(.*?)```", text, re.S):
            proc = subprocess.run([sys.executable, "-c", block], env=env, capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, f"docs/{name} example failed:\n{proc.stderr}"
            ran += 1
    assert ran >= 1
