"""SIGKILL ``labvault backup run``, ``backup prune`` and ``backup restore`` at random instants.

After each kill the target is read here, without labvault: every snapshot file names a manifest
whose bytes hash to its name, and every object it lists is there with its md5; ``backup check
--read-data`` agrees; the rerun completes and restores byte-identical. A killed restore leaves
only whole files (and temp files, which the rerun removes). When too few kills land before the
command finishes, the workload doubles and the round is tried again.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from collections.abc import Callable
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

N_KILLS = kills(6)


def _md5(p: Path) -> str:
    return hashlib.md5(p.read_bytes(), usedforsecurity=False).hexdigest()


def target_problems(target: Path) -> list[str]:
    """What is wrong with the target, judged independently of labvault."""
    problems = []
    objs = target / "files" / "md5"
    for snap in sorted((target / "snapshots").glob("*.json")) if (target / "snapshots").exists() else []:
        doc = json.loads(snap.read_bytes())
        man = objs / doc["manifest"]["md5"][:2] / doc["manifest"]["md5"][2:]
        if not man.exists() or _md5(man) != doc["manifest"]["md5"]:
            problems.append(f"{snap.name}: manifest missing or corrupt")
            continue
        for e in json.loads(gzip.decompress(man.read_bytes()))["entries"]:
            if e["type"] != "file":
                continue
            p = objs / e["md5"][:2] / e["md5"][2:]
            if not p.exists() or _md5(p) != e["md5"]:
                problems.append(f"{snap.name}: {e['relpath']} missing or corrupt")
    for p in objs.glob("??/*") if objs.exists() else []:
        if not p.name.startswith(".") and _md5(p) != p.parent.name + p.name:
            problems.append(f"object {p} does not match its name")
    return problems


def count_files(folder: Path) -> int:
    n = 0
    for _root, _dirs, files in os.walk(folder):
        n += sum(1 for f in files if not f.startswith("."))
    return n


def _world(base: Path, nsmall: int) -> tuple[dict[str, str], Path, Path]:
    env = clean_env(base / "home")
    env["XDG_CACHE_HOME"] = str(base / "cache")
    src = base / "data"
    make_dataset(src, nsmall, 4)
    lab = base / "lab.yaml"
    lab.write_text(f"tiers: {{hot: {{path: {base}}}}}\ncatalog_url: sqlite:///{base / 'cat.sqlite'}\n"
                   f"backups:\n  - {{name: p, sources: [{src}], target: {base / 'target'}, "
                   f"retention: {{keep_last: 1}}}}\n")
    env["LABVAULT_LAB"] = str(lab)
    return env, src, base / "target"


def _fresh(base: Path, target: Path) -> None:
    rmtree(target)
    rmtree(base / "cache")


def _rounds(tmp: Path, salt: str, body: Callable[[Path, int], int]) -> None:
    """Run ``body(base, nsmall)`` (returns kills that landed); retry larger when too few landed."""
    nsmall = 1500
    for _attempt in range(3):
        with scratch_base(tmp / f"{salt}-{nsmall}") as base:
            landed = body(base, nsmall)
        if landed >= max(1, N_KILLS // 2):
            return
        nsmall *= 3
    pytest.fail(f"only {landed} of {N_KILLS} kills landed during backup {salt}, even with {nsmall // 3} files")


def test_kill_backup_run(tmp_path: Path) -> None:
    def body(base: Path, nsmall: int) -> int:
        env, src, target = _world(base, nsmall)
        duration = timed(base, env, "backup", "run")
        expected = count_files(target / "files" / "md5")
        digests = file_digests(src)
        landed = 0
        for point in kill_plan(N_KILLS, "backup-run"):
            _fresh(base, target)
            k, where = kill_at_point(base, env, ["backup", "run"], point, duration,
                                     lambda: count_files(target / "files" / "md5") / max(1, expected))
            landed += k.killed
            assert target_problems(target) == [], where
            if (target / "snapshots").exists() and any((target / "snapshots").iterdir()):
                assert lv(base, env, "backup", "check", "--read-data", check=False).returncode == 0, where
            lv(base, env, "backup", "run")
            assert lv(base, env, "backup", "check", "--read-data", check=False).returncode == 0, where
            out = base / "out"
            rmtree(out)
            lv(base, env, "backup", "restore", "latest", "--to", str(out), "--verify")
            assert file_digests(out / "data") == digests, where
            assert target_problems(target) == [], where
        return landed

    _rounds(tmp_path, "run", body)


def test_kill_backup_prune(tmp_path: Path) -> None:
    def body(base: Path, nsmall: int) -> int:
        env, src, target = _world(base, nsmall)
        for version in (1, 2, 3):
            rmtree(src)
            make_dataset(src, nsmall, 4, seed=version)
            lv(base, env, "backup", "run")
        kept = file_digests(src)
        lv(base, env, "backup", "drill")  # forget removes nothing until a newer snapshot is verified
        lv(base, env, "backup", "forget")
        template = base / "template"
        shutil.copytree(target, template, symlinks=True)
        duration = timed(base, env, "backup", "prune")
        after = count_files(target / "files" / "md5")
        before = count_files(template / "files" / "md5")
        landed = 0
        for point in kill_plan(N_KILLS, "backup-prune"):
            rmtree(target)
            shutil.copytree(template, target, symlinks=True)
            k, where = kill_at_point(base, env, ["backup", "prune"], point, duration,
                                     lambda: (before - count_files(target / "files" / "md5"))
                                     / max(1, before - after))
            landed += k.killed
            assert target_problems(target) == [], where
            assert lv(base, env, "backup", "check", "--read-data", check=False).returncode == 0, where
            lv(base, env, "backup", "prune")
            assert count_files(target / "files" / "md5") == after, where
            out = base / "out"
            rmtree(out)
            lv(base, env, "backup", "restore", "latest", "--to", str(out), "--verify")
            assert file_digests(out / "data") == kept, where
        return landed

    _rounds(tmp_path, "prune", body)


def test_kill_backup_restore(tmp_path: Path) -> None:
    def body(base: Path, nsmall: int) -> int:
        env, src, _target = _world(base, nsmall)
        lv(base, env, "backup", "run")
        digests = file_digests(src)
        out = base / "out"
        duration = timed(base, env, "backup", "restore", "latest", "--to", str(out))
        landed = 0
        for point in kill_plan(N_KILLS, "backup-restore"):
            rmtree(out)
            k, where = kill_at_point(base, env, ["backup", "restore", "latest", "--to", str(out)], point, duration,
                                     lambda: count_files(out) / max(1, len(digests)))
            landed += k.killed
            # whole files only: each restored file (temp files aside) has its source's bytes
            if (out / "data").exists():
                got = {rel: d for rel, d in file_digests(out / "data").items()
                       if not Path(rel).name.endswith(".lvtmp")}
                assert all(digests[rel] == d for rel, d in got.items()), where
            lv(base, env, "backup", "restore", "latest", "--to", str(out), "--verify")
            assert file_digests(out / "data") == digests, where  # no temp file left either
        return landed

    _rounds(tmp_path, "restore", body)
