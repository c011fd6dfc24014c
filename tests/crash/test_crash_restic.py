"""SIGKILL ``labvault backup run`` with the restic engine (labvault and its restic child, as a
process group) at random instants: ``restic check --read-data`` (through ``backup check``, which
clears the dead process's stale lock) passes, the rerun completes, and the latest snapshot restores
byte-identical with ``--verify``. When too few kills land, the workload grows and the round is
tried again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from crashkit import (
    clean_env,
    file_digests,
    kill_at_point,
    kill_plan,
    kills,
    lv,
    make_dataset,
    rmtree,
    scratch_base,
    timed,
)

pytestmark = [pytest.mark.crash, pytest.mark.slow]

N_KILLS = kills(4)
if shutil.which("restic") is None and os.environ.get("CI") != "true":
    pytest.skip("restic is not installed (`make setup` installs it)", allow_module_level=True)


def _packs(repo: Path) -> int:
    return sum(len(files) for _r, _d, files in os.walk(repo / "data")) if (repo / "data").exists() else 0


def _round(base: Path, nsmall: int) -> int:
    env = clean_env(base / "home")
    env["XDG_CACHE_HOME"] = str(base / "cache")
    src = base / "data"
    make_dataset(src, nsmall, 4)
    (base / "pw").write_text("pw\n")
    repo = base / "repo"
    lab = base / "lab.yaml"
    lab.write_text(f"tiers: {{hot: {{path: {base}}}}}\ncatalog_url: sqlite:///{base / 'cat.sqlite'}\n"
                   f"backups:\n  - {{name: p, sources: [{src}], target: 'restic:{repo}', "
                   f"password_file: {base / 'pw'}}}\n")
    env["LABVAULT_LAB"] = str(lab)
    duration = timed(base, env, "backup", "run")
    expected = max(1, _packs(repo))
    digests = file_digests(src)
    landed = 0
    for point in kill_plan(N_KILLS, "restic-run"):
        rmtree(repo)
        rmtree(base / "cache")
        k, where = kill_at_point(base, env, ["backup", "run"], point, duration, lambda: _packs(repo) / expected)
        landed += k.killed
        if (repo / "config").exists():
            assert lv(base, env, "backup", "check", "--read-data", check=False).returncode == 0, where
        lv(base, env, "backup", "run")
        assert lv(base, env, "backup", "check", "--read-data", check=False).returncode == 0, where
        out = base / "out"
        rmtree(out)
        lv(base, env, "backup", "restore", "latest", "--to", str(out), "--verify")
        assert file_digests(out / "data") == digests, where
    return landed


def test_kill_restic_backup_run(tmp_path: Path) -> None:
    nsmall = 1500
    landed = 0
    for _attempt in range(3):
        with scratch_base(tmp_path / f"restic-{nsmall}") as base:
            landed = _round(base, nsmall)
        if landed >= max(1, N_KILLS // 2):
            return
        nsmall *= 3
    pytest.fail(f"only {landed} of {N_KILLS} kills landed during a restic backup run, even with {nsmall // 3} files")
