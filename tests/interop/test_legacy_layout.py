"""Data stored the DVC 2.x way: pointers without `hash:`, objects in .dvc/cache/XX/, md5 of text
computed after CRLF -> LF. Checked against the real dvc first, then against labvault."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.conftest import Runner

from ._support import (
    cache_files,
    commit_all,
    dvc_status,
    legacy_md5,
    looks_like_text,
    lv_status,
    pointers_and_ignores,
    workspace,
    write_legacy_dir,
    write_legacy_file,
)

pytestmark = pytest.mark.interop

NOTES = b"line one\r\nline two\r\n"
DATASET = {
    "a.csv": b"x,y\r\n1,2\r\n",
    "readme.md": b"plain\nunix\n",
    "sub/raw.bin": b"\x00\x01\r\n\x02" * 64,  # binary: hashed as is, CRLF kept
    "sub/empty": b"",
    "sub/deeper/é ü.txt": "accentué\r\n".encode(),
    # Larger than one 1 MiB hashing chunk: text first, a NUL in the second chunk (which is
    # therefore hashed raw), and a CRLF straddling the chunk boundary (never converted).
    "sub/mixed.log": b"ab\r\n" * ((1 << 20) // 4 - 1) + b"abc\r" + b"\n\x00cd\r\n" * 1000,
}
EXPECTED = {
    "notes.txt": NOTES,
    **{f"dataset/{rel}": data for rel, data in DATASET.items()},
}


def _build(repo: Path, git: Runner) -> dict[str, bytes]:
    write_legacy_file(repo, "notes.txt", NOTES)
    write_legacy_dir(repo, "dataset", DATASET)
    commit_all(git, "data stored by dvc 2.x", cwd=repo)
    return pointers_and_ignores(repo)


def _data(repo: Path) -> dict[str, bytes]:
    """The tracked data in the workspace (any extra or missing file shows up in comparisons)."""
    return {
        rel: data
        for rel, data in workspace(repo).items()
        if rel == "notes.txt" or rel.startswith("dataset/")
    }


def test_the_sample_really_uses_the_legacy_hash() -> None:
    assert looks_like_text(NOTES)
    assert not looks_like_text(DATASET["sub/raw.bin"])
    assert legacy_md5(NOTES) != hashlib.md5(NOTES).hexdigest()
    raw = DATASET["sub/raw.bin"]
    assert legacy_md5(raw) == hashlib.md5(raw).hexdigest()
    mixed = DATASET["sub/mixed.log"]
    assert legacy_md5(mixed) not in {
        hashlib.md5(mixed).hexdigest(),
        hashlib.md5(mixed.replace(b"\r\n", b"\n")).hexdigest(),
    }


def test_dvc_restores_legacy_repo(git_repo: Path, git: Runner, dvc: Runner) -> None:
    dvc("init", "-q")
    pointers = _build(git_repo, git)
    assert dvc_status(dvc) != {}
    dvc("checkout")
    assert _data(git_repo) == EXPECTED
    assert dvc_status(dvc) == {}
    dvc("commit", "-f")
    assert pointers_and_ignores(git_repo) == pointers  # dvc keeps 2.x pointers as they are
    dvc("add", "-q", "notes.txt", "dataset")
    assert pointers_and_ignores(git_repo) == pointers


def test_labvault_restores_legacy_repo(
    git_repo: Path, git: Runner, lv: Runner, dvc: Runner
) -> None:
    lv("init")
    pointers = _build(git_repo, git)
    assert lv_status(lv)["clean"] is False
    lv("checkout")
    assert _data(git_repo) == EXPECTED
    status = lv_status(lv)
    assert status["clean"] is True, status
    assert {o["status"] for o in status["outputs"]} == {"clean"}
    assert pointers_and_ignores(git_repo) == pointers
    assert dvc_status(dvc) == {}


def test_labvault_keeps_unchanged_legacy_pointers(git_repo: Path, git: Runner, lv: Runner) -> None:
    """Like `dvc commit` and `dvc add` (see the oracle test above), recording unchanged 2.x data
    rewrites nothing."""
    lv("init")
    pointers = _build(git_repo, git)
    lv("checkout")
    lv("commit")
    assert pointers_and_ignores(git_repo) == pointers
    lv("add", "notes.txt", "dataset")
    assert pointers_and_ignores(git_repo) == pointers


def test_re_adding_changed_legacy_outputs_writes_what_dvc_writes(
    tmp_path: Path, git_repo: Path, git: Runner, lv: Runner, dvc: Runner
) -> None:
    """dvc upgrades a changed 2.x pointer in place: `hash: md5` lands after `path`."""
    theirs = tmp_path / "dvc-side"
    theirs.mkdir()
    git("init", "-q", "-b", "main", cwd=theirs)
    lv("init")
    dvc("init", "-q", cwd=theirs)
    for repo, tool in ((git_repo, lv), (theirs, dvc)):
        _build(repo, git)
        tool("checkout", cwd=repo)
        (repo / "notes.txt").write_bytes(b"rewritten\r\n")
        (repo / "dataset" / "added.txt").write_bytes(b"new\r\n")
        tool("add", "notes.txt", "dataset", cwd=repo)

    assert cache_files(git_repo) == cache_files(theirs)
    assert pointers_and_ignores(git_repo) == pointers_and_ignores(theirs)
