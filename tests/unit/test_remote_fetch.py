"""Downloads from a folder remote: one pass (read, hash, write), large objects copied in the kernel
while hashed, the opt-in hard links between a folder remote and the cache (remote option ``type``
naming ``hardlink``), and the fetch of many objects into a partly filled cache."""

from __future__ import annotations

import hashlib
import json
import os
import random
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from labvault.remotes.local import SMALL, LocalBackend
from tests.conftest import Runner, snapshot


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _put(root: Path, data: bytes, mode: int = 0o444) -> str:
    oid = _md5(data)
    p = root / "files" / "md5" / oid[:2] / oid[2:]
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    p.chmod(mode)
    return f"files/md5/{oid[:2]}/{oid[2:]}"


@pytest.mark.parametrize("size", [0, 5, 4096, 1 << 20, SMALL, SMALL + 12_345])
@pytest.mark.parametrize("link", [False, True])
def test_get_hashed_returns_digest_of_what_it_wrote(tmp_path: Path, size: int, link: bool) -> None:
    data = random.Random(size).randbytes(size)
    remote = tmp_path / "remote"
    key = _put(remote, data)
    backend = LocalBackend(str(remote), link_objects=link)
    dst = tmp_path / "out.lvtmp"
    digest, n = backend.get_hashed(key, str(dst))
    assert (digest, n) == (_md5(data), size)
    assert dst.read_bytes() == data
    assert stat.S_IMODE(dst.stat().st_mode) == 0o444
    shared = dst.stat().st_ino == (remote / key).stat().st_ino
    assert shared is link
    # the destination is always a new file: an existing one is never written through
    with pytest.raises(FileExistsError):
        backend.get_hashed(key, str(dst))
    with pytest.raises(FileNotFoundError):
        backend.get_hashed("files/md5/00/0000000000000000000000000000ff", str(tmp_path / "none.lvtmp"))
    assert not (tmp_path / "none.lvtmp").exists()


