"""`labvault checksums write|check` against GNU md5sum, both ways, byte for byte."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labvault import api
from labvault.errors import PathError, UsageError

MD5SUM = shutil.which("md5sum")
pytestmark = pytest.mark.skipif(MD5SUM is None, reason="GNU md5sum (coreutils) is needed as the oracle")
LABVAULT = [str(Path(sys.executable).parent / "labvault")]

TRICKY = {
    "plain.txt": b"hello\n",
    "with space.bin": bytes(range(256)) * 40,
    "caf\u00e9 \u6570\u636e.csv": b"a,b\n1,2\n",
    "back\\slash": b"\\",
    "new\nline": b"x" * 5000,
    "carriage\rreturn": b"",
    " leading space": b"ls",
    "star*name": b"*",
    "sub/deeper/file.dat": os.urandom(70_000),
    "sub/x": b"1",
}


def _tree(root: Path) -> None:
    for rel, content in TRICKY.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, timeout=120)


def _lv(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return _run([*LABVAULT, *args], cwd)


def _warnings(stderr: bytes) -> list[bytes]:
    """The summary WARNING lines, without md5sum's program name."""
    return [ln[ln.index(b"WARNING"):] for ln in stderr.splitlines() if b"WARNING" in ln]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "w"
    root.mkdir()
    _tree(root)
    return root


@pytest.mark.parametrize("prefix", ["", "./"])
def test_labvault_writes_what_md5sum_writes_and_md5sum_accepts(tree: Path, prefix: str) -> None:
    names = [prefix + n for n in sorted(TRICKY)]
    ours = _lv(tree, "checksums", "write", *names)
    assert ours.returncode == 0, ours.stderr
    theirs = _run([str(MD5SUM), *names], tree)
    assert ours.stdout == theirs.stdout
    (tree.parent / "lv.md5").write_bytes(ours.stdout)
    check = _run([str(MD5SUM), "-c", "../lv.md5"], tree)
    assert check.returncode == 0, check.stderr
    assert check.stdout.count(b": OK\n") == len(TRICKY)


def test_folder_is_walked_sorted_and_output_left_out(tree: Path) -> None:
    r = _lv(tree, "checksums", "write", ".", "-o", "all.md5")
    assert r.returncode == 0, r.stderr
    text = (tree / "all.md5").read_bytes()
    assert b"all.md5" not in text
    assert len(text.splitlines()) == len(TRICKY)  # one line per file, newlines in names escaped
    check = _run([str(MD5SUM), "-c", "all.md5"], tree)
    assert check.returncode == 0 and check.stdout.count(b": OK\n") == len(TRICKY)


@pytest.mark.parametrize("binary", [False, True])
def test_labvault_checks_what_md5sum_wrote(tree: Path, binary: bool) -> None:
    names = sorted(TRICKY)
    theirs = _run([str(MD5SUM), *(["-b"] if binary else []), *names], tree)
    (tree / "sums.md5").write_bytes(theirs.stdout)
    ours = _lv(tree, "checksums", "check", "sums.md5")
    ref = _run([str(MD5SUM), "-c", "sums.md5"], tree)
    assert ours.returncode == ref.returncode == 0
    assert ours.stdout == ref.stdout


def test_tagged_form_is_read(tree: Path) -> None:
    theirs = _run([str(MD5SUM), "--tag", "plain.txt", "sub/x"], tree)
    (tree / "tag.md5").write_bytes(theirs.stdout)
    ours = _lv(tree, "checksums", "check", "tag.md5")
    assert ours.returncode == 0 and ours.stdout == b"plain.txt: OK\nsub/x: OK\n"


