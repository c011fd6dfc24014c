"""Repositories written by labvault, read by the real dvc."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Runner

from ._support import (
    DIR_TREE,
    big_blob,
    commit_all,
    dvc_data_status,
    dvc_status,
    lv_status,
    under,
    workspace,
)

pytestmark = pytest.mark.interop

MakeTree = Callable[[Path, dict[str, bytes | str]], None]
CleanDir = Callable[[Path], None]


def test_dvc_finds_labvault_repo_clean_and_checks_it_out(
    git_repo: Path, git: Runner, lv: Runner, dvc: Runner, make_tree: MakeTree, clean_dir: CleanDir
) -> None:
    make_tree(git_repo, {"model.bin": big_blob(), **under("data", DIR_TREE)})
    lv("init")
    lv("add", "model.bin", "data")
    commit_all(git, "track data")
    before = workspace(git_repo)

    assert dvc_status(dvc) == {}
    assert dvc_data_status(dvc) == {}

    clean_dir(git_repo / "data")
    clean_dir(git_repo / "model.bin")
    assert "data.dvc" in dvc_status(dvc)
    dvc("checkout")
    assert workspace(git_repo) == before
    assert dvc_status(dvc) == {}


def test_dvc_stays_clean_across_labvault_add_and_revision_switch(
    git_repo: Path, git: Runner, lv: Runner, dvc: Runner, make_tree: MakeTree
) -> None:
    make_tree(git_repo, {"model.bin": b"weights v1\n", **under("data", DIR_TREE)})
    lv("init")
    lv("add", "data", "model.bin")
    commit_all(git, "v1")
    v1 = workspace(git_repo)

    (git_repo / "data" / "a.txt").write_text("alpha, revised\n")
    (git_repo / "data" / "sub" / "b.csv").unlink()
    make_tree(git_repo, {"data/new/file.txt": "fresh\n", "model.bin": b"weights v2\n"})
    lv("add", "data", "model.bin")
    assert dvc_status(dvc) == {}
    commit_all(git, "v2")
    v2 = workspace(git_repo)
    assert v1 != v2

    git("checkout", "-q", "HEAD~1")
    lv("checkout")
    assert workspace(git_repo) == v1
    assert dvc_status(dvc) == {}

    git("checkout", "-q", "main")
    lv("checkout")
    assert workspace(git_repo) == v2
    assert dvc_status(dvc) == {}


def _dvc_changes(status: dict[str, list[object]]) -> dict[str, str]:
    """{output path: state} from `dvc status --json`, states spelled the labvault way."""
    changes: dict[str, str] = {}
    for entries in status.values():
        for entry in entries:
            assert isinstance(entry, dict)
            for path, state in entry.get("changed outs", {}).items():
                changes[path] = state.replace(" ", "_")
    return changes


def test_labvault_and_dvc_agree_on_what_changed(
    git_repo: Path, git: Runner, lv: Runner, dvc: Runner, make_tree: MakeTree
) -> None:
    make_tree(
        git_repo,
        {
            "model.bin": b"weights\n",
            "notes.txt": "to be deleted\n",
            "keep.txt": "untouched\n",
            **under("data", DIR_TREE),
        },
    )
    lv("init")
    lv("add", "model.bin", "notes.txt", "keep.txt", "data")
    commit_all(git, "track")

    (git_repo / "model.bin").write_bytes(b"weights, retrained\n")
    (git_repo / "notes.txt").unlink()
    (git_repo / "data" / "sub" / "b.csv").write_text("x,y\n3,4\n")
    (git_repo / "data" / "a.txt").unlink()
    make_tree(git_repo, {"data/sub/added.txt": "new\n"})

    ours = lv_status(lv)
    assert ours["clean"] is False
    by_path = {out["path"]: out for out in ours["outputs"]}
    assert {p: o["status"] for p, o in by_path.items()} == {
        "model.bin": "modified",
        "notes.txt": "deleted",
        "keep.txt": "clean",
        "data": "modified",
    }
    assert by_path["data"]["added"] == ["sub/added.txt"]
    assert by_path["data"]["modified"] == ["sub/b.csv"]
    assert by_path["data"]["deleted"] == ["a.txt"]

    theirs = _dvc_changes(dvc_status(dvc))
    assert theirs == {p: o["status"] for p, o in by_path.items() if o["status"] != "clean"}