def test_writable_remote_object_is_copied_not_linked(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    key = _put(remote, b"shared?\n", mode=0o644)
    dst = tmp_path / "out.lvtmp"
    digest, _ = LocalBackend(str(remote), link_objects=True).get_hashed(key, str(dst))
    assert digest == _md5(b"shared?\n")
    assert dst.stat().st_ino != (remote / key).stat().st_ino
    assert stat.S_IMODE(dst.stat().st_mode) == 0o444
    assert stat.S_IMODE((remote / key).stat().st_mode) == 0o644  # the remote is left as it was


# ------------------------------------------------------------------------------ end to end


def _objects(cache: Path) -> dict[str, os.stat_result]:
    out = {}
    for p in (cache / "files" / "md5").rglob("*"):
        if p.is_file():
            out[p.parent.name + p.name] = p.stat()
    return out


@pytest.fixture
def pushed(git_repo: Path, git: Runner, lv: Runner, make_tree: Callable[[Path, dict[str, bytes | str]], None],
           tmp_path: Path) -> Path:  # fmt: skip
    """A repo with a folder of 600 small files and one large file, pushed to a folder remote."""
    rnd = random.Random(7)
    files: dict[str, bytes | str] = {f"data/d{i % 7}/f{i}.bin": rnd.randbytes(rnd.randint(0, 3000)) for i in range(600)}
    files["big.bin"] = rnd.randbytes(SMALL + 4096)
    make_tree(git_repo, files)
    lv("init")
    lv("add", "data", "big.bin")
    lv("remote", "add", "-d", "r", str(tmp_path / "remote"))
    git("add", "-A")
    git("commit", "-q", "-m", "data")
    lv("push")
    return tmp_path / "remote"


def test_pull_many_objects_into_a_partly_filled_cache(pushed: Path, git_repo: Path, git: Runner, lv: Runner,
                                                      tmp_path: Path) -> None:  # fmt: skip
    clone = tmp_path / "clone"
    git("clone", "-q", str(git_repo), str(clone))
    # seed the clone's cache with a third of the objects, as an earlier partial fetch would
    cache = clone / ".dvc" / "cache" / "files" / "md5"
    remote_objects = sorted(p for p in (pushed / "files" / "md5").rglob("*") if p.is_file())
    for p in remote_objects[::3]:
        dst = cache / p.parent.name / p.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(p.read_bytes())
        dst.chmod(0o444)
    pulled = json.loads(lv("pull", "--json", cwd=clone).stdout)
    assert pulled["transferred"] == len(remote_objects) - len(remote_objects[::3])
    assert pulled["corrupt"] == [] and pulled["failed"] == []
    assert snapshot(clone, skip=(".git", ".dvc")) == snapshot(git_repo, skip=(".git", ".dvc"))
    assert not [p for p in cache.rglob("*.lvtmp")]
    for oid, st in _objects(clone / ".dvc" / "cache").items():
        assert stat.S_IMODE(st.st_mode) == 0o444, oid
    assert json.loads(lv("verify", "--json", cwd=clone).stdout)["corrupt"] == []


def test_hardlink_remote_shares_objects_with_the_cache(pushed: Path, git_repo: Path, git: Runner, lv: Runner,
                                                       tmp_path: Path) -> None:  # fmt: skip
    clone = tmp_path / "clone"
    git("clone", "-q", str(git_repo), str(clone))
    lv("remote", "modify", "--local", "r", "type", "hardlink,copy", cwd=clone)
    lv("pull", cwd=clone)
    assert snapshot(clone, skip=(".git", ".dvc")) == snapshot(git_repo, skip=(".git", ".dvc"))
    objects = _objects(clone / ".dvc" / "cache")
    for oid, st in objects.items():
        remote_st = (pushed / "files" / "md5" / oid[:2] / oid[2:]).stat()
        assert (st.st_ino, st.st_dev) == (remote_st.st_ino, remote_st.st_dev), oid
        assert stat.S_IMODE(st.st_mode) == 0o444
    # the workspace (cache.type reflink,copy) holds its own copies
    big = clone / "big.bin"
    assert big.stat().st_nlink == 1
    assert json.loads(lv("verify", "--json", cwd=clone).stdout)["corrupt"] == []
    # gc in the clone's cache deletes its name of an object, never the remote's
    lv("remove", "big.bin", cwd=clone)
    big_oid = _md5(big.read_bytes())
    removed = json.loads(lv("gc", "-f", "--json", cwd=clone).stdout)
    assert removed["removed"] == 1, removed
    assert not (clone / ".dvc" / "cache" / "files" / "md5" / big_oid[:2] / big_oid[2:]).exists()
    assert all((pushed / "files" / "md5" / o[:2] / o[2:]).exists() for o in objects)

    # pushing from a cache to a hardlink remote links too
    other = tmp_path / "remote2"
    lv("remote", "add", "r2", str(other))
    lv("remote", "modify", "r2", "type", "hardlink")
    lv("push", "-r", "r2")
    local_objects = _objects(git_repo / ".dvc" / "cache")
    for oid, st in local_objects.items():
        assert (other / "files" / "md5" / oid[:2] / oid[2:]).stat().st_ino == st.st_ino, oid


def test_hardlink_remote_still_rejects_a_corrupt_object(pushed: Path, git_repo: Path, git: Runner, lv: Runner,
                                                        tmp_path: Path) -> None:  # fmt: skip
    data = (git_repo / "data" / "d0" / "f0.bin").read_bytes()
    oid = _md5(data)
    victim = pushed / "files" / "md5" / oid[:2] / oid[2:]
    victim.chmod(0o644)
    victim.write_bytes(b"X" + data[1:] if data else b"X")
    victim.chmod(0o444)  # read-only again: linkable, so the hash is all that stands in the way
    clone = tmp_path / "clone"
    git("clone", "-q", str(git_repo), str(clone))
    lv("remote", "modify", "--local", "r", "type", "hardlink", cwd=clone)
    proc = lv("pull", cwd=clone, check=False)
    assert proc.returncode != 0 and "corrupt" in proc.stderr and oid in proc.stderr, proc.stderr
    cache = clone / ".dvc" / "cache" / "files" / "md5" / oid[:2]
    assert not (cache / oid[2:]).exists()
    assert [p.name for p in cache.iterdir() if oid[2:] in p.name] == []
    assert victim.stat().st_nlink == 1  # no name of the forged object is left behind


def test_remote_type_is_checked(git_repo: Path, lv: Runner, tmp_path: Path) -> None:
    lv("init")
    lv("remote", "add", "r", str(tmp_path / "remote"))
    proc = lv("remote", "modify", "r", "type", "hardlink,teleport", check=False)
    assert proc.returncode != 0 and "type" in proc.stderr
    lv("remote", "modify", "r", "type", "hardlink,copy")
    assert "hardlink,copy" in (git_repo / ".dvc" / "config").read_text()


def test_dvc_reads_a_remote_with_type(git_repo: Path, lv: Runner, dvc: Runner, tmp_path: Path) -> None:
    """``type`` is DVC's own key for folder remotes: the real dvc accepts the config."""
    lv("init")
    lv("remote", "add", "-d", "r", str(tmp_path / "remote"))
    lv("remote", "modify", "r", "type", "hardlink,copy")
    assert "remote.r.type=hardlink,copy" in dvc("config", "-l").stdout


def test_checkout_replaces_a_folder_where_a_file_goes(git_repo: Path, git: Runner, lv: Runner) -> None:
    (git_repo / "data").mkdir()
    (git_repo / "data" / "x").write_text("x\n")
    lv("init")
    lv("add", "data")
    (git_repo / "data" / "x").unlink()
    (git_repo / "data" / "x" / "empty").mkdir(parents=True)
    lv("checkout")
    assert (git_repo / "data" / "x").read_text() == "x\n"
    assert [p.name for p in (git_repo / "data").iterdir()] == ["x"]
