"""Folders with awkward names, written by the real dvc and read by labvault, and the other way round.

Names a POSIX folder may hold that trip naive code: a colon in second place (``c:notes.txt``, not a
Windows drive here), NFC/NFD twins, emoji, CJK, spaces, names that sort differently as bytes, as text
and by path component, CRLF text and empty files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.interop

AWKWARD = {
    "data/c:notes.txt": "colon in second place\r\n",
    "data/a:/b": "a folder named 'a:'",
    "data/\u00e9t\u00e9.csv": "nfc\r\n",
    "data/e\u0301te\u0301.csv": "nfd\r\n",
    "data/\U0001f600 smile/\u6570\u636e.bin": b"\x00\x01\r\n",
    "data/a b": "space",
    "data/a-b/c": "dash folder",
    "data/a.b": "dot",
    "data/a/b": "slash",
    "data/aB": "",
    "data/\uff21": "fullwidth A",
}


def _snapshot(base: Path) -> dict[str, bytes]:
    return {
        p.relative_to(base).as_posix(): p.read_bytes()
        for p in sorted(base.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("only", [None, "data/c:notes.txt"], ids=["all-names", "colon-only"])
def test_labvault_checks_out_what_dvc_added(git_repo: Path, dvc, lv, git, make_tree, only) -> None:
    files = {k: v for k, v in AWKWARD.items() if only is None or k == only}
    dvc("init", "-q")
    make_tree(git_repo, files)
    want = _snapshot(git_repo / "data")
    dvc("add", "data")
    shutil.rmtree(git_repo / "data")
    lv("checkout")
    assert _snapshot(git_repo / "data") == want
    status = lv("status", "--json")
    assert '"clean": true' in status.stdout


def test_dvc_accepts_what_labvault_added(git_repo: Path, dvc, lv, make_tree) -> None:
    lv("init")
    make_tree(git_repo, AWKWARD)
    want = _snapshot(git_repo / "data")
    lv("add", "data")
    dvc_status = dvc("status", "--json")
    assert dvc_status.stdout.strip() in ("{}", ""), dvc_status.stdout
    shutil.rmtree(git_repo / "data")
    dvc("checkout")
    assert _snapshot(git_repo / "data") == want
