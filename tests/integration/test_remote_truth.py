"""The remote is asked, never remembered: an object deleted from a remote behind labvault's back (another
clone's ``gc -c``, a lifecycle rule, a person) is reported by ``status --cloud`` and sent again by
the next ``push``; a remote copy of another size than the cache's is reported and replaced; a
cache copy that does not match its name never replaces anything. On a folder remote and on S3
(moto), with few objects (asked one by one) and with many (listed by prefix on S3)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.remote_support import RemoteTarget, make_target

N_FILES = 90  # above the 32 objects asked about one by one: S3 lists prefixes instead


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _key(oid: str) -> str:
    return f"files/md5/{oid[:2]}/{oid[2:]}"


@pytest.fixture
def pushed(
    request: pytest.FixtureRequest,
    git_repo: Path,
    git: Runner,
    lv: Runner,
    env: dict[str, str],
    make_tree: Callable[[Path, dict[str, bytes | str]], None],
    tmp_path: Path,
) -> tuple[RemoteTarget, dict[str, bytes]]:
    """A repo whose data (a folder of N_FILES files and model.bin) is pushed to a fresh remote of the
    kind given by the test's ``kind`` parameter."""
    target = make_target(request.param, request, tmp_path)
    env.update(target.env)
    files: dict[str, bytes] = {f"data/d{i % 5}/f{i:03}.txt": f"file {i}\n".encode() * (1 + i % 4) for i in range(N_FILES)}
    files["model.bin"] = b"weights v1\n" * 1000
    make_tree(git_repo, dict(files))
    lv("init")
    lv("add", "data", "model.bin")
    lv("remote", "add", "-d", "r", target.url)
    for option, value in target.cli_options:
        lv("remote", "modify", "r", option, value)
    git("add", "-A")
    git("commit", "-q", "-m", "data")
    first = json.loads(lv("push", "--json").stdout)
    assert first["failed"] == [] and first["transferred"] == N_FILES + 2, first
    return target, files


def _status(lv: Runner, *targets: str) -> dict:  # type: ignore[type-arg]
    return json.loads(lv("status", "--cloud", "--json", *targets).stdout)


KINDS = pytest.mark.parametrize("pushed", ["local", "s3"], indirect=True)


@KINDS
@pytest.mark.parametrize("targets", [(), ("model.bin",)], ids=["everything", "one-file"])
def test_deleted_object_is_sent_again(
    pushed: tuple[RemoteTarget, dict[str, bytes]], lv: Runner, targets: tuple[str, ...]
) -> None:
    target, files = pushed
    assert _status(lv)["in_sync"] is True
    victims = [_md5(files["model.bin"])]
    if not targets:
        victims.append(_md5(files["data/d3/f013.txt"]))
    for oid in victims:
        target.remove(_key(oid))

    status = _status(lv, *targets)
    assert status["in_sync"] is False
    assert status["to_push"] == sorted(victims) and status["wrong_size"] == [], status
    again = json.loads(lv("push", "--json", *targets).stdout)
    assert again["transferred"] == len(victims), again
    assert again["failed"] == [] and again["replaced"] == [], again
    assert _status(lv)["in_sync"] is True
    for oid in victims:
        assert _key(oid) in target.object_keys()
    target.assert_objects_intact()
    # Nothing more to do: a third push sends nothing.
    assert json.loads(lv("push", "--json").stdout)["transferred"] == 0


@KINDS
@pytest.mark.parametrize("victim", ["model.bin", "data/d1/f011.txt"])
def test_wrong_size_copy_is_reported_and_replaced(
    pushed: tuple[RemoteTarget, dict[str, bytes]], lv: Runner, victim: str
) -> None:
    target, files = pushed
    oid = _md5(files[victim])
    target.write(_key(oid), b"someone else's bytes, of another length\n")

    status = _status(lv)
    assert status["in_sync"] is False
    assert status["wrong_size"] == [oid] and status["to_push"] == [oid], status
    assert status["to_pull"] == [] and status["lost"] == []
    text = lv("status", "--cloud").stdout
    assert f"wrong size on remote r: {oid}" in text, text

    again = lv("push", "--json")
    report = json.loads(again.stdout)
    assert report["replaced"] == [oid] and report["transferred"] == 1 and report["failed"] == [], report
    assert oid in again.stderr  # a warning names the replaced copy
    assert target.read(_key(oid)) == files[victim]
    target.assert_objects_intact()
    assert _status(lv)["in_sync"] is True


@pytest.mark.parametrize("pushed", ["local"], indirect=True)
def test_wrong_size_remote_and_corrupt_cache_change_nothing(
    pushed: tuple[RemoteTarget, dict[str, bytes]], lv: Runner, git_repo: Path
) -> None:
    """The cache's copy is damaged too: it must not replace the remote's, whatever that holds."""
    target, files = pushed
    oid = _md5(files["model.bin"])
    target.write(_key(oid), b"short")
    cached = git_repo / ".dvc" / "cache" / _key(oid)
    os.chmod(cached, 0o644)
    cached.write_bytes(b"damaged in the cache, and longer than five bytes\n")
    os.chmod(cached, 0o444)

    proc = lv("push", "--json", check=False)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    report = json.loads(proc.stdout)
    assert report["replaced"] == [] and report["transferred"] == 0
    assert len(report["failed"]) == 1 and oid in report["failed"][0] and "verify" in report["failed"][0], report
    assert target.read(_key(oid)) == b"short"
    assert cached.read_bytes() == b"damaged in the cache, and longer than five bytes\n"
