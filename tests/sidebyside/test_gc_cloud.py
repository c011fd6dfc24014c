"""``gc -c`` (``--cloud``), side by side with ``dvc gc -c``: after the same history is pushed to
each tool's own folder remote, both tools' gc leaves the same objects on the remote and in the
cache, keeping tags or only the workspace. A kept folder whose manifest only the remote holds
still keeps its files; one that is on neither refuses the gc, nothing deleted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.interop


def _objects(root: Path) -> set[str]:
    base = root / "files" / "md5"
    return {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()} if base.is_dir() else set()


def _stores(sbs: SideBySide) -> tuple[Path, Path]:
    return sbs.base / "lv-store", sbs.base / "dvc-store"


def _history(sbs: SideBySide) -> None:
    lv_store, dvc_store = _stores(sbs)
    sbs.run_ok("remote", "add", "-d", "r", str(dvc_store), lv_args=["remote", "add", "-d", "r", str(lv_store)])
    sbs.write({"data/a.txt": "a1\n", "data/sub/b.txt": "b\n", "model.bin": "m1\n", "old.txt": "old\n"})
    sbs.run_ok("add", "data", "model.bin", "old.txt")
    sbs.git_commit("v1").git("tag", "v1")
    sbs.write({"data/a.txt": "a2\n", "data/c.txt": "c\n", "model.bin": "m2\n"})
    sbs.run_ok("add", "data", "model.bin")
    sbs.run_ok("remove", "old.txt.dvc")
    sbs.git_commit("v2")
    sbs.write({"data/a.txt": "a3\n", "model.bin": "m3\n"})
    sbs.run_ok("add", "data", "model.bin")
    sbs.git_commit("v3")
    sbs.run_ok("push", "-A")  # every commit's objects


def test_gc_cloud_keeps_what_dvc_keeps(sbs: SideBySide) -> None:
    _history(sbs)
    lv_store, dvc_store = _stores(sbs)
    assert _objects(lv_store) == _objects(dvc_store) and len(_objects(lv_store)) == 12
    before = _objects(lv_store)
    dry = sbs.lv("gc", "-w", "-T", "-c", "-n")
    assert dry.returncode == 0 and "would remove" in dry.stdout and _objects(lv_store) == before
    sbs.run_ok("gc", "-w", "-T", "-c", "-f")  # keep v1 (tag) and the workspace: v2's go
    assert _objects(lv_store) == _objects(dvc_store) != before
    assert _objects(sbs.lv_root / ".dvc" / "cache") == _objects(sbs.dvc_root / ".dvc" / "cache")
    sbs.run_ok("gc", "-w", "-c", "-f")
    assert _objects(lv_store) == _objects(dvc_store)
    assert _objects(sbs.lv_root / ".dvc" / "cache") == _objects(sbs.dvc_root / ".dvc" / "cache")
    assert len(_objects(lv_store)) == 5  # a3, b.txt, c.txt, the folder's manifest, m3
    shutil.rmtree(sbs.lv_root / "data")
    sbs.lv("pull").check_returncode()  # what is left is all the workspace needs
    assert (sbs.lv_root / "data" / "a.txt").read_text() == "a3\n"


def test_gc_cloud_reads_kept_manifests_it_lacks(sbs: SideBySide) -> None:
    _history(sbs)
    lv_store, _ = _stores(sbs)
    cache = sbs.lv_root / ".dvc" / "cache"
    manifests = [p for p in (cache / "files" / "md5").rglob("*.dir")]
    for p in manifests:  # only the remote holds the folder manifests now
        p.chmod(0o644)
        p.unlink()
    files_before = _objects(lv_store)
    r = sbs.lv("gc", "-w", "-A", "-c", "-f")
    assert r.returncode == 0, r.stderr
    assert _objects(lv_store) == files_before  # every commit kept: nothing goes
    removed = sbs.lv("gc", "-w", "-c", "-f")
    assert removed.returncode == 0, removed.stderr
    shutil.rmtree(sbs.lv_root / "data")
    sbs.lv("pull").check_returncode()  # the workspace folder's files were kept by its remote manifest
    assert (sbs.lv_root / "data" / "sub" / "b.txt").read_text() == "b\n"

    # a kept folder whose manifest is on neither side: nothing deleted, one line
    for p in (lv_store / "files" / "md5").rglob("*.dir"):
        p.chmod(0o644)
        p.unlink()
    for p in (cache / "files" / "md5").rglob("*.dir"):
        p.chmod(0o644)
        p.unlink()
    sbs.write({"model.bin": "m4\n"})
    sbs.lv("add", "model.bin").check_returncode()
    sbs.lv("push", "model.bin").check_returncode()
    before = _objects(lv_store)
    r = sbs.lv("gc", "-w", "-c", "-f")
    assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "is neither in the cache nor on remote r" in r.stderr
    assert _objects(lv_store) == before
