"""``links.copy_file``: the bytes, the mode and nothing else, for sizes on both sides of its small-file
path (read/write up to 1 MiB) and of the kernel copy's calls; a failed copy leaves no file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labvault.core.links import copy_file

MIB = 1 << 20


@pytest.mark.parametrize("size", [0, 1, MIB - 1, MIB, MIB + 1, 5 * MIB + 4097])
def test_copy_has_the_same_bytes_and_the_mode_asked(tmp_path: Path, size: int) -> None:
    src = tmp_path / "src"
    data = os.urandom(size)
    src.write_bytes(data)
    copy_file(str(src), str(tmp_path / "dst"), 0o444)
    dst = tmp_path / "dst"
    assert dst.read_bytes() == data
    assert dst.stat().st_mode & 0o777 == 0o444


def test_an_existing_destination_is_refused_and_kept(tmp_path: Path) -> None:
    (tmp_path / "src").write_bytes(b"new" * MIB)
    (tmp_path / "dst").write_bytes(b"old")
    with pytest.raises(FileExistsError):
        copy_file(str(tmp_path / "src"), str(tmp_path / "dst"))
    assert (tmp_path / "dst").read_bytes() == b"old"


def test_a_missing_source_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        copy_file(str(tmp_path / "absent"), str(tmp_path / "dst"))
    assert not (tmp_path / "dst").exists()
