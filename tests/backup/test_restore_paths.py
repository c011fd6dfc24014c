"""``backup restore`` writes each file by one of two paths (an object of up to 8 MiB on a folder
target is read whole and written from memory; a larger one is downloaded hashed) and replaces
existing files (fsynced before the rename) as well as it creates new ones: every case comes back
byte for byte, with its mode and mtime, and leaves no temp file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from labvault.backup.engine import OwnEngine

BIG = (8 << 20) + 4097  # past the one-read path


def _files(base: Path) -> dict[str, tuple[bytes, int, int]]:
    return {p.relative_to(base).as_posix(): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode), p.stat().st_mtime_ns)
            for p in sorted(base.rglob("*")) if p.is_file()}


def test_small_big_new_and_replaced_files_come_back_whole(tmp_path: Path) -> None:
    src = tmp_path / "data"
    (src / "d").mkdir(parents=True)
    (src / "small.bin").write_bytes(os.urandom(5000))
    (src / "empty").write_bytes(b"")
    (src / "d" / "big.bin").write_bytes(os.urandom(BIG))
    (src / "d" / "ro.txt").write_text("read-only in the snapshot")
    os.chmod(src / "d" / "ro.txt", 0o444)
    for i, p in enumerate(sorted(src.rglob("*"))):
        if p.is_file():
            os.utime(p, ns=(1_600_000_000_000_000_000 + i, 1_600_000_000_000_000_000 + i))
    engine = OwnEngine(str(tmp_path / "target"), {}, tmp_path / "cache")
    try:
        r = engine.run("daily", [str(src)])
        assert r.snapshot is not None
        out = tmp_path / "out"
        engine.restore(r.snapshot, str(out))  # into an empty folder: every file at a new name
        assert _files(out / "data") == _files(src)
        # over what is there now: other bytes, other sizes, a read-only file, a file where a file was
        for p in (out / "data").rglob("*"):
            if p.is_file():
                os.chmod(p, 0o644)
                p.write_bytes(b"changed since the backup")
                os.chmod(p, 0o400)
        res = engine.restore(r.snapshot, str(out), verify=True)
        assert res.files == 4 and res.verified
        assert _files(out / "data") == _files(src)
        assert not [p for p in out.rglob("*") if p.name.endswith(".lvtmp")]
    finally:
        engine.close()


def test_a_corrupt_object_fails_its_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    import pytest

    from labvault.errors import CacheError

    src = tmp_path / "data"
    src.mkdir()
    (src / "small.bin").write_bytes(os.urandom(3000))
    (src / "big.bin").write_bytes(os.urandom(BIG))
    engine = OwnEngine(str(tmp_path / "target"), {}, tmp_path / "cache")
    try:
        r = engine.run("daily", [str(src)])
        assert r.snapshot is not None
        for obj in (tmp_path / "target" / "files" / "md5").glob("??/*"):
            if obj.stat().st_size in (3000, BIG):  # same size, other bytes: found only by the md5
                os.chmod(obj, 0o644)
                with open(obj, "r+b") as f:
                    first = f.read(1)
                    f.seek(0)
                    f.write(bytes([first[0] ^ 1]))
        out = tmp_path / "out"
        with pytest.raises(CacheError, match="2 file"):
            engine.restore(r.snapshot, str(out))
        assert not [p for p in out.rglob("*") if p.is_file()]  # neither file, nor any temp file
    finally:
        engine.close()
