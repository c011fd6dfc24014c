"""The same data added by labvault and by dvc gives the same bytes: pointers, ignores, cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Runner

from ._support import DIR_TREE, big_blob, cache_files, pointers_and_ignores, under

pytestmark = pytest.mark.interop

CASES: dict[str, tuple[dict[str, bytes | str], list[str]]] = {
    "single-file": ({"model.bin": big_blob()}, ["model.bin"]),
    "directory": (under("data", DIR_TREE), ["data"]),
    "several-targets": (
        {
            # An existing .gitignore without a final newline: the entries go on new lines.
            ".gitignore": "keep",
            "zeta.txt": "last letter\n",
            "données brutes/x/f 1.txt": "a\n",
            "nested/deeper/m.bin": b"\x00\x01\r\n",
            "rapport final.txt": "c\n",
            "empty.txt": b"",
            "crlf.txt": b"one\r\ntwo\r\n",
        },
        # Not sorted on purpose: the .gitignore lines follow the order of the arguments.
        [
            "zeta.txt",
            "données brutes",
            "nested/deeper/m.bin",
            "rapport final.txt",
            "empty.txt",
            "crlf.txt",
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_add_writes_what_dvc_writes(
    case: str,
    tmp_path: Path,
    git_repo: Path,
    git: Runner,
    lv: Runner,
    dvc: Runner,
    make_tree: Callable[[Path, dict[str, bytes | str]], None],
) -> None:
    files, targets = CASES[case]
    ours = git_repo
    theirs = tmp_path / "dvc-side"
    theirs.mkdir()
    git("init", "-q", "-b", "main", cwd=theirs)
    make_tree(ours, files)
    make_tree(theirs, files)

    lv("init")
    lv("add", *targets)
    dvc("init", "-q", cwd=theirs)
    dvc("add", "-q", *targets, cwd=theirs)

    assert pointers_and_ignores(ours) == pointers_and_ignores(theirs)
    ours_cache, theirs_cache = cache_files(ours), cache_files(theirs)
    assert sorted(ours_cache) == sorted(theirs_cache)
    assert ours_cache == theirs_cache  # same ids, same bytes (.dir manifests included)


def test_init_writes_dvc_internal_gitignore(
    tmp_path: Path, git_repo: Path, git: Runner, lv: Runner, dvc: Runner
) -> None:
    theirs = tmp_path / "dvc-side"
    theirs.mkdir()
    git("init", "-q", "-b", "main", cwd=theirs)
    lv("init")
    dvc("init", "-q", cwd=theirs)
    ours_gi = (git_repo / ".dvc" / ".gitignore").read_bytes()
    assert ours_gi == (theirs / ".dvc" / ".gitignore").read_bytes()
    assert ours_gi == b"/config.local\n/tmp\n/cache\n"
    assert (git_repo / ".dvcignore").is_file()
    staged = git("diff", "--cached", "--name-only").stdout.split()
    assert {".dvc/.gitignore", ".dvc/config", ".dvcignore"} <= set(staged)
