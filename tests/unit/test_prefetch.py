"""The read-ahead helper (workspace.prefetch): a scan that takes folders from it finds exactly
what a scan of its own finds, whether the helper read everything or ran out of memory, and
never takes a folder listed before the workspace changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from labvault import api
from labvault.workspace import prefetch, walk
from labvault.workspace.prefetch_process import cpus
from labvault.workspace.repo import open_repo

# One CPU: no helper is ever started, so there is nothing to test; in CI that is a failure.
pytestmark = pytest.mark.skipif(cpus() < 2 and os.environ.get("CI") != "true", reason="the helper needs two CPUs")


def _tree(root: Path) -> None:
    for d in range(4):
        sub = root / f"d{d}" / "inner"
        sub.mkdir(parents=True)
        for i in range(60):
            (root / f"d{d}" / f"{i:03d}.bin").write_bytes(b"x" * (d * 1000 + i))
        (sub / "deep.txt").write_text(f"deep {d}")
    (root / "empty").mkdir()
    (root / "skipped").mkdir()
    (root / "skipped" / "a.txt").write_text("ignored folder")
    (root / "ignored.log").write_text("ignored file")
    (root / "target.txt").write_text("the target")
    os.symlink(root / "target.txt", root / "link.txt")
    # a write in progress (its writer, this process, runs): not data, set aside by both walks
    (root / f".target.txt.{os.getpid()}-0a0b0c0d.lvtmp").write_text("a write in progress")


def _walk(root: Path, repo_root: Path) -> tuple[list[walk.FileStat], list[str]]:
    checker = open_repo(repo_root).ignore.checker_for(root.relative_to(repo_root).as_posix())
    leftovers: list[str] = []
    return sorted(walk.walk_dir(str(root), checker, leftovers)), sorted(leftovers)


def _folders(root: Path) -> list[str]:
    return [str(root), *sorted(str(p) for p in root.rglob("*") if p.is_dir() and not p.is_symlink())]


def _read_ahead(root: Path, shared: int = prefetch.SHARED) -> prefetch.Prefetch:
    helper = prefetch.Prefetch([str(root)], read_ahead=True, shared=shared).start()
    assert helper.pid, "no helper was started"
    assert helper.join(30), "the helper did not finish"
    return helper


def test_folders_from_the_helper_give_the_same_walk(tmp_path: Path) -> None:
    api.init(tmp_path, no_scm=True)
    (tmp_path / ".dvcignore").write_text("*.log\nskipped/\n")
    root = tmp_path / "data"
    _tree(root)
    own = _walk(root, tmp_path)
    assert len(own[0]) == 4 * 61 + 2 and len(own[1]) == 1

    before = prefetch.handed_out
    helper = _read_ahead(root)
    try:
        got = _walk(root, tmp_path)
    finally:
        helper.stop()
    walked = [f for f in _folders(root) if not f.endswith("/skipped")]  # .dvcignore'd: not walked
    assert prefetch.handed_out - before == len(walked)  # every folder walked came from the helper
    assert got == own


def test_a_full_shared_memory_leaves_the_rest_to_the_scan(tmp_path: Path) -> None:
    api.init(tmp_path, no_scm=True)
    root = tmp_path / "data"
    _tree(root)
    own = _walk(root, tmp_path)
    before = prefetch.handed_out
    # Room for the path list and a few small folders, not for all four of 60 files.
    helper = _read_ahead(root, shared=4096)
    try:
        got = _walk(root, tmp_path)
    finally:
        helper.stop()
    taken = prefetch.handed_out - before
    assert 0 < taken < len(_folders(root)) - 1  # some folders from the helper, the rest read again
    assert got == own


def test_status_of_a_changed_folder_is_the_same_with_the_helper(tmp_path: Path) -> None:
    api.init(tmp_path, no_scm=True)
    root = tmp_path / "data"
    _tree(root)
    api.add(["data"], repo=tmp_path)
    (root / "d1" / "005.bin").write_bytes(b"changed")
    (root / "d2" / "new.bin").write_bytes(b"new")
    (root / "d3" / "010.bin").unlink()
    want = ["modified", ("d2/new.bin",), ("d1/005.bin",), ("d3/010.bin",)]

    for shared in (prefetch.SHARED, 4096):  # all folders from the helper, then only some
        before = prefetch.handed_out
        helper = _read_ahead(root, shared)
        try:
            out = api.status(repo=tmp_path, read_ahead=True).outputs[0]  # covered: no second helper
        finally:
            helper.stop()
        assert prefetch.handed_out > before
        assert [out.status, out.added, out.modified, out.deleted] == want
    own = api.status(repo=tmp_path).outputs[0]
    assert [own.status, own.added, own.modified, own.deleted] == want


def test_listings_are_not_used_once_the_workspace_changes(tmp_path: Path) -> None:
    api.init(tmp_path, no_scm=True)
    root = tmp_path / "data"
    _tree(root)
    helper = _read_ahead(root)
    try:
        assert prefetch._current is not None
        prefetch._current.drain()
        assert len(prefetch._current.listings) == len(_folders(root))  # all read before the change
        (root / "d0" / "000.bin").write_bytes(b"written after the helper read the folder")
        before = prefetch.handed_out
        prefetch.discard_listings()
        files = walk.walk_dir(str(root), open_repo(tmp_path).ignore.checker_for("data"))
    finally:
        helper.stop()
    assert prefetch.handed_out == before
    assert {f[0]: f[4] for f in files}["d0/000.bin"] == len(b"written after the helper read the folder")


def test_status_remembers_what_it_scanned_for_the_next_run(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    api.init(tmp_path)
    for i in range(3):
        (tmp_path / f"in{i}").mkdir()
        (tmp_path / f"in{i}" / "f.txt").write_text(str(i))
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n"
        + "".join(f"  s{i}:\n    cmd: cp in{i}/f.txt out{i}.txt\n    deps:\n    - in{i}\n    outs:\n    - out{i}.txt\n"
                  for i in range(3))
    )
    cli = [sys.executable, "-c", "from labvault.cli.entry import main; main()"]
    subprocess.run([*cli, "repro"], cwd=tmp_path, check=True, capture_output=True)
    for _ in range(2):  # the second run starts its helper from the first run's hint
        done = subprocess.run([*cli, "status"], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0 and "up to date" in done.stdout, done.stderr
    hint = (tmp_path / ".dvc" / "tmp" / "labvault" / "prefetch-status").read_text().splitlines()
    assert hint == [str(tmp_path / p) for i in range(3) for p in (f"in{i}", f"out{i}.txt")]
    assert not (tmp_path / ".dvc" / "tmp" / "labvault" / "prefetch-repro").exists()  # repro starts none early


def test_a_hint_naming_paths_outside_the_repository_is_not_followed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    api.init(repo, no_scm=True)
    (repo / "data").mkdir()
    hint = repo / ".dvc" / "tmp" / "labvault" / "prefetch-status"
    hint.parent.mkdir(parents=True, exist_ok=True)
    hint.write_text(f"{tmp_path}\n/\n{repo}/../elsewhere\n")  # a hostile or stale hint
    started = prefetch.started
    prefetch.start_early("status", str(repo))
    try:
        assert prefetch.started == started and prefetch._early is None
        hint.write_text(f"{repo}/data\n")
        prefetch.start_early("status", str(repo))
        assert prefetch.started == started + 1
    finally:
        prefetch._stop_all()
        prefetch._hint = None