def _corrupt(tree: Path, how: str, name: str) -> None:
    p = tree / name
    if how == "flip":
        data = bytearray(p.read_bytes())
        data[len(data) // 2] ^= 0x01
        p.write_bytes(bytes(data))
    elif how == "truncate":
        p.write_bytes(p.read_bytes()[:-1])
    elif how == "missing":
        p.unlink()
    elif how == "folder":
        p.unlink()
        p.mkdir()


@pytest.mark.parametrize("how", ["flip", "truncate", "missing", "folder"])
@pytest.mark.parametrize("name", ["with space.bin", "new\nline", "sub/deeper/file.dat"])
def test_every_injected_corruption_is_caught_like_md5sum(tree: Path, how: str, name: str) -> None:
    written = _lv(tree, "checksums", "write", *sorted(TRICKY), "-o", "s.md5")
    assert written.returncode == 0, written.stderr
    _corrupt(tree, how, name)
    ours = _lv(tree, "checksums", "check", "s.md5")
    ref = _run([str(MD5SUM), "-c", "s.md5"], tree)
    assert ours.returncode == ref.returncode == 1
    assert ours.stdout == ref.stdout
    assert _warnings(ours.stderr) == _warnings(ref.stderr)
    got = json.loads(_lv(tree, "checksums", "check", "s.md5", "--json").stdout)
    assert got["ok"] is False and got["checked"] == len(TRICKY)
    bad = got["failed"] if how in ("flip", "truncate") else got["unreadable"]
    assert bad == [name]
    quiet = _lv(tree, "checksums", "check", "s.md5", "--quiet")
    assert quiet.returncode == 1 and b": OK" not in quiet.stdout and quiet.stdout


def test_malformed_lines_warn_like_md5sum(tree: Path) -> None:
    good = _run([str(MD5SUM), "plain.txt", "sub/x"], tree).stdout
    (tree / "m.md5").write_bytes(good + b"not a checksum line\n\n# a comment\n   \n" + b"0" * 31 + b"  sub/x\n")
    ours = _lv(tree, "checksums", "check", "m.md5")
    ref = _run([str(MD5SUM), "-c", "m.md5"], tree)
    assert ours.returncode == ref.returncode == 0
    assert ours.stdout == ref.stdout
    assert _warnings(ours.stderr) == _warnings(ref.stderr) == [
        b"WARNING: 3 lines are improperly formatted"]
    assert _lv(tree, "checksums", "check", "m.md5", "--strict").returncode == 1
    assert json.loads(_lv(tree, "checksums", "check", "m.md5", "--json").stdout)["improper_lines"] == [3, 6, 7]


@pytest.mark.parametrize("content", [b"", b"garbage\n", b"# only a comment\n"])
def test_no_proper_line_is_one_error_line(tree: Path, content: bytes) -> None:
    (tree / "bad.md5").write_bytes(content)
    ours = _lv(tree, "checksums", "check", "bad.md5")
    assert ours.returncode == 2
    lines = ours.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "no properly formatted checksum lines found" in lines[0], lines
    assert not ours.stdout
    with pytest.raises(UsageError):
        api.checksums_check(tree / "bad.md5")


def test_missing_inputs_are_one_error_line(tree: Path) -> None:
    for args in (("check", "nope.md5"), ("write", "nope", "-o", "out.md5")):
        r = _lv(tree, "checksums", *args)
        assert r.returncode == 2, r
        lines = r.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "nope" in lines[0], lines
    assert not (tree / "out.md5").exists()
    with pytest.raises(PathError):
        api.checksums_check(tree / "nope.md5")


def test_relative_names_resolve_against_the_current_folder(tree: Path) -> None:
    api_written = api.checksums_write([str(tree / "plain.txt")], output=tree / "abs.md5")
    assert api_written.entries[0].md5 == "b1946ac92492d2347c6235b4d2611184"
    written = _lv(tree, "checksums", "write", "plain.txt", "-o", "rel.md5")
    assert written.returncode == 0
    elsewhere = tree / "sub"
    ours = _lv(elsewhere, "checksums", "check", "../rel.md5")
    ref = _run([str(MD5SUM), "-c", "../rel.md5"], elsewhere)
    assert ours.returncode == ref.returncode == 1
    assert ours.stdout == ref.stdout == b"plain.txt: FAILED open or read\n"


def test_api_results_and_threads_agree(tree: Path) -> None:
    names = [str(tree / n) for n in sorted(TRICKY)]
    one = api.checksums_write(names, jobs=1)
    many = api.checksums_write(names, jobs=8)
    assert one.text == many.text
    (tree / "a.md5").write_bytes(one.text)
    r = api.checksums_check(tree / "a.md5", jobs=4)
    assert r.ok and r.passed == r.checked == len(TRICKY) and r.bytes == sum(map(len, TRICKY.values()))
    assert [e.status for e in r.entries] == ["ok"] * len(TRICKY)
