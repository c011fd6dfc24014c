"""md5_many against the plain way (open, read all, hashlib.md5) over random trees: files in the
page cache (hashed on the calling thread, or by helper processes) and files dropped from it
(handed to the pool), empty, missing and folder entries, and files over the big-file threshold
(the pipelined reader)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault.core import checksum_hash, md5_helpers

KINDS = st.sampled_from(["cached", "dropped", "empty", "missing", "folder", "big"])
ENTRIES = st.lists(st.tuples(KINDS, st.integers(1, 9000), st.integers(0, 255)), min_size=1, max_size=40)


def _drop(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _resident(path: Path) -> int:
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return int(out.strip())


def _reference(path: str) -> tuple[str | None, int, int | None]:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        return None, 0, exc.errno
    return hashlib.md5(data).hexdigest(), len(data), None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=ENTRIES, jobs=st.sampled_from([1, 2, 8]), helpers=st.sampled_from([0, 2, 3]))
def test_md5_many_equals_the_plain_way(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                                       entries: list[tuple[str, int, int]], jobs: int, helpers: int) -> None:
    monkeypatch.setattr(checksum_hash, "BIG_FILE", 64 << 10)  # "big" files take the pipelined path
    monkeypatch.setattr(checksum_hash, "BUFFER", 16 << 10)
    monkeypatch.setattr(md5_helpers, "MIN_FILES", 1)  # helpers for a handful of files too
    monkeypatch.setattr(md5_helpers, "CHUNK", 3)  # several chunks per helper
    base = tmp_path_factory.mktemp("tree")
    paths: list[str] = []
    for i, (kind, size, seed) in enumerate(entries):
        p = base / f"f{i:03d}"
        if kind == "folder":
            p.mkdir()
        elif kind != "missing":
            n = {"empty": 0, "big": (64 << 10) + size * 17}.get(kind, size)
            p.write_bytes(bytes((seed + k * 7) & 0xFF for k in range(n)))
            if kind == "dropped":
                _drop(p)
        paths.append(str(p))
    reported: list[tuple[int, int]] = []
    got = checksum_hash.md5_many(paths, jobs, lambda n, b: reported.append((n, b)), helpers)
    want = [_reference(p) for p in paths]
    assert [(r.md5, r.size, r.error.errno if r.error else None) for r in got] == want
    assert sum(n for n, _ in reported) == len(paths)
    assert sum(b for _, b in reported) == sum(size for _, size, _ in want)


def test_a_file_not_in_the_page_cache_is_read_by_the_pool(tmp_path: Path) -> None:
    """The calling thread's read never waits: a file dropped from the page cache is given up by
    _md5_cached (the kernel may start reading it ahead meanwhile), md5_many hashes it right, and
    once cached the calling thread hashes it itself."""
    p = tmp_path / "cold.bin"
    data = os.urandom(256 << 10)
    p.write_bytes(data)
    _drop(p)
    assert _resident(p) == 0
    assert checksum_hash._md5_cached(str(p), memoryview(bytearray(1 << 20))) is None
    (r,) = checksum_hash.md5_many([str(p)], jobs=2)
    assert (r.md5, r.size) == (hashlib.md5(data).hexdigest(), len(data))
    warm = checksum_hash._md5_cached(str(p), memoryview(bytearray(1 << 20)))
    assert warm is not None and warm.md5 == r.md5
