"""StreamingDataset from shard folders (folder remote, S3) and from a tracked folder at a version."""

from __future__ import annotations

import functools
import operator
import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from labvault.errors import LoaderError
from labvault.loaders import StreamingDataset
from labvault.loaders.shards import write_shards
from tests.loaders.helpers import need_torch


def records(n: int, size: int = 1000) -> Iterator[tuple[str, bytes]]:
    for i in range(n):
        yield f"s{i:05d}", (f"{i:05d}".encode() * (size // 5 + 1))[:size]


def make_shards(out: Path, n: int = 200, size: int = 1000, shard_size: int = 20_000) -> Path:
    write_shards(records(n, size), out, shard_size)
    return out


def keys(ds: Any) -> list[str]:
    return [k for k, _ in ds]


def test_streams_every_record_once_from_a_folder_remote(tmp_path: Path) -> None:
    shards = make_shards(tmp_path / "shards")
    ds = StreamingDataset(str(shards), cache_dir=tmp_path / "c", seed=3, shuffle_buffer=50)
    got = list(ds)
    assert sorted(k for k, _ in got) == [f"s{i:05d}" for i in range(200)]
    assert dict(got) == dict(records(200))
    assert keys(ds) == [k for k, _ in got]  # same epoch, same order
    ds.set_epoch(1)
    assert keys(ds) != [k for k, _ in got]
    assert not any(t.name.startswith("labvault-stream") for t in threading.enumerate())


def test_ranks_split_the_epoch(tmp_path: Path) -> None:
    shards = make_shards(tmp_path / "shards", n=50, shard_size=30_000)  # 2 shards, 3 ranks
    parts = [keys(StreamingDataset(str(shards), cache_dir=tmp_path / "c", rank=r, world_size=3)) for r in range(3)]
    assert all(parts) and sorted(functools.reduce(operator.iadd, parts, [])) == [f"s{i:05d}" for i in range(50)]


def _dir_size(path: Path) -> int:
    """Bytes under ``path`` now; a download's temp file renamed or removed by the read-ahead
    thread between the listing and its stat counts as gone (its bytes are under the new name)."""
    total = 0
    for f in path.rglob("*"):
        try:
            st = f.lstat()
        except FileNotFoundError:
            continue
        if stat.S_ISREG(st.st_mode):
            total += st.st_size
    return total


def test_cache_limit_holds_while_streaming_more_than_it(tmp_path: Path) -> None:
    shards = make_shards(tmp_path / "shards", n=400, size=2000, shard_size=50_000)  # ~16 shards, 800 kB
    limit = 160_000
    ds = StreamingDataset(str(shards), cache_dir=tmp_path / "c", cache_bytes=limit, readahead=3)
    peak = 0
    n = 0
    for _ in ds:
        n += 1
        peak = max(peak, _dir_size(tmp_path / "c"))
    assert n == 400
    assert 0 < peak <= limit


def test_an_object_larger_than_the_cache_is_one_clear_error(tmp_path: Path) -> None:
    shards = make_shards(tmp_path / "shards")
    with pytest.raises(LoaderError, match="more than cache_bytes"):
        StreamingDataset(str(shards), cache_dir=tmp_path / "c", cache_bytes=1000)


def test_a_corrupt_shard_is_one_clear_error(tmp_path: Path) -> None:
    shards = make_shards(tmp_path / "shards")
    victim = shards / "shard-00003.lvs"
    data = bytearray(victim.read_bytes())
    data[100] ^= 0xFF
    victim.write_bytes(bytes(data))
    ds = StreamingDataset(str(shards), cache_dir=tmp_path / "c", shuffle=False)
    with pytest.raises(LoaderError, match=r"shard-00003\.lvs .* is corrupt"):
        list(ds)
    assert not list((tmp_path / "c").rglob("*.tmp"))


def test_resume_mid_epoch_yields_exactly_the_rest(tmp_path: Path) -> None:
    shards = make_shards(tmp_path / "shards")
    ds = StreamingDataset(str(shards), cache_dir=tmp_path / "c", seed=5)
    ds.set_epoch(2)
    full = keys(ds)
    ds.set_epoch(2)
    it = iter(ds)
    first = [next(it)[0] for _ in range(77)]
    state = ds.state_dict()
    del it
    again = StreamingDataset(str(shards), cache_dir=tmp_path / "c2", seed=5)
    again.load_state_dict(state)
    rest = keys(again)
    assert first + rest == full


def _torch_loader(ds: Any, workers: int, context: str, batch_size: int = 8) -> Any:
    torch = need_torch()
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, num_workers=workers,
                                       multiprocessing_context=context if workers else None,
                                       collate_fn=list)


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_dataloader_workers_fork_and_spawn(tmp_path: Path, context: str) -> None:
    shards = make_shards(tmp_path / "shards")
    ds = StreamingDataset(str(shards), cache_dir=tmp_path / "c", seed=1)
    got = [k for batch in _torch_loader(ds, 2, context) for k, _ in batch]
    assert sorted(got) == [f"s{i:05d}" for i in range(200)]
    # resume from a DataLoader count: the state names the samples the loop received
    state = ds.state_dict(consumed=48)
    ds2 = StreamingDataset(str(shards), cache_dir=tmp_path / "c", seed=1)
    ds2.load_state_dict(state, batch_size=8)
    rest = [k for batch in _torch_loader(ds2, 2, context) for k, _ in batch]
    assert got[:48] + rest == got


def test_streams_from_s3(tmp_path: Path, s3_server: Any, s3_bucket: str) -> None:
    shards = make_shards(tmp_path / "shards", n=300, size=3000, shard_size=60_000)
    client = s3_server.client()
    for f in shards.iterdir():
        client.upload_file(str(f), s3_bucket, f"ds/{f.name}")
    limit = 200_000
    ds = StreamingDataset(f"s3://{s3_bucket}/ds", remote_options=s3_server.options,
                          cache_dir=tmp_path / "c", cache_bytes=limit)
    peak, got = 0, []
    for k, v in ds:
        got.append((k, v))
        peak = max(peak, _dir_size(tmp_path / "c"))
    assert dict(got) == dict(records(300, 3000)) and len(got) == 300
    assert peak <= limit
    client.put_object(Bucket=s3_bucket, Key="ds/shard-00001.lvs", Body=b"LVSHARD1garbage")
    bad = StreamingDataset(f"s3://{s3_bucket}/ds", remote_options=s3_server.options,
                           cache_dir=tmp_path / "c3", shuffle=False)
    with pytest.raises(LoaderError, match="corrupt"):
        list(bad)


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)


