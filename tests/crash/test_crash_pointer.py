"""SIGKILL ``labvault add`` after every object is written and before the pointer is: a rerun must
converge, and every object the pointer then names must be in the cache, even when some were
deleted (by a person, or ``gc`` in a clone sharing the cache) after the stat cache recorded them."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.crash]

PAST = 1_600_000_000

# The CLI, with the pointer writer replaced by a SIGKILL of the process itself: the kill falls
# exactly between the objects (and the stat cache) being written and the pointer.
_KILLED_ADD = """
import os, signal, sys
import labvault.workspace.add as add
def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
add.write_pointer = killed
from labvault.cli.entry import main
sys.argv = ["labvault", "add", "data"]
main()
"""


def _cache(root: Path) -> Path:
    return root / ".dvc" / "cache" / "files" / "md5"


def _obj(root: Path, oid: str) -> Path:
    return _cache(root) / oid[:2] / oid[2:]


def _files(root: Path) -> dict[str, str]:
    data = root / "data"
    return {p.relative_to(data).as_posix(): hashlib.md5(p.read_bytes()).hexdigest() for p in data.rglob("*") if p.is_file()}


def _labvault(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labvault.cli.entry", *args], cwd=root, capture_output=True, text=True, timeout=300
    )


def _setup(tmp_path: Path, n: int = 300) -> Path:
    root = tmp_path / "repo"
    (root / "data" / "sub").mkdir(parents=True)
    for i in range(n):
        p = root / "data" / ("sub" if i % 3 == 0 else "") / f"f{i}.bin"
        p.write_bytes(f"content {i}\n".encode() * (i % 7 + 1))
        os.utime(p, (PAST + i, PAST + i))
    assert _labvault(root, "init", "--no-scm").returncode == 0
    return root


def _killed_add(root: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", _KILLED_ADD], cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr)
    assert not (root / "data.dvc").exists()


def _converged(root: Path) -> None:
    proc = _labvault(root, "add", "data")
    assert proc.returncode == 0, proc.stderr
    pointer = (root / "data.dvc").read_text()
    tree = pointer.split("md5: ")[1].split()[0]
    assert _obj(root, tree).is_file()
    named = {e["relpath"]: e["md5"] for e in json.loads(_obj(root, tree).read_bytes())}
    assert named == _files(root)
    for rel, oid in named.items():
        assert _obj(root, oid).is_file(), f"{rel}: object {oid} missing after add exited 0"
        assert hashlib.md5(_obj(root, oid).read_bytes()).hexdigest() == oid
    assert _labvault(root, "verify").returncode == 0
    status = json.loads(_labvault(root, "status", "--json").stdout)
    assert status["clean"], status


def test_kill_between_objects_and_pointer_then_rerun(tmp_path: Path) -> None:
    root = _setup(tmp_path)
    _killed_add(root)
    for oid in _files(root).values():  # every object was written before the kill
        assert _obj(root, oid).is_file()
    _converged(root)


@pytest.mark.parametrize("drop", ["some", "all"])
def test_kill_then_objects_deleted_then_rerun(tmp_path: Path, drop: str) -> None:
    """The killed run left a stat cache vouching for its objects; some of them go before the
    rerun (after the racy window, so only the fan-out stamps can tell)."""
    root = _setup(tmp_path)
    _killed_add(root)
    time.sleep(0.2)
    oids = sorted(set(_files(root).values()))
    for oid in oids if drop == "all" else oids[::17]:
        _obj(root, oid).unlink()
    _converged(root)


def test_repeated_kills_converge(tmp_path: Path) -> None:
    root = _setup(tmp_path)
    for round_ in range(3):
        _killed_add(root)
        p = root / "data" / f"f{round_}.bin"
        p.write_bytes(f"edited in round {round_}\n".encode())
        os.utime(p, (PAST + 10_000 + round_, PAST + 10_000 + round_))
        oids = sorted(set(_files(root).values()))
        _obj(root, oids[round_]).unlink(missing_ok=True)
    _converged(root)
