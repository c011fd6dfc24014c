"""Run by demo/tour_loaders.py inside the tour's project: train the demo model through the loaders.

Prints one JSON line at the end with what it measured. Arguments: the Parquet table written by
``labvault convert``, the shard folder written by ``labvault convert --to shards``.
"""

from __future__ import annotations

import json
import sys
import time
import zlib

import numpy as np

from labvault.loaders import ParquetDataset, StreamingDataset
from labvault.loaders.dask import read_dataframe

FEATURES = 256


def featurize(texts: list[str]) -> np.ndarray:
    x = np.zeros((len(texts), FEATURES), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.replace(",", " ").split():
            x[row, zlib.crc32(word.encode()) % FEATURES] = 1.0
    return x


def train(table_path: str) -> dict[str, float]:
    """Logistic regression (numpy, plain gradient descent): is the rating 3 or more?"""
    w = np.zeros(FEATURES, dtype=np.float32)
    b = 0.0
    rows = 0
    start = time.perf_counter()
    for _epoch in range(3):
        for batch in ParquetDataset(table_path, columns=["text", "rating"], output="arrow", batch_size=256):
            x = featurize(batch.column("text").to_pylist())
            y = (batch.column("rating").to_numpy() >= 3).astype(np.float32)
            p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
            w -= 0.5 * x.T @ (p - y) / len(y)
            b -= 0.5 * float(np.mean(p - y))
            rows += len(y)
    seconds = time.perf_counter() - start
    table = ParquetDataset(table_path, columns=["text", "rating"]).to_table()
    x = featurize(table.column("text").to_pylist())
    y = table.column("rating").to_numpy() >= 3
    accuracy = float(np.mean(((x @ w + b) > 0) == y))
    return {"train_rows_per_s": rows / seconds, "accuracy": round(accuracy, 4)}


def stream(shards: str) -> dict[str, float]:
    """Every image of the shard folder through a DataLoader with 2 workers (plain iteration without torch)."""
    ds = StreamingDataset(shards, cache_bytes=8 << 20, shuffle_buffer=64, seed=0)
    start = time.perf_counter()
    try:
        from torch.utils.data import DataLoader

        batches = DataLoader(ds, batch_size=32, num_workers=2, collate_fn=list)
        samples = [s for batch in batches for s in batch]
    except ImportError:
        samples = list(ds)
    seconds = time.perf_counter() - start
    return {"stream_samples": len(samples), "stream_distinct": len({k for k, _ in samples}),
            "stream_mb_per_s": sum(len(v) for _, v in samples) / seconds / 1e6,
            "stream_samples_per_s": len(samples) / seconds}


def old_version() -> dict[str, int]:
    """The image folder as tagged v1.0, straight from the cache (nothing checked out)."""
    got = dict(StreamingDataset("data/images@v1.0", shuffle=False))
    return {"v1_images": len(got), "v1_bytes": sum(len(v) for v in got.values())}


def dask_counts() -> dict[str, int]:
    """Reviews per rating in the CSV as tagged v1.0, with Dask (local threads)."""
    df = read_dataframe("data/raw/dataset.csv", rev="v1.0", columns=["rating"])
    counts = df.groupby("rating").size().compute(scheduler="threads")
    return {f"v1_rating_{int(k)}": int(v) for k, v in sorted(counts.items())}


if __name__ == "__main__":
    result: dict[str, float] = {}
    result.update(train(sys.argv[1]))
    result.update(stream(sys.argv[2]))
    result.update(old_version())
    result.update(dask_counts())
    print(json.dumps(result))
