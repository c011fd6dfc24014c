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
    dry = sbs.lv("gc", "-w", "-T", "-c", "--dry-run")
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


@pytest.mark.parametrize("args", [
    ["-w", "-a", "-n", "2"],  # the branch tip and its parent
    ["-w", "--rev", "v1"],
    ["-w", "--rev", "HEAD~1", "-n", "2"],
    ["-w", "--date", "2000-01-01"],  # every commit
    ["-w", "--date", "2999-01-01"],  # none: the workspace only
    ["-w", "--not-in-remote"],  # what the remote holds goes, used or not; v5's model was never pushed
    ["-w", "-T", "--not-in-remote"],
])
def test_gc_revision_choices_as_dvc(sbs: SideBySide, args: list[str]) -> None:
    _history(sbs)
    sbs.write({"model.bin": "m4\n"})
    sbs.run_ok("add", "model.bin")
    sbs.git_commit("v4")
    sbs.write({"model.bin": "m5\n"})
    sbs.run_ok("add", "model.bin")
    sbs.git_commit("v5")
    sbs.run_ok("gc", *args, "-f")
    lv_cache, dvc_cache = (_objects(root / ".dvc" / "cache") for root in sbs.roots)
    assert lv_cache == dvc_cache, (sorted(lv_cache ^ dvc_cache), args)
    assert _objects(_stores(sbs)[0]) == _objects(_stores(sbs)[1])


def test_gc_refuses_bad_combinations(sbs: SideBySide) -> None:
    _history(sbs)
    before = _objects(sbs.lv_root / ".dvc" / "cache")
    lv, dvc = sbs.run("gc", "-w", "-n", "2", "-f")
    assert lv.returncode != 0 and dvc.returncode != 0
    assert "--num" in lv.stderr and len(lv.stderr.strip().splitlines()) == 1
    assert _objects(sbs.lv_root / ".dvc" / "cache") == before
    lv, dvc = sbs.run("gc", "-w", "--not-in-remote", "-c", "-f")
    assert lv.returncode != 0 and dvc.returncode != 0 and "cannot go together" in lv.stderr
    bad = sbs.lv("gc", "-w", "--date", "31.01.2026", "-f")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    assert _objects(sbs.lv_root / ".dvc" / "cache") == before
