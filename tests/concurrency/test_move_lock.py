"""Two movers of one lab at once: the second waits for the move lock (saying so once), then
re-checks its moves, so nothing is moved twice and no data is lost."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.conftest import Runner

HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o666)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.readline()
"""


def _digests(base: Path) -> dict[str, str]:
    real = Path(os.path.realpath(base))
    return {p.relative_to(real).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(real.rglob("*")) if p.is_file()}


@pytest.fixture
def lab(tmp_path: Path, lv: Runner, env: dict[str, str]) -> Path:
    root = tmp_path / "mnt"
    env["LABVAULT_LAB"] = str(tmp_path / "lab.yaml")
    env["LABVAULT_CATALOG_URL"] = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    lv("lab", "init", "--root", str(root))
    for name in ("imagenet_v2_train", "coco_v1_val"):
        for i in range(300):
            p = root / "nvme0/datasets" / name / f"d{i % 5}/f{i:04d}.bin"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(os.urandom(2000 + i))
            os.utime(p, (1_700_000_000, 1_700_000_000))
    lv("lab", "scan")
    return root


def _start(lv: Runner, err: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*lv.argv0, *args], cwd=lv.cwd, env=lv.env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=open(err, "wb"))


def _wait_for(paths: list[Path], text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(p.exists() and text in p.read_text() for p in paths):
            return
        time.sleep(0.05)
    raise AssertionError(f"not all of {paths} said {text!r}: {[p.read_text() for p in paths if p.exists()]}")


def test_two_movers_of_one_unit_wait_and_move_it_once(lab: Path, lv: Runner, tmp_path: Path) -> None:
    unit = lab / "nvme0/datasets/imagenet_v2_train"
    before = _digests(unit)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lab / "nvme0/.labvault-moves.lock")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    errs = [tmp_path / "err-a", tmp_path / "err-b"]
    procs = [_start(lv, errs[0], "demote", "imagenet@v2", "--to", "warm", "--json"),
             _start(lv, errs[1], "demote", "imagenet@v2", "--to", "cold", "--json")]
    try:
        _wait_for(errs, "waiting for another move of this lab to finish")
        assert all(p.poll() is None for p in procs)  # both wait, neither failed
    finally:
        assert holder.stdin is not None
        holder.stdin.write("release\n")
        holder.stdin.close()
        holder.wait()
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e.read_text() for e in errs]
    statuses = sorted(json.loads(o)["outcomes"][0]["status"] for o in outs)
    assert statuses == ["moved", "skipped"]  # whichever went second found the unit gone from hot
    assert _digests(unit) == before and os.path.islink(unit)
    where = json.loads(lv("where", "imagenet@v2", "--json").stdout)
    live = [p for p in where[0]["placements"] if p["state"] in ("present", "verified")]
    assert len(live) == 1 and _digests(Path(live[0]["location"])) == before


def test_movers_of_two_units_run_one_after_the_other(lab: Path, lv: Runner, tmp_path: Path) -> None:
    before = {n: _digests(lab / "nvme0/datasets" / n) for n in ("imagenet_v2_train", "coco_v1_val")}
    procs = [_start(lv, tmp_path / "err-1", "demote", "imagenet@v2", "--to", "warm"),
             _start(lv, tmp_path / "err-2", "demote", "coco@v1", "--to", "cold")]
    for p in procs:
        p.communicate(timeout=120)
    assert [p.returncode for p in procs] == [0, 0]
    assert _digests(lab / "ssd0/datasets/imagenet_v2_train") == before["imagenet_v2_train"]
    assert _digests(lab / "hdd0/archive/coco_v1_val") == before["coco_v1_val"]
    assert not [n for n in os.listdir(lab / "nvme0/datasets") if n.startswith(".")]


def test_two_applies_at_once_wait_and_move_each_unit_once(lab: Path, lv: Runner, tmp_path: Path) -> None:
    units = [lab / "nvme0/datasets" / n for n in ("imagenet_v2_train", "coco_v1_val")]
    before = {u: _digests(u) for u in units}
    later = (datetime.now() + timedelta(days=8)).date().isoformat()  # past the 7-day hot->warm rule
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lab / "nvme0/.labvault-moves.lock")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    errs = [tmp_path / "apply-a", tmp_path / "apply-b"]
    procs = [_start(lv, e, "lifecycle", "apply", "--as-of", later, "--json") for e in errs]
    try:
        _wait_for(errs, "waiting for another move of this lab to finish")
        assert all(p.poll() is None for p in procs)
    finally:
        assert holder.stdin is not None
        holder.stdin.write("release\n")
        holder.stdin.close()
        holder.wait()
    outs = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e.read_text() for e in errs]
    by_unit: dict[str, list[str]] = {}
    for out in outs:
        assert len(out["plan"]["moves"]) == 2  # both planned before waiting
        for o in out["outcomes"]:
            by_unit.setdefault(o["ref"], []).append(o["status"])
    assert {ref: sorted(s) for ref, s in by_unit.items()} == {
        "dataset imagenet@v2 (train)": ["moved", "skipped"], "dataset coco@v1 (val)": ["moved", "skipped"]}
    for u in units:
        assert os.path.islink(u) and _digests(u) == before[u]
        assert _digests(lab / "ssd0/datasets" / u.name) == before[u]
