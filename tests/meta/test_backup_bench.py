"""bench/backup_bench.py at its smallest: a verified run records every measurement of both tools,
and a restore with one flipped byte (``BENCH_FAULT=corrupt-restored``) fails the run unrecorded.
Needs restic (installed by `make postgres`) and md5sum."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import assemble_docs  # noqa: E402
from sections import backup_section  # noqa: E402


def _run(tmp_path: Path, fault: str, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    out = tmp_path / "backup.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "backup_bench.py"), "--files", "40", "--w1-size", "1M",
         "--repeats", "1", "--work", str(tmp_path / "work"), "--out", str(out), *args],
        capture_output=True, text=True, env={**os.environ, "BENCH_FAULT": fault}, timeout=600,
    )
    return proc, (json.loads(out.read_text()) if out.exists() else {"records": [], "checksums": {}})


def test_a_verified_quick_run_records_both_tools_and_every_floor(tmp_path: Path) -> None:
    proc, data = _run(tmp_path, "")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    got = {(r["tool"], r["op"]) for r in data["records"]}
    assert got == {(t, op) for t in ("labvault", "restic") for op in ("first", "unchanged", "changed", "restore")}
    growth = [r for r in data["records"] if r["op"] == "unchanged" and r["tool"] == "labvault"]
    assert growth and 0 <= growth[0]["growth_bytes"] < 1 << 20  # a snapshot file, nothing else
    assert 0 < growth[0]["growth_apparent_bytes"] < 4096
    assert all(r["cpu_seconds"] > 0 for r in data["records"])
    assert set(data["checksums"]) == {"W2", "W1"} and all(c["corruption_caught"] for c in data["checksums"].values())
    assert [row["status"] != "NOT MEASURED" for row in data["floors"]] == [True] * 6
    assert data["meta"]["quick"] is True
    # the assembler renders its floors, and refuses it for the page (not the floors' sizes)
    md, rows = backup_section(tmp_path / "backup.json")
    assert [r[2] for r in rows] == [f["status"] for f in data["floors"]] and "restore" in md
    assert assemble_docs.smoke_run(tmp_path / "backup.json")


def test_a_corrupt_restore_fails_the_run_and_is_not_recorded(tmp_path: Path) -> None:
    proc, data = _run(tmp_path, "corrupt-restored", "--parts", "backup", "--tools", "labvault")
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "restored data differs" in proc.stderr
    assert "restore" not in {r["op"] for r in data["records"]}
