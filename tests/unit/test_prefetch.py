"""The read-ahead helper (workspace.prefetch): a scan that takes folders from it finds exactly
what a scan of its own finds, and never takes a folder listed before the workspace changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from labvault import api
from labvault.workspace import prefetch, walk
from labvault.workspace.repo import open_repo

pytestmark = pytest.mark.skipif(prefetch._cpus() < 2, reason="the helper runs only with two or more CPUs")


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
    (root / ".target.txt.999999-0a0b0c0d.lvtmp").write_text("an interrupted write")  # not data


def _walk(root: Path, repo_root: Path) -> tuple[list[walk.FileStat], list[str]]:
    checker = open_repo(repo_root).ignore.checker_for(root.relative_to(repo_root).as_posix())
    leftovers: list[str] = []
    return sorted(walk.walk_dir(str(root), checker, leftovers)), sorted(leftovers)


def _folders(root: Path) -> list[str]:
    return [str(root), *sorted(str(p) for p in root.rglob("*") if p.is_dir() and not p.is_symlink())]


# The helper forks only from a single-threaded process; a test worker may have threads left by
# other tests, so these run in a fresh interpreter, as the command line does.
_WALK_WITH_HELPER = """
import json, sys
from labvault.workspace import prefetch, walk
from labvault.workspace.repo import open_repo
repo, root = sys.argv[1], sys.argv[2]
helper = prefetch.Prefetch([root]).start()
assert helper.join(30), "the helper did not finish"
checker = open_repo(repo).ignore.checker_for("data")
leftovers = []
files = sorted(walk.walk_dir(root, checker, leftovers))
helper.stop()
print(json.dumps({"files": files, "leftovers": sorted(leftovers), "handed_out": prefetch.handed_out}))
"""

_STATUS_WITH_HELPER = """
import json, sys
from labvault import api
from labvault.workspace import prefetch
repo, root = sys.argv[1], sys.argv[2]
helper = prefetch.Prefetch([root]).start()
assert helper.join(30), "the helper did not finish"
out = api.status(repo=repo).outputs[0]  # starts no second helper: the paths are covered
helper.stop()
print(json.dumps({"status": [out.status, out.added, out.modified, out.deleted], "handed_out": prefetch.handed_out}))
"""


def _run(script: str, *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_folders_from_the_helper_give_the_same_walk(tmp_path: Path) -> None:
    api.init(tmp_path, no_scm=True)
    (tmp_path / ".dvcignore").write_text("*.log\nskipped/\n")
    root = tmp_path / "data"
    _tree(root)
    files, leftovers = _walk(root, tmp_path)
    assert len(files) == 4 * 61 + 2 and len(leftovers) == 1

    got = _run(_WALK_WITH_HELPER, str(tmp_path), str(root))
    walked = [f for f in _folders(root) if not f.endswith("/skipped")]  # .dvcignore'd: not walked
    assert got["handed_out"] == len(walked)  # every folder walked came from the helper
    assert [tuple(f) for f in got["files"]] == files and got["leftovers"] == leftovers


def test_status_of_a_changed_folder_is_the_same_with_the_helper(tmp_path: Path) -> None:
    api.init(tmp_path, no_scm=True)
    root = tmp_path / "data"
    _tree(root)
    api.add(["data"], repo=tmp_path)
    (root / "d1" / "005.bin").write_bytes(b"changed")
    (root / "d2" / "new.bin").write_bytes(b"new")
    (root / "d3" / "010.bin").unlink()

    got = _run(_STATUS_WITH_HELPER, str(tmp_path), str(root))
    assert got["handed_out"] > 0
    assert got["status"] == ["modified", ["d2/new.bin"], ["d1/005.bin"], ["d3/010.bin"]]
    own = api.status(repo=tmp_path).outputs[0]
    assert [own.status, list(own.added), list(own.modified), list(own.deleted)] == got["status"]


_WALK_AFTER_A_CHANGE = """
import json, sys
from pathlib import Path
from labvault.workspace import prefetch, walk
from labvault.workspace.repo import open_repo
repo, root = sys.argv[1], sys.argv[2]
helper = prefetch.Prefetch([root]).start()
assert helper.join(30), "the helper did not finish"
assert prefetch._current is not None
prefetch._current.drain()
ready = len(prefetch._current.listings)  # folders the helper had read before the change
Path(root, "d0", "000.bin").write_bytes(b"written after the helper read the folder")
prefetch.discard_listings()
files = walk.walk_dir(root, open_repo(repo).ignore.checker_for("data"))
helper.stop()
print(json.dumps({"sizes": {f[0]: f[4] for f in files}, "handed_out": prefetch.handed_out, "ready": ready}))
"""


def test_listings_are_not_used_once_the_workspace_changes(tmp_path: Path) -> None:
    api.init(tmp_path, no_scm=True)
    root = tmp_path / "data"
    _tree(root)
    got = _run(_WALK_AFTER_A_CHANGE, str(tmp_path), str(root))
    assert got["ready"] == len(_folders(root)) and got["handed_out"] == 0
    assert got["sizes"]["d0/000.bin"] == len(b"written after the helper read the folder")


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
