"""What checkout tells the stat cache: the files it wrote and deleted, and for a folder checked
out whole its tree oid, so the next status needs neither manifest; edits are still seen."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from labvault import api
from labvault.workspace.repo import open_repo


def _age(root: Path) -> None:
    """Date every file a minute back: none is 'racy' (just written) when a scan records it."""
    past = time.time() - 60
    for p in root.rglob("*"):
        os.utime(p, (past, past))


def _tree_oid(root: Path) -> str:
    found = re.search(r"md5: ([0-9a-f]{32}\.dir)", (root / "data.dvc").read_text())
    assert found is not None
    return found.group(1)


def test_a_whole_checkout_records_the_tree_and_every_file(tmp_path: Path) -> None:
    api.init(tmp_path, no_scm=True)
    data = tmp_path / "data"
    for d in range(3):
        (data / f"d{d}").mkdir(parents=True)
        for i in range(20):
            (data / f"d{d}" / f"{i}.txt").write_text(f"{d}-{i}")
    _age(data)
    api.add(["data"], repo=tmp_path)
    shutil.rmtree(data)

    api.checkout(repo=tmp_path)
    snap = open_repo(tmp_path).state.get("data")
    assert snap.tree_oid == _tree_oid(tmp_path)
    # Files written within the racy window are not recorded: they go to the patch with their
    # oid in the tree (read again by the next scan); every file is one or the other.
    assert sorted(snap.names + list(snap.patch)) == sorted(f"d{d}/{i}.txt" for d in range(3) for i in range(20))
    assert not set(snap.names) & set(snap.patch) and all(snap.patch.values())
    assert api.status(repo=tmp_path).clean

    (data / "d1" / "5.txt").write_text("edited after checkout")
    (out,) = api.status(repo=tmp_path).outputs
    assert (out.status, out.modified) == ("modified", ("d1/5.txt",))


def test_files_checkout_deletes_leave_the_stat_cache(tmp_path: Path) -> None:
    api.init(tmp_path, no_scm=True)
    data = tmp_path / "data"
    data.mkdir()
    for i in range(10):
        (data / f"{i}.txt").write_text(str(i))
    _age(data)
    api.add(["data"], repo=tmp_path)
    ten = (tmp_path / "data.dvc").read_text()
    (data / "extra.txt").write_text("not in the first tree")
    _age(data)
    api.add(["data"], repo=tmp_path)  # eleven files, all in the cache
    assert "extra.txt" in open_repo(tmp_path).state.get("data").names
    (tmp_path / "data.dvc").write_text(ten)  # back to the ten-file version

    result = api.checkout(repo=tmp_path)
    assert result.deleted == ["data/extra.txt"] and not (data / "extra.txt").exists()
    snap = open_repo(tmp_path).state.get("data")
    assert "extra.txt" not in snap.names and len(snap.names) == 10
    assert snap.tree_oid == _tree_oid(tmp_path)
    assert api.status(repo=tmp_path).clean
