"""Streaming, convert and Dask rows of bench/loaders_bench.py (``--suite stream``).

* ``stream-s3``: ``StreamingDataset`` over 16 MiB shards on a moto S3 server (loopback), cache limit
  256 MiB: seconds to the first batch of 32 samples (from construction, index fetch included),
  and MB/s over the whole pass. Floor: first batch within 2 s.
* ``stream-local``: the same shards in a local folder, same dataset options. Floor: ``stream-s3``
  at least 0.5x its MB/s.
* ``convert``: ``labvault convert CSV --to parquet`` (in process, ``api.convert``) against
  ``pyarrow.csv.read_csv`` + ``pyarrow.parquet.write_table``. Floor: within 1.2x.
* ``dask-groupby``: a groupby-sum over a tracked Parquet folder whose in-memory size is twice the
  memory limit of a one-worker ``LocalCluster`` (processes), read with ``read_dataframe``; the
  result must equal pyarrow's, and no worker may have been killed or restarted.

Every pass is checked: all samples exactly once with their bytes, equal tables, equal sums.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from labvault.loaders.shards import write_shards

SAMPLE = 256 << 10  # bytes per sample
CACHE = 256 << 20
SHARD = 16 << 20  # bytes per shard: the first batch waits for one whole shard


def _records(n: int) -> Any:
    for i in range(n):
        block = hashlib.sha256(str(i).encode()).digest() * (SAMPLE // 32)
        yield f"s{i:07d}", block


def _stream_pass(ds: Any, n: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    first = 0.0
    seen = 0
    total = 0
    keys = set()
    for k, v in ds:
        seen += 1
        total += len(v)
        keys.add(k)
        if seen == 32:
            first = time.perf_counter() - t0
        if v[:32] != hashlib.sha256(k[1:].lstrip("0").encode() or b"0").digest():
            raise AssertionError(f"sample {k} has the wrong bytes")
    if seen != n or len(keys) != n:
        raise AssertionError(f"streamed {seen} samples ({len(keys)} distinct), expected {n}")
    return first, total / (time.perf_counter() - t0) / 1e6


def stream_rows(work: Path, mib: int, repeats: int) -> dict[str, Any]:
    from labvault.loaders import StreamingDataset
    from labvault.remotes.registry import open_backend
    from remotes_bench import Moto

    n = mib * (1 << 20) // SAMPLE
    shards = work / "shards"
    shutil.rmtree(shards, ignore_errors=True)
    write_shards(_records(n), shards, SHARD)
    moto = Moto(work / "moto.log")
    try:
        moto.make_bucket("stream")
        options = {"endpointurl": f"http://127.0.0.1:{moto.port}", "access_key_id": "x", "secret_access_key": "x"}
        backend = open_backend("s3://stream/ds", options)
        for f in sorted(shards.iterdir()):
            backend.put_file(str(f), f.name)
        backend.close()
        out: dict[str, Any] = {"samples": n, "sample_bytes": SAMPLE, "cache_bytes": CACHE, "runs": {}}
        for name, url, opts in (("stream-local", str(shards), {}), ("stream-s3", "s3://stream/ds", options)):
            runs = []
            for r in range(repeats):
                cache = work / f"cache-{name}-{r}"
                ds = StreamingDataset(url, remote_options=opts, cache_dir=cache, cache_bytes=CACHE, seed=r)
                runs.append(_stream_pass(ds, n))
                shutil.rmtree(cache, ignore_errors=True)
            out["runs"][name] = runs
    finally:
        moto.stop()
    med = {k: (float(np.median([r[0] for r in v])), float(np.median([r[1] for r in v]))) for k, v in out["runs"].items()}
    out["first_batch_s"] = {k: v[0] for k, v in med.items()}
    out["mb_per_s"] = {k: v[1] for k, v in med.items()}
    out["ratio s3/local (floor 0.5)"] = med["stream-s3"][1] / med["stream-local"][1]
    return out


def convert_rows(work: Path, mib: int, repeats: int) -> dict[str, Any]:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from labvault import api

    csv = work / "table.csv"
    block = "".join(f"{i},g{i % 97},{i * 0.25},name{i % 1013}\n" for i in range(200_000))
    with open(csv, "w") as f:
        f.write("id,group,value,name\n")
        while f.tell() < mib << 20:
            f.write(block)
    ours, theirs = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        api.convert(csv, "parquet", work / "ours.parquet")
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        pq.write_table(pacsv.read_csv(csv), work / "theirs.parquet")
        theirs.append(time.perf_counter() - t0)
    if not pq.read_table(work / "ours.parquet").equals(pq.read_table(work / "theirs.parquet")):
        raise AssertionError("convert wrote another table than pyarrow")
    return {"csv_bytes": csv.stat().st_size, "seconds": {"labvault convert": ours, "pyarrow read+write": theirs},
            "ratio convert/pyarrow (floor 1.2)": float(np.median(ours) / np.median(theirs))}


def dask_rows(work: Path, limit_mib: int) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from distributed import Client, LocalCluster

    from labvault.loaders.dask import read_dataframe

    repo = work / "dask-repo"
    shutil.rmtree(repo, ignore_errors=True)
    (repo / "events").mkdir(parents=True)
    rows_per_file = 2_000_000  # 16 bytes a row in memory (int64 key, float64 value): 32 MB a file
    files = max(2, (2 * limit_mib << 20) // (rows_per_file * 16))
    rng = np.random.default_rng(0)
    expect: dict[int, float] = {}
    for i in range(files):
        t = pa.table({"key": rng.integers(0, 1000, rows_per_file), "value": rng.random(rows_per_file)})
        pq.write_table(t, repo / "events" / f"part-{i:04d}.parquet", row_group_size=250_000)
        grouped = t.group_by("key").aggregate([("value", "sum")])
        for k, v in zip(grouped["key"].to_pylist(), grouped["value_sum"].to_pylist(), strict=True):
            expect[k] = expect.get(k, 0.0) + v
    lv = str(Path(sys.executable).parent / "labvault")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([lv, "init"], cwd=repo, check=True, capture_output=True)
    subprocess.run([lv, "add", "events"], cwd=repo, check=True, capture_output=True)
    t0 = time.perf_counter()
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, memory_limit=f"{limit_mib}MiB",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        before = set(client.scheduler_info()["workers"])
        df = read_dataframe("events", repo=repo)
        got = df.groupby("key")["value"].sum().compute()
        after = set(client.scheduler_info()["workers"])
    seconds = time.perf_counter() - t0
    if before != after:
        raise AssertionError(f"a worker was killed or restarted: {before} -> {after}")
    worst = max(abs(got[k] - v) for k, v in expect.items())
    if len(got) != len(expect) or worst > 1e-6 * max(expect.values()):
        raise AssertionError(f"the groupby differs from pyarrow's (worst {worst})")
    return {"memory_limit_mib": limit_mib, "data_mib_in_memory": files * rows_per_file * 16 >> 20,
            "files": files, "seconds": seconds, "killed_workers": 0}