def test_tracked_folder_at_a_version_from_cache_and_remote(tmp_path: Path, env: dict[str, str]) -> None:
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    lv = [str(Path(sys.executable).parent / "labvault")]
    _run(["git", "init", "-q", "-b", "main"], repo, env)
    _run([*lv, "init"], repo, env)
    for i in range(12):
        (repo / "data" / f"f{i}.bin").write_bytes(os.urandom(100) + bytes([i]))
    v1 = {f"f{i}.bin": (repo / "data" / f"f{i}.bin").read_bytes() for i in range(12)}
    _run([*lv, "add", "data"], repo, env)
    _run(["git", "add", "-A"], repo, env)
    _run(["git", "commit", "-qm", "v1"], repo, env)
    _run(["git", "tag", "v1"], repo, env)
    _run([*lv, "remote", "add", "-d", "store", str(tmp_path / "remote")], repo, env)
    _run([*lv, "push"], repo, env)
    (repo / "data" / "f0.bin").write_bytes(b"changed")
    _run([*lv, "add", "data"], repo, env)
    _run(["git", "commit", "-qam", "v2"], repo, env)
    got = dict(StreamingDataset("data@v1", repo=repo, cache_dir=tmp_path / "c"))
    assert got == v1
    # from the folder remote, with the cache emptied
    shutil.rmtree(repo / ".dvc" / "cache")
    got = dict(StreamingDataset("data@v1", repo=repo, cache_dir=tmp_path / "c2", cache_bytes=1000))
    assert got == v1
    with pytest.raises(Exception, match="unknown git revision"):
        StreamingDataset("data@nope", repo=repo)


def test_streams_from_an_http_server(tmp_path: Path, env: dict[str, str]) -> None:
    """Shards served over HTTP (by URL), and a tracked folder whose repository's remote is an HTTP
    server (its cache emptied): every record once, the same bytes."""
    from tests.http_server import HttpRemote

    srv = HttpRemote(tmp_path / "web")
    try:
        make_shards(srv.root / "ds", n=120, size=2000, shard_size=50_000)
        base = srv.url.rsplit("/", 1)[0]
        got = list(StreamingDataset(f"{base}/ds", cache_dir=tmp_path / "c", cache_bytes=120_000))
        assert dict(got) == dict(records(120, 2000)) and len(got) == 120

        repo = tmp_path / "repo"
        (repo / "data").mkdir(parents=True)
        lv = [str(Path(sys.executable).parent / "labvault")]
        _run(["git", "init", "-q", "-b", "main"], repo, env)
        _run([*lv, "init"], repo, env)
        files = {f"f{i}.bin": os.urandom(300) + bytes([i]) for i in range(8)}
        for name, data in files.items():
            (repo / "data" / name).write_bytes(data)
        _run([*lv, "add", "data"], repo, env)
        _run(["git", "add", "-A"], repo, env)
        _run(["git", "commit", "-qm", "v1"], repo, env)
        _run([*lv, "remote", "add", "-d", "web", srv.url], repo, env)
        _run([*lv, "push"], repo, env)
        shutil.rmtree(repo / ".dvc" / "cache")
        assert dict(StreamingDataset("data@HEAD", repo=repo, cache_dir=tmp_path / "c2")) == files
    finally:
        srv.stop()
