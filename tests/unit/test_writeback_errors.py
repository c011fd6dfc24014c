"""A write-back error is never swallowed: the cache sits on an ext4 file system whose loop device's
backing file lives on a tmpfs too small for it, so the kernel accepts the writes into the page
cache and fails them at write-back (EIO). ``syncfs`` reports that, and ``add`` with
``labvault.fsync always`` must exit 6 with one line instead of returning as if the bytes were safe.
Needs root (mount, loop devices): skipped elsewhere, a failure in CI."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from labvault.errors import StorageError
from labvault.fsutil import syncfs
from tests.conftest import Runner
from tests.tiers.tmpfs import IN_CI, tmpfs


def _need(ok: bool, msg: str) -> None:
    if not ok:
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture
def failing_fs(tmp_path: Path) -> Iterator[Path]:
    """An ext4 of 64 MiB whose backing file can grow to 12 MiB only."""
    _need(os.geteuid() == 0, "mounting a loop device needs root")
    with tmpfs(tmp_path / "backing", "12m") as backing:
        image = backing / "fs.img"
        with image.open("wb") as f:
            f.truncate(64 << 20)
        mkfs = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True, text=True)
        _need(mkfs.returncode == 0, f"mkfs.ext4 failed: {mkfs.stderr.strip()} (install e2fsprogs)")
        mnt = tmp_path / "mnt"
        mnt.mkdir()
        proc = subprocess.run(["mount", "-o", "loop", str(image), str(mnt)], capture_output=True, text=True)
        _need(proc.returncode == 0, f"cannot loop-mount an image: {proc.stderr.strip()}")
        try:
            yield mnt
        finally:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_syncfs_raises_the_write_back_error(failing_fs: Path) -> None:
    folder = failing_fs / "objects"
    folder.mkdir()
    for i in range(24):
        (folder / f"o{i}").write_bytes(os.urandom(1 << 20))  # accepted into the page cache
    with pytest.raises(StorageError, match="flushing the writes to"):
        syncfs(folder)


def test_add_with_fsync_always_fails_in_one_line(failing_fs: Path, git_repo: Path, lv: Runner) -> None:
    lv("init")
    (failing_fs / "cache").mkdir()
    lv("config", "--local", "cache.dir", str(failing_fs / "cache"))
    lv("config", "labvault.fsync", "always")
    data = git_repo / "data"
    data.mkdir()
    for i in range(24):
        (data / f"f{i}.bin").write_bytes(os.urandom(1 << 20))
    proc = lv("add", "data", check=False)
    assert proc.returncode == 6, (proc.returncode, proc.stderr)
    assert proc.stderr.strip().count("\n") == 0 and "while flushing the writes to" in proc.stderr, proc.stderr
