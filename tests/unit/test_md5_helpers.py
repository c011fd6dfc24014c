"""The helper processes of md5_many (core/md5_helpers.py, core/md5_worker.py): a helper can make
hashing faster but never changes a result; none outlives the call or gets the caller's
descriptors; a helper stops when its reader is gone; a FIFO does not hold a helper up."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labvault.core import checksum_hash, md5_helpers, md5_worker


def _tree(base: Path, n: int) -> list[str]:
    paths = []
    for i in range(n):
        p = base / f"f{i:04d}.bin"
        p.write_bytes(bytes([i % 251]) * (100 + 37 * i))
        paths.append(str(p))
    paths.append(str(base / "missing"))
    return paths


def _plain(paths: list[str]) -> list[tuple[str | None, int]]:
    out: list[tuple[str | None, int]] = []
    for p in paths:
        try:
            data = Path(p).read_bytes()
        except OSError:
            out.append((None, 0))
            continue
        out.append((hashlib.md5(data).hexdigest(), len(data)))
    return out


def _children() -> set[int]:
    me = str(os.getpid())
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[1] == me:
                found.add(int(entry))
    return found


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(md5_helpers, "MIN_FILES", 1)
    monkeypatch.setattr(md5_helpers, "CHUNK", 7)


def _fake_worker(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake_worker.py"
    script.write_text("import os, sys\nnames = sys.stdin.buffer.read().split(b'\\0')[:-1]\n" + body)
    return str(script)


BAD_WORKERS = {
    "garbage": "sys.stdout.buffer.write(b'not a line\\n' * len(names))\n",
    "dies_midway": "sys.stdout.buffer.write(b'W\\n' * (len(names) // 2)); sys.stdout.flush(); os._exit(3)\n",
    "too_many_lines": "sys.stdout.buffer.write(b'W\\n' * (len(names) + 5))\n",
    "wrong_sums_in_a_bad_form": "sys.stdout.buffer.write(b'0' * 31 + b' 5\\n' * len(names))\n",
    "silent": "pass\n",
    "partial_line_then_exit": "sys.stdout.buffer.write(b'0123')\n",
}


@pytest.mark.parametrize("how", sorted(BAD_WORKERS))
def test_a_helper_that_misbehaves_changes_no_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small: None,
                                                    how: str) -> None:
    paths = _tree(tmp_path, 60)
    monkeypatch.setattr(md5_helpers, "WORKER", _fake_worker(tmp_path, BAD_WORKERS[how]))
    before = _children()  # processes an earlier test of this worker may have left
    got = checksum_hash.md5_many(paths, 2, None, helpers=2)
    assert [(r.md5, r.size) for r in got] == _plain(paths)
    assert got[-1].error is not None and got[-1].error.filename == paths[-1]
    assert not _children() - before


def test_helpers_agree_with_this_process_and_leave_no_process(tmp_path: Path, small: None) -> None:
    paths = _tree(tmp_path, 80)
    reported: list[tuple[int, int]] = []
    before = _children()
    with_helpers = checksum_hash.md5_many(paths, 2, lambda n, b: reported.append((n, b)), helpers=3)
    alone = checksum_hash.md5_many(paths, 2, None, helpers=0)
    assert [(r.md5, r.size) for r in with_helpers] == [(r.md5, r.size) for r in alone] == _plain(paths)
    assert sum(n for n, _ in reported) == len(paths)
    assert not _children() - before


def test_a_helper_gets_no_descriptor_of_the_caller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   small: None) -> None:
    paths = _tree(tmp_path, 10)
    report = tmp_path / "fds.txt"
    body = ("fds = os.listdir('/proc/self/fd')\n"
            f"open({str(report)!r}, 'a').write(' '.join(fds) + '\\n')\n"
            "sys.stdout.buffer.write(b'W\\n' * len(names))\n")
    monkeypatch.setattr(md5_helpers, "WORKER", _fake_worker(tmp_path, body))
    opened = os.open(tmp_path / "f0000.bin", os.O_RDONLY)
    leak = os.dup2(opened, 200, inheritable=True)
    os.close(opened)
    try:
        got = checksum_hash.md5_many(paths, 2, None, helpers=2)
    finally:
        os.close(leak)
    assert [(r.md5, r.size) for r in got] == _plain(paths)
    seen = report.read_text().split("\n")[:-1]
    assert len(seen) == 2
    for line in seen:
        fds = {int(x) for x in line.split()}
        assert 200 not in fds and len(fds - {0, 1, 2}) == 1, fds  # stdin, stdout, stderr, listdir's own


def test_a_helper_stops_when_its_reader_is_gone(tmp_path: Path) -> None:
    paths = _tree(tmp_path, 3000)
    r, w = os.pipe()
    proc = subprocess.Popen([sys.executable, "-I", "-S", md5_worker.__file__, str(64 << 20)], stdin=subprocess.PIPE,
                            stdout=w, stderr=subprocess.DEVNULL)
    os.close(w)
    os.close(r)  # the caller died: nobody reads
    assert proc.stdin is not None
    proc.stdin.write(os.fsencode("\0".join(paths) + "\0"))
    proc.stdin.close()
    assert proc.wait(timeout=30) == 1


def test_a_fifo_gives_an_error_instead_of_holding_the_helper(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    plain = tmp_path / "plain"
    plain.write_bytes(b"abc")
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-I", "-S", md5_worker.__file__, str(64 << 20)],
                         input=os.fsencode(f"{fifo}\0{plain}\0"), capture_output=True, timeout=30, check=True).stdout
    assert out.split(b"\n")[:-1] == [b"E29", hashlib.md5(b"abc").hexdigest().encode() + b" 3"]
    assert time.monotonic() - start < 20


def test_the_library_starts_no_helper_unless_asked(tmp_path: Path, small: None, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _tree(tmp_path, 30)
    report = tmp_path / "started"
    monkeypatch.setattr(md5_helpers, "WORKER", _fake_worker(tmp_path, f"open({str(report)!r}, 'a').write('x')\n"))
    from labvault import api

    (tmp_path / "sums.md5").write_bytes(api.checksums_write([str(p) for p in paths[:-1]]).text)
    assert api.checksums_check(tmp_path / "sums.md5").ok
    assert not report.exists()
    assert api.checksums_check(tmp_path / "sums.md5", helpers=2).ok  # asked: started (and told nothing)
    assert report.read_text() == "xx"
