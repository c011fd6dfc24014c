"""Faults between labvault and its remote: a proxy in front of moto's S3 server drops connections,
answers 500/503 and cuts responses short on a seeded fraction of requests; push and pull still
finish with every byte right. A push killed with SIGKILL never leaves a partial object. An object
corrupted on the remote is rejected by pull: reported, never checked out, never cached."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Runner, snapshot
from tests.integration.faultproxy import FaultProxy
from tests.remote_support import RemoteTarget, make_target
from tests.services import S3Server

MB = 1024 * 1024


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _tracked(repo: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(repo).items() if not k.startswith(".") and not k.endswith(".dvc")}


def _commit(git: Runner, cwd: Path | None = None) -> None:
    git("add", "-A", cwd=cwd)
    git("commit", "-q", "-m", "data", cwd=cwd)


def _objects_intact(s3: S3Server, bucket: str, prefix: str) -> dict[str, int]:
    """Every object under files/md5 hashes to its name; returns key -> size."""
    keys = s3.keys(bucket, f"{prefix}/files/md5/")
    for key in keys:
        parts = key.split("/")
        name = parts[-2] + parts[-1]
        digest = _md5(s3.read(bucket, key))
        assert name in (digest, digest + ".dir"), f"{key} holds content with md5 {digest}"
    return keys


def test_push_pull_through_faulty_proxy(
    s3_server: S3Server,
    s3_bucket: str,
    git_repo: Path,
    git: Runner,
    lv: Runner,
    env: dict[str, str],
    make_tree: Callable[[Path, dict[str, bytes | str]], None],
    tmp_path: Path,
) -> None:
    env.update(s3_server.env)
    rnd = random.Random(11)
    files: dict[str, bytes | str] = {f"data/d{i % 7}/f{i:03}.txt": f"small file {i}\n" * (1 + i % 5) for i in range(200)}
    files["data/big.bin"] = rnd.randbytes(11 * MB + 5)  # multipart: three parts
    files["single.bin"] = rnd.randbytes(300_000)
    make_tree(git_repo, files)
    lv("init")
    lv("add", "data", "single.bin")
    with FaultProxy(s3_server.endpoint, fault_rate=0.1, seed=1234) as proxy:
        lv("remote", "add", "-d", "r", f"s3://{s3_bucket}/store")
        lv("remote", "modify", "r", "endpointurl", proxy.url)
        _commit(git)
        pushed = json.loads(lv("push", "--json", "-j", "8", timeout=300).stdout)
        assert pushed["failed"] == [] and pushed["transferred"] == 203, pushed
        assert proxy.injected >= 10, proxy.counts

        keys = _objects_intact(s3_server, s3_bucket, "store")
        assert len(keys) == 203

        clone = tmp_path / "clone"
        git("clone", "-q", str(git_repo), str(clone))
        before = proxy.injected
        pulled = json.loads(lv("pull", "--json", "-j", "8", cwd=clone, timeout=300).stdout)
        assert pulled["failed"] == [] and pulled["corrupt"] == [] and pulled["transferred"] == 203, pulled
        assert proxy.injected > before, proxy.counts
    assert _tracked(clone) == _tracked(git_repo)
    assert len(_tracked(clone)) == 202


def test_kill_during_push_leaves_no_partial_object(
    s3_server: S3Server,
    s3_bucket: str,
    git_repo: Path,
    git: Runner,
    lv: Runner,
    env: dict[str, str],
    make_tree: Callable[[Path, dict[str, bytes | str]], None],
    tmp_path: Path,
) -> None:
    env.update(s3_server.env)
    rnd = random.Random(5)
    make_tree(git_repo, {f"big/part{i}.bin": rnd.randbytes(20 * MB + i) for i in range(4)})
    make_tree(git_repo, {f"big/small{i}.txt": f"{i}\n" for i in range(20)})
    lv("init")
    lv("add", "big")
    lv("remote", "add", "-d", "r", f"s3://{s3_bucket}/store")
    lv("remote", "modify", "r", "endpointurl", s3_server.endpoint)
    _commit(git)

    kills = 0
    for delay in (0.3, 0.7, 1.2):
        proc = subprocess.Popen(
            [*lv.argv0, "push", "-j", "4"], cwd=git_repo, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        time.sleep(delay + rnd.random() * 0.3)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
        _objects_intact(s3_server, s3_bucket, "store")
    assert kills >= 1, "push finished before any kill: make the files larger"

    pushed = json.loads(lv("push", "--json", timeout=300).stdout)
    assert pushed["failed"] == [], pushed
    keys = _objects_intact(s3_server, s3_bucket, "store")
    assert len(keys) == 25  # 4 big, 20 small, 1 manifest
    status = json.loads(lv("status", "--cloud", "--json").stdout)
    assert status["in_sync"] is True, status


@pytest.mark.parametrize("kind", ["local", "s3"])
@pytest.mark.parametrize("victim", ["file", "manifest"])
def test_corrupt_object_rejected_by_pull(
    kind: str,
    victim: str,
    request: pytest.FixtureRequest,
    git_repo: Path,
    git: Runner,
    lv: Runner,
    env: dict[str, str],
    make_tree: Callable[[Path, dict[str, bytes | str]], None],
    tmp_path: Path,
) -> None:
    target: RemoteTarget = make_target(kind, request, tmp_path)
    env.update(target.env)
    make_tree(git_repo, {"data/a.txt": "alpha\n", "data/b.txt": "bravo\n", "model.bin": "weights v1\n"})
    lv("init")
    lv("add", "data", "model.bin")
    lv("remote", "add", "-d", "r", target.url)
    for option, value in target.cli_options:
        lv("remote", "modify", "r", option, value)
    _commit(git)
    lv("push")

    if victim == "file":
        oid = _md5(b"weights v1\n")
        forged = b"weights v2\n"  # same size, other content
    else:
        oid = next(k.split("/")[2] + k.split("/")[3] for k in target.object_keys() if k.endswith(".dir"))
        original = target.read(f"files/md5/{oid[:2]}/{oid[2:]}")
        forged = original.replace(b"a.txt", b"z.txt")
        assert forged != original
    target.write(f"files/md5/{oid[:2]}/{oid[2:]}", forged)

    clone = tmp_path / "clone"
    git("clone", "-q", str(git_repo), str(clone))
    proc = lv("pull", cwd=clone, check=False)
    assert proc.returncode != 0, proc.stdout
    assert "corrupt" in proc.stderr and oid in proc.stderr, proc.stderr
    cache = clone / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]
    assert not cache.exists()
    leftovers = [p for p in (clone / ".dvc" / "cache").rglob("*") if p.is_file() and oid[2:] in p.name]
    assert leftovers == [], leftovers
    if victim == "file":
        assert not (clone / "model.bin").exists()
        assert (clone / "data" / "a.txt").read_bytes() == b"alpha\n"  # the rest is pulled
    else:
        assert not (clone / "data").exists()
        assert (clone / "model.bin").read_bytes() == b"weights v1\n"
    # A second attempt is rejected the same way.
    again = lv("pull", cwd=clone, check=False)
    assert again.returncode != 0 and "corrupt" in again.stderr
    assert not cache.exists()


@pytest.mark.parametrize("kind", ["s3", "azure", "gs"])
def test_upload_altered_on_the_way_is_not_stored(
    kind: str,
    request: pytest.FixtureRequest,
    git_repo: Path,
    git: Runner,
    lv: Runner,
    env: dict[str, str],
    make_tree: Callable[[Path, dict[str, bytes | str]], None],
    tmp_path: Path,
) -> None:
    """A proxy flips one bit in the middle of every upload of 1 KiB or more. The storage refuses
    the request (real S3 by its Content-MD5; Azure by its Content-MD5) or labvault finds the md5
    the storage computed differs (moto's ETag; GCS's md5Hash) and removes the object: push fails,
    and no object on the remote holds other bytes than its name says. Pushed again without the
    proxy, all is there."""
    target = make_target(kind, request, tmp_path)
    env.update(target.env)
    big = random.Random(5).randbytes(40_000)
    make_tree(git_repo, {"data/big.bin": big, "data/small.txt": "small\n"})
    lv("init")
    lv("add", "data")
    lv("remote", "add", "-d", "r", target.url)
    [(option, direct)] = target.cli_options
    upstream = f"http://127.0.0.1:{target._server.port}"  # the storage server's own address
    with FaultProxy(upstream, fault_rate=1.0, seed=7, faults=("corrupt_upload",)) as proxy:
        via = direct.replace(upstream, proxy.url)
        assert via != direct
        lv("remote", "modify", "r", option, via)
        _commit(git)
        proc = lv("push", "--json", check=False)
        assert proc.returncode != 0, proc.stdout
        assert proxy.counts["corrupted"] >= 1, proxy.counts
    keys = target.object_keys()
    assert f"{_md5(big)[:2]}/{_md5(big)[2:]}" not in {k.removeprefix("files/md5/") for k in keys}, keys
    target.assert_objects_intact()
    lv("remote", "modify", "r", option, direct)
    pushed = json.loads(lv("push", "--json").stdout)
    assert pushed["failed"] == [], pushed
    target.assert_objects_intact()
    assert len(target.object_keys()) == 3  # two files and the folder's manifest
