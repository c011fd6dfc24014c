"""Pull-through: a pull writes a large absent workspace file in the same pass over a folder remote's
object as the cache's copy (``workspace/sync.py``, ``_through``), and the checkout renames that
verified copy into place. Checked against the plain way: the same bytes, modes and stat cache as a
checkout from the cache, nothing left behind, a corrupt object refused with no file written, and
the plain checkout wherever the file exists, the linker would not copy, or the object is small."""

from __future__ import annotations

import hashlib
import json
import os
import random
import stat
from pathlib import Path

import pytest

from labvault import api
from labvault.core.copyhash import copy_and_hash_to
from labvault.workspace.sync import THROUGH_MIN
from tests.conftest import Runner, snapshot

BIG = THROUGH_MIN + 12_345


def _temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".lvtmp")]


@pytest.fixture
def pushed(git_repo: Path, git: Runner, lv: Runner, tmp_path: Path) -> Path:
    """A repo with one large file, one large executable file in a folder, and one small file,
    pushed to a folder remote."""
    rnd = random.Random(11)
    (git_repo / "big.bin").write_bytes(rnd.randbytes(BIG))
    (git_repo / "sub").mkdir()
    (git_repo / "sub" / "run.bin").write_bytes(rnd.randbytes(BIG + 1))
    (git_repo / "sub" / "run.bin").chmod(0o755)
    (git_repo / "small.txt").write_text("small\n")
    lv("init")
    lv("add", "big.bin", "sub/run.bin", "small.txt")
    lv("remote", "add", "-d", "r", str(tmp_path / "remote"))
    git("add", "-A")
    git("commit", "-q", "-m", "data")
    lv("push")
    return tmp_path / "remote"


def _clone(git: Runner, git_repo: Path, tmp_path: Path, name: str = "clone") -> Path:
    clone = tmp_path / name
    git("clone", "-q", str(git_repo), str(clone))
    return clone


def test_large_absent_files_are_pulled_through_like_a_checkout(pushed: Path, git_repo: Path, git: Runner,
                                                               lv: Runner, tmp_path: Path) -> None:
    through = _clone(git, git_repo, tmp_path, "through")
    plain = _clone(git, git_repo, tmp_path, "plain")
    result = api.pull(repo=through)
    assert result.checkout.premade == 2 and result.checkout.link_type == "copy"
    assert sorted(result.checkout.added) == ["big.bin", "small.txt", "sub/run.bin"]
    lv("fetch", cwd=plain)  # the plain way: fetch, then checkout from the cache
    assert api.checkout(repo=plain).premade == 0
    assert snapshot(through, skip=(".git", ".dvc")) == snapshot(plain, skip=(".git", ".dvc")) \
        == snapshot(git_repo, skip=(".git", ".dvc"))
    for name in ("big.bin", "sub/run.bin", "small.txt"):
        assert stat.S_IMODE((through / name).stat().st_mode) == stat.S_IMODE((plain / name).stat().st_mode), name
        assert (through / name).stat().st_nlink == 1
    assert stat.S_IMODE((through / "sub" / "run.bin").stat().st_mode) & 0o100
    assert _temps(through) == []
    assert json.loads(lv("status", "--json", cwd=through).stdout)["clean"] is True
    assert json.loads(lv("verify", "--json", cwd=through).stdout)["corrupt"] == []


def test_a_corrupt_object_writes_no_workspace_file(pushed: Path, git_repo: Path, git: Runner, lv: Runner,
                                                   tmp_path: Path) -> None:
    oid = hashlib.md5((git_repo / "big.bin").read_bytes(), usedforsecurity=False).hexdigest()
    victim = pushed / "files" / "md5" / oid[:2] / oid[2:]
    victim.chmod(0o644)
    with open(victim, "r+b") as f:
        f.seek(BIG // 2)
        f.write(b"\xff\x00\xff")
    clone = _clone(git, git_repo, tmp_path)
    proc = lv("pull", cwd=clone, check=False)
    assert proc.returncode != 0 and "corrupt" in proc.stderr and oid in proc.stderr, proc.stderr
    assert not (clone / "big.bin").exists()
    assert (clone / "sub" / "run.bin").read_bytes() == (git_repo / "sub" / "run.bin").read_bytes()
    assert _temps(clone) == []


def test_an_existing_file_goes_the_plain_way(pushed: Path, git_repo: Path, git: Runner, lv: Runner,
                                             tmp_path: Path) -> None:
    clone = _clone(git, git_repo, tmp_path)
    (clone / "big.bin").write_bytes(b"mine, not in any cache\n")
    proc = lv("pull", cwd=clone, check=False)
    assert proc.returncode != 0 and "big.bin" in proc.stderr, proc.stderr
    assert (clone / "big.bin").read_bytes() == b"mine, not in any cache\n"  # the conflict kept it
    assert _temps(clone) == []
    result = api.pull(repo=clone, force=True)
    assert result.checkout.premade == 0  # run.bin came with the first pull; big.bin existed
    assert (clone / "big.bin").read_bytes() == (git_repo / "big.bin").read_bytes()
    assert _temps(clone) == []


@pytest.mark.parametrize("types", ["symlink", "hardlink"])
def test_a_linking_cache_type_goes_the_plain_way(pushed: Path, git_repo: Path, git: Runner, lv: Runner,
                                                 tmp_path: Path, types: str) -> None:
    clone = _clone(git, git_repo, tmp_path)
    lv("config", "cache.type", types, cwd=clone)
    result = api.pull(repo=clone)
    assert result.checkout.premade == 0 and result.checkout.link_type == types
    big = clone / "big.bin"
    assert big.is_symlink() if types == "symlink" else big.stat().st_nlink == 2
    assert _temps(clone) == []


def test_copy_and_hash_to_reports_each_copy(tmp_path: Path) -> None:
    data = random.Random(3).randbytes(3 * (64 << 20) // 2 + 7)  # spans more than one kernel call
    (tmp_path / "src").write_bytes(data)
    src = os.open(tmp_path / "src", os.O_RDONLY)
    dst = os.open(tmp_path / "dst", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    good = os.open(tmp_path / "good", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    bad = os.open(tmp_path / "bad", os.O_RDONLY | os.O_CREAT | os.O_EXCL)  # cannot be written
    try:
        digest, n, ok = copy_and_hash_to(src, dst, [good, bad])
    finally:
        for fd in (src, dst, good, bad):
            os.close(fd)
    assert (digest, n, ok) == (hashlib.md5(data, usedforsecurity=False).hexdigest(), len(data), [True, False])
    assert (tmp_path / "dst").read_bytes() == data == (tmp_path / "good").read_bytes()
