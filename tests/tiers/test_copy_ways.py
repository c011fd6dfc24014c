"""The mover's copy: each way of copying file data (``copy_file_range``, ``sendfile``, a read/write
loop) gives the same tree, byte for byte, with modes, mtimes and symlinks kept, within one file
system and onto another (a tmpfs: the kernel copy may fail there and the next way takes over)."""

from __future__ import annotations

import os
import random
import stat
from pathlib import Path

import pytest

from labvault.tiers.copy import Copier, copy_unit, hash_copy
from tests.tiers.tmpfs import tmpfs

SIZES = (0, 1, 4095, 4096, 70_000, (1 << 20) + 17, 3 << 20)  # empty, odd, a page, past the 1 MiB buffer


def make_tree(root: Path) -> None:
    rng = random.Random(7)
    (root / "sub" / "deeper").mkdir(parents=True)
    for i, size in enumerate(SIZES):
        f = root / ("sub" if i % 2 else "") / f"f{i}.bin"
        f.write_bytes(rng.randbytes(size))
        f.chmod(0o640 if i % 3 else 0o755)
        os.utime(f, ns=(1_600_000_000_000_000_000 + i, 1_600_000_000_000_000_000 + i * 1000))
    (root / "sub" / "deeper" / "last.txt").write_text("the end\n")
    (root / "link").symlink_to("sub/f1.bin")
    os.utime(root / "sub", ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))


def listing(root: Path) -> dict[str, tuple[int, int, str]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            kind = os.readlink(p) if p.is_symlink() else ("dir" if p.is_dir() else p.read_bytes().hex()[:64])
            out[str(p.relative_to(root))] = (stat.S_IMODE(st.st_mode), st.st_mtime_ns if not p.is_symlink() else 0,
                                             kind)
    return out


WAYS = {"any": Copier(), "sendfile": Copier(kernel_copy=False), "read/write": Copier(kernel_copy=False, sendfile=False)}


@pytest.mark.parametrize("way", list(WAYS))
@pytest.mark.parametrize("across", [False, True], ids=["same fs", "onto a tmpfs"])
def test_every_way_copies_the_same_tree(tmp_path: Path, way: str, across: bool) -> None:
    src = tmp_path / "src"
    src.mkdir()
    make_tree(src)
    dst_root = tmp_path / "dst"
    dst_root.mkdir()
    copied: list[int] = []
    copier = Copier(WAYS[way].kernel_copy, WAYS[way].sendfile)
    if across:
        with tmpfs(dst_root, "32m"):
            copy_unit(str(src), str(dst_root / "unit"), copied.append, copier)
            got, want = hash_copy(str(dst_root / "unit")), hash_copy(str(src))
            same = listing(dst_root / "unit") == listing(src)
    else:
        copy_unit(str(src), str(dst_root / "unit"), copied.append, copier)
        got, want = hash_copy(str(dst_root / "unit")), hash_copy(str(src))
        same = listing(dst_root / "unit") == listing(src)
    assert got[0] == want[0]
    assert {rel: s[1:] for rel, s in got[1].items()} == {rel: s[1:] for rel, s in want[1].items()}
    assert same
    assert sorted(copied) == sorted([*SIZES, len("the end\n")])
    if way == "read/write":
        assert not copier.kernel_copy and not copier.sendfile  # nothing turned itself back on


def test_a_single_file_unit(tmp_path: Path) -> None:
    src = tmp_path / "model.pt"
    src.write_bytes(os.urandom(200_000))
    os.utime(src, ns=(1, 1_700_000_000_123_456_789))
    copy_unit(str(src), str(tmp_path / "copy.pt"), lambda n: None, Copier(kernel_copy=False))
    assert (tmp_path / "copy.pt").read_bytes() == src.read_bytes()
    assert (tmp_path / "copy.pt").stat().st_mtime_ns == 1_700_000_000_123_456_789


@pytest.mark.parametrize("way", list(WAYS))
def test_every_way_copies_to_the_end_of_a_file_that_grew_after_it_was_listed(tmp_path: Path, way: str) -> None:
    """The size listed before the copy does not cut it short: all three ways copy what the file
    holds (the mover then checks the copy's hash against the unit's, and keeps the source when they
    differ)."""
    src, dst = tmp_path / "grown.bin", tmp_path / "copy.bin"
    src.write_bytes(b"a" * 70_000)
    listed = os.stat(src)
    with open(src, "ab") as f:
        f.write(b"b" * 5_000)
    copier = Copier(WAYS[way].kernel_copy, WAYS[way].sendfile)
    copier.file(str(src), str(dst), listed)
    assert dst.read_bytes() == src.read_bytes()
