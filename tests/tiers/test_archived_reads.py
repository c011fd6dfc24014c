"""Reads of objects archived on an S3 remote (moto: GET fails with InvalidObjectState until
restored): pull, labvault.read, get and StreamingDataset request the restore once and stop with
one line and exit 10; a read while the restore is pending requests nothing more."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from labvault import api
from labvault.errors import RestorePendingError
from labvault.loaders import StreamingDataset
from tests.conftest import Runner
from tests.loaders.test_streaming import make_shards
from tests.services import S3Server, restore_delayed
from tests.tiers.test_cloud_tier import s3_env

__all__ = ["s3_env"]  # a fixture used by name below


def _archive(s3: S3Server, bucket: str, prefix: str, sclass: str = "GLACIER", ext: str = "") -> list[str]:
    """Move the objects under ``prefix`` named ``*ext`` but folder manifests to ``sclass``; returns their keys."""
    client = s3.client()
    keys = [k for k in s3.keys(bucket, prefix) if not k.endswith(".dir") and k.endswith(ext)]
    for k in keys:
        client.copy_object(Bucket=bucket, Key=k, CopySource={"Bucket": bucket, "Key": k},
                           StorageClass=sclass, MetadataDirective="COPY")
    return keys


def _restore_headers(s3: S3Server, bucket: str, keys: list[str]) -> list[str]:
    return [str(s3.client().head_object(Bucket=bucket, Key=k).get("Restore", "")) for k in keys]


@pytest.fixture
def pushed(git_repo: Path, git: Runner, lv: Runner, env: dict[str, str], s3_env: S3Server,
           make_tree: Callable[[Path, dict[str, bytes | str]], None]) -> tuple[str, dict[str, bytes]]:
    env.update(s3_env.env)
    files = {f"data/f{i}.bin": os.urandom(3000 + i) for i in range(3)}
    make_tree(git_repo, files)
    lv("init")
    lv("add", "data")
    bucket = s3_env.make_bucket()
    lv("remote", "add", "-d", "r", f"s3://{bucket}/store")
    lv("remote", "modify", "r", "endpointurl", s3_env.endpoint)
    git("add", "-A")
    git("commit", "-qm", "data")
    lv("push")
    shutil.rmtree(git_repo / ".dvc" / "cache")
    shutil.rmtree(git_repo / "data")
    return bucket, files


def test_pull_requests_the_restore_once_then_reads(git_repo: Path, lv: Runner, s3_env: S3Server,
                                                   pushed: tuple[str, dict[str, bytes]]) -> None:
    bucket, files = pushed
    keys = _archive(s3_env, bucket, "store/")
    assert len(keys) == 3 and _restore_headers(s3_env, bucket, keys) == ["", "", ""]
    proc = lv("pull", check=False)
    assert proc.returncode == 10 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: 3 archived objects: restore requested for 3, "
                                  "already in progress for 0 (first: s3://"), proc.stderr
    assert "ready in about 5 h: try again later" in proc.stderr and "Traceback" not in proc.stderr
    # each object got its restore request; moto restores at once when no delay is set
    assert all('ongoing-request="false"' in h for h in _restore_headers(s3_env, bucket, keys))
    lv("pull")
    assert {f"data/{p.name}": p.read_bytes() for p in (git_repo / "data").iterdir()} == files


def test_every_reader_stops_with_one_line_and_requests_once(
        git_repo: Path, lv: Runner, s3_env: S3Server, pushed: tuple[str, dict[str, bytes]],
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bucket, _files = pushed
    monkeypatch.chdir(git_repo)
    for k, v in s3_env.env.items():
        monkeypatch.setenv(k, v)
    # moto: a restored key reads "in progress" once `times` reads of it have gone by, then "restored"
    # after as many again; with times=1 the first status read after the request says in progress,
    # and times=1000 then holds it there (restores requested under it never leave their first state,
    # which moto reports as restored)
    with restore_delayed(s3_env, 1):
        keys = _archive(s3_env, bucket, "store/", "DEEP_ARCHIVE")
        with pytest.raises(RestorePendingError, match=r"^restore requested for s3://.+ \(DEEP_ARCHIVE\), "
                                                      r"ready in about 12 h: try again later$"):
            api.read("data/f0.bin")
        heads = _restore_headers(s3_env, bucket, keys)
        [first] = [k for k, h in zip(keys, heads, strict=True) if h]  # one request, for f0 only
        assert 'ongoing-request="true"' in heads[keys.index(first)]
        with restore_delayed(s3_env, 1000):
            with pytest.raises(RestorePendingError, match=r"^restore of s3://.+ already in progress"):
                api.read("data/f0.bin")  # pending: no second request
            with pytest.raises(RestorePendingError, match=r"^3 archived objects: restore requested for 2, "
                                                          r"already in progress for 1 \(first: s3://"):
                api.get(str(git_repo), "data", out=tmp_path / "got")
            assert not (tmp_path / "got").exists()
            assert all(h for h in _restore_headers(s3_env, bucket, keys))  # every object asked once
            proc = lv("pull", check=False)  # f1 and f2 restored meanwhile: only f0 is still pending
            assert proc.returncode == 10 and proc.stderr.count("\n") == 1, proc.stderr
            assert proc.stderr.startswith(f"error: restore of s3://{bucket}/{first} (DEEP_ARCHIVE) already in "
                                          "progress, ready within about 12 h of the request"), proc.stderr
            cached = {p.parent.name + p.name for p in (git_repo / ".dvc/cache/files/md5").glob("*/*")}
            assert {k.split("/md5/")[1].replace("/", "") for k in keys} - cached == {
                first.split("/md5/")[1].replace("/", "")}


def test_streaming_from_archived_shards_is_one_line(tmp_path: Path, s3_env: S3Server) -> None:
    shards = make_shards(tmp_path / "shards", n=40, size=500, shard_size=10_000)
    bucket = s3_env.make_bucket()
    client = s3_env.client()
    for f in shards.iterdir():
        client.upload_file(str(f), bucket, f"ds/{f.name}")
    assert _archive(s3_env, bucket, "ds/", ext=".lvs")  # the index stays readable
    ds = StreamingDataset(f"s3://{bucket}/ds", remote_options=s3_env.options, cache_dir=tmp_path / "c",
                          shuffle=False)
    with pytest.raises(RestorePendingError, match=r"^restore requested for s3://.+\.lvs \(GLACIER\)"):
        list(ds)
