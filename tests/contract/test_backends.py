"""The Backend contract, and push/pull through the CLI, on every storage kind: a local folder, S3 on
moto's server, Azure Blob on Azurite and GCS on the emulator (real servers over TCP on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from labvault.errors import RemoteError
from labvault.remotes.registry import open_backend
from tests.conftest import Runner, snapshot
from tests.remote_support import RemoteTarget

MULTIPART = 6 * 1024 * 1024 + 123  # above the 5 MiB part size of S3 multipart uploads


def _blob(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------------------ Backend API


def test_round_trip_and_metadata(remote_target: RemoteTarget, tmp_path: Path) -> None:
    backend = open_backend(remote_target.url, remote_target.options)
    backend.check_writable_root()
    small = _write(tmp_path / "up" / "small", b"hello\n")
    empty = _write(tmp_path / "up" / "empty", b"")
    big_data = _blob(MULTIPART, 1)
    big = _write(tmp_path / "up" / "big", big_data)
    seen: list[int] = []
    backend.put_file(str(small), "a/b/small.txt")
    backend.put_file(str(empty), "a/empty")
    backend.put_file(str(big), "a/big.bin", callback=seen.append)
    assert sum(seen) == MULTIPART

    assert backend.exists("a/b/small.txt") and backend.exists("a/big.bin") and backend.exists("a/empty")
    assert not backend.exists("a/b/nope")
    assert not backend.exists("zz/nothing")
    assert backend.size("a/b/small.txt") == 6
    assert backend.size("a/empty") == 0
    assert backend.size("a/big.bin") == MULTIPART
    with pytest.raises(FileNotFoundError):
        backend.size("a/b/nope")

    got = tmp_path / "down"
    got.mkdir()
    backend.get_file("a/big.bin", str(got / "big"))
    assert (got / "big").read_bytes() == big_data
    backend.get_file("a/b/small.txt", str(got / "small"))
    assert (got / "small").read_bytes() == b"hello\n"
    backend.get_file("a/empty", str(got / "empty"))
    assert (got / "empty").read_bytes() == b""
    with pytest.raises(FileNotFoundError):
        backend.get_file("a/b/nope", str(got / "nope"))

    # What the server holds, read through its own API.
    assert remote_target.read("a/big.bin") == big_data
    assert remote_target.listing() == {"a/b/small.txt": 6, "a/empty": 0, "a/big.bin": MULTIPART}

    # Overwrite replaces the whole content.
    _write(small, b"second version")
    backend.put_file(str(small), "a/b/small.txt")
    assert remote_target.read("a/b/small.txt") == b"second version"
    backend.close()


def test_walk_ls_delete(remote_target: RemoteTarget, tmp_path: Path) -> None:
    backend = open_backend(remote_target.url, remote_target.options)
    files = {
        "files/md5/00/aa": b"1",
        "files/md5/00/bb": b"22",
        "files/md5/ff/cc": b"333",
        "files/md5/ff/deep/x": b"4444",
        "top.txt": b"55555",
    }
    for key, data in files.items():
        backend.put_file(str(_write(tmp_path / "src" / key, data)), key)

    assert dict(backend.walk()) == {k: len(v) for k, v in files.items()}
    assert dict(backend.walk("files/md5/ff")) == {"files/md5/ff/cc": 3, "files/md5/ff/deep/x": 4}
    assert dict(backend.walk("files/md5/00")) == {"files/md5/00/aa": 1, "files/md5/00/bb": 2}
    assert list(backend.walk("files/md5/11")) == []

    top = {(e.name, e.is_dir) for e in backend.ls()}
    assert top == {("files", True), ("top.txt", False)}
    ff = {e.name: e for e in backend.ls("files/md5/ff")}
    assert set(ff) == {"cc", "deep"}
    assert ff["cc"].size == 3 and not ff["cc"].is_dir
    assert ff["deep"].is_dir
    with pytest.raises(RemoteError):
        backend.ls("no/such/folder")

    backend.delete("files/md5/00/aa")
    backend.delete("files/md5/00/never-existed")  # deleting what is absent is not an error
    assert not backend.exists("files/md5/00/aa")
    assert dict(backend.walk("files/md5/00")) == {"files/md5/00/bb": 2}
    assert "files/md5/00/aa" not in remote_target.listing()
    backend.close()


def test_check_writable_root_on_missing_bucket(remote_target: RemoteTarget) -> None:
    backend = open_backend(remote_target.missing_url, remote_target.options)
    with pytest.raises(RemoteError):
        backend.check_writable_root()
    backend.close()


# ------------------------------------------------------------------------------ CLI end to end


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _tracked(repo: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(repo).items() if k.startswith("data/") or k == "model.bin"}


def _tracked_with_remote(lv: Runner, target: RemoteTarget) -> None:
    """init, add data and model.bin, and the remote ``r`` (the default) pointing at ``target``."""
    lv("init")
    lv("add", "data", "model.bin")
    lv("remote", "add", "-d", "r", target.url)
    for option, value in target.cli_options:
        lv("remote", "modify", "r", option, value)


def test_push_clone_pull(
    remote_target: RemoteTarget,
    git_repo: Path,
    git: Runner,
    lv: Runner,
    env: dict[str, str],
    make_tree: Callable[[Path, dict[str, bytes | str]], None],
    tmp_path: Path,
) -> None:
    env.update(remote_target.env)
    make_tree(
        git_repo,
        {
            "data/a.txt": "alpha\n",
            "data/empty": b"",
            "data/sub/b.csv": "x,y\n1,2\n",
            "data/sub/deeper/c.bin": _blob(70_000, 2),
            "data/sub x/é.txt": "accent\n",
            "model.bin": _blob(MULTIPART, 3),
        },
    )
    _tracked_with_remote(lv, remote_target)
    git("add", "-A")
    git("commit", "-q", "-m", "data")
    original = _tracked(git_repo)

    pushed = json.loads(lv("push", "--json").stdout)
    # five distinct files (one empty), one .dir manifest, model.bin
    assert pushed["failed"] == [] and pushed["missing_local"] == [], pushed
    assert pushed["transferred"] == 7, pushed
    objects = remote_target.object_keys()
    assert len(objects) == 7
    remote_target.assert_objects_intact()
    model_key = f"files/md5/{_md5(original['model.bin'])[:2]}/{_md5(original['model.bin'])[2:]}"
    assert objects[model_key] == MULTIPART

    again = json.loads(lv("push", "--json").stdout)
    assert again["transferred"] == 0 and again["skipped"] == 7

    status = json.loads(lv("status", "--cloud", "--json").stdout)
    assert status["in_sync"] is True and status["remote"] == "r"
    assert status["to_push"] == [] and status["to_pull"] == [] and status["lost"] == []

    clone = tmp_path / "clone"
    git("clone", "-q", str(git_repo), str(clone))
    assert not (clone / "model.bin").exists()
    status = json.loads(lv("status", "--cloud", "--json", cwd=clone).stdout)
    assert status["in_sync"] is False
    # Without the manifest the clone knows the folder only by its .dir object.
    assert _md5(original["model.bin"]) in status["to_pull"]
    assert any(oid.endswith(".dir") for oid in status["to_pull"]), status

    pulled = lv("pull", "--json", cwd=clone)
    assert json.loads(pulled.stdout)["transferred"] == 7
    assert _tracked(clone) == original
    assert json.loads(lv("push", "--json", cwd=clone).stdout)["transferred"] == 0
    status = json.loads(lv("status", "--cloud", "--json", cwd=clone).stdout)
    assert status["in_sync"] is True

    # An object vanishes from the remote: both repos see that it must be pushed again.
    victim = _md5(original["data/sub/b.csv"])
    remote_target.remove(f"files/md5/{victim[:2]}/{victim[2:]}")
    for repo in (clone, git_repo):
        status = json.loads(lv("status", "--cloud", "--json", cwd=repo).stdout)
        assert status["to_push"] == [victim], (repo.name, status)
        assert status["in_sync"] is False
    repushed = json.loads(lv("push", "--json").stdout)
    assert repushed["transferred"] == 1
    assert json.loads(lv("status", "--cloud", "--json").stdout)["in_sync"] is True
    remote_target.assert_objects_intact()


def test_missing_key_with_status_like_digits(remote_target: RemoteTarget, tmp_path: Path) -> None:
    """A missing object is "not found", whatever digits its name holds (md5 names often contain
    "401", "403" or "500"): never "access denied", never retried as a server error."""
    backend = open_backend(remote_target.url, remote_target.options)
    key = "files/md5/40/3f00d5000401"
    with pytest.raises(FileNotFoundError):
        backend.size(key)
    with pytest.raises(FileNotFoundError):
        backend.get_file(key, str(tmp_path / "out"))
    assert not backend.exists(key)
    backend.close()


def test_gc_cloud_on_every_kind(
    remote_target: RemoteTarget, git_repo: Path, git: Runner, lv: Runner, env: dict[str, str],
    make_tree: Callable[[Path, dict[str, bytes | str]], None],
) -> None:
    """``gc -w -c`` leaves on the remote exactly the workspace's objects; a dry run deletes nothing."""
    env.update(remote_target.env)
    make_tree(git_repo, {"data/a.txt": "a1\n", "data/b.txt": "b\n", "model.bin": "m1\n"})
    _tracked_with_remote(lv, remote_target)
    git("add", "-A")
    git("commit", "-q", "-m", "v1")
    lv("push")
    make_tree(git_repo, {"data/a.txt": "a2\n", "model.bin": "m2\n"})
    lv("add", "data", "model.bin")
    lv("push")
    assert len(remote_target.object_keys()) == 7
    dry = json.loads(lv("gc", "-w", "-c", "--dry", "--json").stdout)
    assert dry["remote"] == "r" and len(dry["remote_removed"]) == 3 and len(remote_target.object_keys()) == 7
    done = json.loads(lv("gc", "-w", "-c", "-f", "--json").stdout)
    assert sorted(done["remote_removed"]) == sorted(dry["remote_removed"]) and done["remote_kept"] == 4
    left = {k.replace("files/md5/", "").replace("/", "") for k in remote_target.object_keys()}
    assert left == {_md5(b"a2\n"), _md5(b"b\n"), _md5(b"m2\n"), *(o for o in left if o.endswith(".dir"))}
    assert len(left) == 4
    remote_target.assert_objects_intact()
