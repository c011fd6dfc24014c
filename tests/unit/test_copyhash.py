"""copy_and_hash: the copy holds the source's bytes and the digest is their md5, on every path."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from labvault.core import copyhash
from labvault.core.odb import ObjectStore


def _payload(size: int) -> bytes:
    block = hashlib.sha256(b"labvault").digest() * 2048  # 64 KiB of varied bytes
    return (block * (size // len(block) + 1))[:size]


@pytest.mark.parametrize("size", [0, 1, copyhash.BUF - 1, copyhash.BUF + 17, 3 * copyhash.BUF + 5])
def test_kernel_and_buffered_paths_agree(tmp_path: Path, size: int) -> None:
    data = _payload(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    expected = hashlib.md5(data).hexdigest()
    for name, fn in (("kernel", copyhash.copy_and_hash), ("buffered", None)):
        dst = tmp_path / f"{name}.bin"
        sfd = os.open(src, os.O_RDONLY)
        dfd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            digest, n = fn(sfd, dfd) if fn else copyhash.buffered_copy_and_hash(sfd, dfd)
        finally:
            os.close(sfd)
            os.close(dfd)
        assert (digest, n) == (expected, size), name
        assert dst.read_bytes() == data, name


def test_across_file_systems(tmp_path: Path) -> None:
    """tmpfs to the test folder: the kernel refuses to copy across, the buffered loop takes over."""
    shm = Path("/dev/shm")
    assert shm.is_dir(), "these tests expect a tmpfs at /dev/shm"
    data = _payload(copyhash.BUF * 2 + 3)
    src = shm / f"labvault-copyhash-{os.getpid()}.bin"
    src.write_bytes(data)
    try:
        store = ObjectStore(tmp_path / "cache")
        oid, size = store.store_file(str(src))
    finally:
        src.unlink()
    assert (oid, size) == (hashlib.md5(data).hexdigest(), len(data))
    obj = Path(store.oid_path(oid))
    assert obj.read_bytes() == data
    assert obj.stat().st_mode & 0o777 == 0o444
    assert not [p for p in obj.parent.iterdir() if p.name.startswith(".")]


def test_a_source_that_changed_is_refused_and_the_fallback_hashes_what_it_writes(tmp_path: Path) -> None:
    """The kernel copy hashes the source on another thread, so it must see the version of the file
    its caller chose; when not, the caller copies again with the buffered loop, whose hash is that
    of the bytes written."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(b"a" * (copyhash.BUF + 1))
    sfd = os.open(src, os.O_RDONLY)
    chosen = os.fstat(sfd)
    with open(src, "ab") as f:
        f.write(b"appended")
    dfd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        with pytest.raises(copyhash.SourceChanged):
            copyhash.copy_and_hash(sfd, dfd, expect=chosen)
        assert os.fstat(dfd).st_size == 0  # nothing copied
        expected = b"a" * (copyhash.BUF + 1) + b"appended"
        assert copyhash.buffered_copy_and_hash(sfd, dfd) == (hashlib.md5(expected).hexdigest(), len(expected))
    finally:
        os.close(sfd)
        os.close(dfd)
    assert dst.read_bytes() == expected


@pytest.mark.parametrize("drop", [True, False])
@pytest.mark.parametrize("spans", [1, 2, 3, 5])
def test_the_threaded_kernel_copy_over_several_spans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spans: int, drop: bool,
) -> None:
    """Files over one span are copied by the second thread, span by span, its pages let go behind
    it or not; a smaller span here makes that path run on small files (every span boundary, a
    short tail)."""
    monkeypatch.setattr(copyhash, "_SPAN", 1 << 20)
    data = _payload(spans * (1 << 20) + 12345)
    src, dst = tmp_path / "src.bin", tmp_path / "dst.bin"
    src.write_bytes(data)
    sfd = os.open(src, os.O_RDONLY)
    dfd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        assert copyhash.copy_and_hash(sfd, dfd, drop_behind=drop) == (hashlib.md5(data).hexdigest(), len(data))
    finally:
        os.close(sfd)
        os.close(dfd)
    assert dst.read_bytes() == data


def _resident(path: Path) -> int:
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return int(out.strip())


def test_drop_behind_lets_written_pages_go_and_the_file_reads_back(tmp_path: Path) -> None:
    """Once a span is on disk, the advice lets its pages go; the file still reads back whole."""
    data = _payload(8 << 20)
    path = tmp_path / "f.bin"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
        before = _resident(path)
        assert before == len(data)  # just written: all in the page cache
        behind = copyhash.DropBehind(fd)
        os.fdatasync(fd)
        for off in range(0, len(data), 1 << 20):
            behind.written(off, 1 << 20)
        behind.close()
        assert _resident(path) < len(data) // 4
    finally:
        os.close(fd)
    assert path.read_bytes() == data
