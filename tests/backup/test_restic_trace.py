"""restic's check findings traced to snapshots and paths, on a real restic repository with
injected damage (a flipped byte, a truncated pack, a deleted pack), and the parsing of restic's
lines. The expected owners are the files whose bytes were written, read from the source tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labvault.backup.restic_check import findings
from labvault.backup.restic_engine import ResticEngine
from tests.backup.test_engine import make_source
from tests.backup.test_restic_engine import engine, pw  # noqa: F401  (fixtures; skip without restic)


def _biggest_pack(repo: Path) -> Path:
    return max((p for p in (repo / "data").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)


def _files_with_data(src: Path) -> set[str]:
    return {f"data/{p.relative_to(src).as_posix()}" for p in src.rglob("*")
            if p.is_file() and not p.is_symlink() and p.stat().st_size > 0}


@pytest.mark.parametrize("damage, read_data, problem", [
    ("flip", True, "corrupt"), ("truncate", False, "wrong_size"), ("delete", False, "missing")])
def test_damaged_pack_is_traced_to_every_snapshot_and_file(tmp_path: Path, engine: ResticEngine,  # noqa: F811
                                                           damage: str, read_data: bool, problem: str) -> None:
    src = make_source(tmp_path)
    (src / "big.bin").write_bytes(os.urandom(300_000))
    first = engine.run("daily", [str(src)]).snapshot
    second = engine.run("daily", [str(src)]).snapshot
    assert engine.check(read_data=True).ok
    pack = _biggest_pack(tmp_path / "repo")  # the file data of the first run: one pack
    pack.chmod(0o644)
    if damage == "flip":
        data = bytearray(pack.read_bytes())
        data[len(data) // 3] ^= 0xFF
        pack.write_bytes(bytes(data))
    elif damage == "truncate":
        os.truncate(pack, 1000)
    else:
        pack.unlink()
    result = engine.check(read_data=read_data)
    assert not result.ok
    [bad] = [b for b in result.bad if b.md5 == pack.name]
    assert bad.problem == problem
    expected = {(sid, rel) for sid in (first, second) for rel in _files_with_data(src)}
    assert set(bad.used_by) == expected and len(expected) == 14


def test_findings_parse_restic_lines() -> None:
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    text = "\n".join([
        "check all packs",
        f"pack {a}: does not exist",
        f"Load(<data/aaaaaaaaaa>, 10, 0) returned error, retrying after 1s: open /r/data/aa/{a}: no such file",
        f"pack {a} failed to download: StreamPack: open /r/data/aa/{a}: no such file or directory",
        f"Pack ID does not match, want {b}, got {c}",
        f'tree {c}: file "x" blob {a} not found in index',
        "error: something restic said without an id",
        "no errors were found",
        "Fatal: repository contains errors",
    ])
    found, other = findings(text)
    assert sorted((f.kind, f.id, f.problem) for f in found) == [
        ("blob", a, "missing"), ("pack", a, "missing"), ("pack", b, "corrupt")]
    assert other == ["error: something restic said without an id"]
