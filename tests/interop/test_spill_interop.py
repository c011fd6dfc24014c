"""A spilled cache read by the real dvc: the spill tier is a remote in ``.dvc/config`` that
``dvc pull -r TIER`` fetches the spilled objects from; and the command line around it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tests.conftest import Runner, snapshot
from tests.interop._support import commit_all

V1 = {"model.bin": b"weights v1\n" * 4000, "images/a.jpg": b"a v1", "images/b.jpg": b"b, never changed"}
V2 = {"model.bin": b"weights v2\n" * 4000, "images/a.jpg": b"a v2", "images/b.jpg": b"b, never changed"}


def _write(repo: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.exists():
            p.chmod(0o644)
            p.unlink()
        p.write_bytes(data)


def _age(repo: Path) -> None:
    then = time.time() - 60 * 86400
    for root, _, names in os.walk(repo / ".dvc/cache"):
        for n in names:
            os.utime(os.path.join(root, n), (then, then))


def test_dvc_pull_from_the_spill_tier(git_repo: Path, git: Runner, lv: Runner, dvc: Runner, env: dict[str, str],
                                      tmp_path: Path) -> None:
    cold = tmp_path / "hdd0"
    cold.mkdir()
    lab = tmp_path / "lab.yaml"
    lab.write_text(f"catalog_url: sqlite:///{tmp_path / 'catalog.db'}\ntiers:\n  hot:\n    path: {tmp_path}/nvme0\n"
                   f"  cold:\n    path: {cold}\n  glacier:\n    url: s3://bucket/lab\n    storage_class: GLACIER\n")
    env["LABVAULT_LAB"] = str(lab)
    lv("init")
    commit_all(git, "init")
    for version in (V1, V2):
        _write(git_repo, version)
        lv("add", "model.bin", "images")
        commit_all(git, "data")
    _age(git_repo)

    refused = lv("cache", "spill", "--to", "glacier", check=False)
    assert refused.returncode != 0 and "folder-only" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    plan = json.loads(lv("cache", "spill", "--dry-run", "--json").stdout)
    assert plan["tier"] == "cold" and plan["moved"] == 2 and plan["dry_run"]
    done = json.loads(lv("cache", "spill", "--to", "cold", "--days", "30", "--json").stdout)
    assert sorted(done["objects"]) == sorted(plan["objects"]) and done["default_remote"]
    for oid in done["objects"]:
        assert not (git_repo / ".dvc/cache/files/md5" / oid[:2] / oid[2:]).exists()
        assert (cold / "files/md5" / oid[:2] / oid[2:]).exists()

    git("checkout", "HEAD~1", "--", "model.bin.dvc", "images.dvc")  # the pointers of v1 again
    status = json.loads(lv("status", "--json").stdout)
    assert "not_in_cache" not in json.dumps(status), status
    # dvc fetches the spilled objects from the tier, as from any remote
    dvc("pull", "-r", "cold", "--force")
    got = snapshot(git_repo, skip=(".git", ".dvc", "model.bin.dvc", "images.dvc", ".gitignore", ".dvcignore"))
    assert {k: v for k, v in got.items() if k in V1} == V1
    assert json.loads(dvc("status", "--json").stdout) == {}
