"""Repositories written by the real dvc, read and rewritten by labvault."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Runner

from ._support import (
    DIR_TREE,
    big_blob,
    commit_all,
    lv_status,
    pointers_and_ignores,
    under,
    workspace,
)

pytestmark = pytest.mark.interop


def test_labvault_reads_and_restores_dvc_repo(
    git_repo: Path,
    git: Runner,
    lv: Runner,
    dvc: Runner,
    make_tree: Callable[[Path, dict[str, bytes | str]], None],
    clean_dir: Callable[[Path], None],
) -> None:
    make_tree(git_repo, {"model.bin": big_blob(), **under("data", DIR_TREE)})
    dvc("init", "-q")
    dvc("add", "-q", "model.bin", "data")
    commit_all(git, "tracked by dvc")
    before = workspace(git_repo)
    dvc_pointers = pointers_and_ignores(git_repo)

    status = lv_status(lv)
    assert status["clean"] is True
    assert sorted(o["path"] for o in status["outputs"]) == ["data", "model.bin"]
    assert {o["status"] for o in status["outputs"]} == {"clean"}

    clean_dir(git_repo / "data")
    clean_dir(git_repo / "model.bin")
    assert lv_status(lv)["clean"] is False
    lv("checkout")
    assert workspace(git_repo) == before
    assert lv_status(lv)["clean"] is True

    # Recording unchanged outputs rewrites nothing: the pointers stay dvc's bytes.
    lv("commit")
    assert pointers_and_ignores(git_repo) == dvc_pointers
    assert workspace(git_repo) == before
