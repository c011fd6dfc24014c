"""Loaders: HDF5 through a DataLoader, and memmap random batches, against the guide's datasets.

Rows (samples/s, medians of --repeats passes, warm page cache: the files are written just before):

* ``h5-guide``: the guide's HDF5 dataset, which opens the file in every ``__getitem__``, through
  ``DataLoader(num_workers=2, batch_size=32, shuffle=True)``.
* ``h5-labvault-item``: ``H5Dataset`` (one handle per worker) read item by item (a per-item
  wrapper hides ``__getitems__``), same DataLoader and shuffling.
* ``h5-labvault``: ``H5Dataset`` with ``__getitems__`` and ``BlockShuffleSampler`` (blocks of the
  chunk rows), same DataLoader. Floor 5x ``h5-guide``, goal 20x.
* ``h5-labvault-w0``: the same as ``h5-labvault`` with ``num_workers=0`` (no worker processes):
  shows what moving batches between processes costs, for reference (no floor).
* ``h5-open-item``: a kept-open h5py dataset read item by item in random order, one process.
* ``memmap``: ``MemmapDataset.__getitems__`` on random batches of 32, one process. Floor 3x
  ``h5-open-item``.

Every pass is checked before its time is kept: each sample's label is its index, every index must
come exactly once, and each sample's first value must equal the stored array's.

    .venv/bin/python bench/loaders_bench.py                  # full: 50,000 samples (600 MiB)
    .venv/bin/python bench/loaders_bench.py --samples 4096   # reduced (quick; not for the docs)
    .venv/bin/python bench/loaders_bench.py --suite stream   # streaming, convert, Dask: 1 GiB from
                                                             # S3, a 1 GiB CSV, Dask at 2x a 1 GiB limit
    .venv/bin/python bench/loaders_bench.py --suite stream --quick   # the same, small
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from checks import OutputWrong
from labvault.loaders import BlockShuffleSampler, H5Dataset, MemmapDataset, write_raw
from provenance import current

ROOT = Path(__file__).resolve().parent.parent
SHAPE = (3, 32, 32)
CHUNK_ROWS = 64
BATCH = 32


class GuideH5:
    """The guide's dataset: the file is opened for every item."""

    def __init__(self, path: str) -> None:
        self.path = path
        with h5py.File(path, "r") as f:
            self.n = len(f["images"])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[Any, Any]:
        with h5py.File(self.path, "r") as f:
            return f["images"][i], f["labels"][i]


class PerItem:
    """Hides ``__getitems__``: the DataLoader then fetches item by item."""

    def __init__(self, ds: H5Dataset) -> None:
        self.ds = ds

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i: int) -> Any:
        return self.ds[i]


def make_files(work: Path, n: int) -> tuple[Path, Path, np.ndarray]:
    work.mkdir(parents=True, exist_ok=True)
    h5, raw = work / f"train-{n}.h5", work / f"train-{n}.bin"
    rng = np.random.default_rng(0)
    data = rng.random((n, *SHAPE), dtype=np.float32)
    if not h5.exists():
        tmp = h5.with_suffix(".tmp")
        with h5py.File(tmp, "w") as f:
            f.create_dataset("images", data=data, chunks=(CHUNK_ROWS, *SHAPE))
            f.create_dataset("labels", data=np.arange(n, dtype=np.int64))
        tmp.replace(h5)
    write_raw(raw, data)
    write_raw(raw.with_name(raw.name + ".labels"), np.arange(n, dtype=np.int64))
    return h5, raw, data.reshape(n, -1)[:, 0].copy()


def check(first: np.ndarray, labels: list[np.ndarray], xs: list[np.ndarray], who: str) -> None:
    lab = np.concatenate(labels)
    if not np.array_equal(np.sort(lab), np.arange(len(first))):
        raise OutputWrong(f"{who}: indices not each seen exactly once")
    got = np.concatenate(xs)
    if not np.array_equal(got, first[lab]):
        raise OutputWrong(f"{who}: a sample differs from the stored array")


def through_loader(ds: Any, sampler: Any, first: np.ndarray, who: str, workers: int = 2) -> float:
    from torch.utils.data import DataLoader

    loader = DataLoader(ds, batch_size=BATCH, num_workers=workers, sampler=sampler,
                        shuffle=sampler is None, multiprocessing_context="fork" if workers else None)
    labels, xs = [], []
    t0 = time.perf_counter()
    for x, y in loader:
        labels.append(y.numpy())
        xs.append(x.numpy().reshape(len(x), -1)[:, 0].copy())
    seconds = time.perf_counter() - t0
    check(first, labels, xs, who)
    return seconds


def one_process(fetch: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], n: int, first: np.ndarray,
                who: str) -> float:
    order = np.random.default_rng(int(time.time())).permutation(n)
    labels, xs = [], []
    t0 = time.perf_counter()
    for lo in range(0, n, BATCH):
        x, y = fetch(order[lo:lo + BATCH])
        labels.append(y)
        xs.append(x.reshape(len(x), -1)[:, 0].copy())
    seconds = time.perf_counter() - t0
    check(first, labels, xs, who)
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "work" / "loaders")
    ap.add_argument("--suite", choices=["h5", "stream"], default="h5",
                    help="h5: HDF5 and memmap rows; stream: streaming, convert and Dask rows (bench/stream_bench.py)")
    ap.add_argument("--quick", action="store_true", help="--suite stream at a small scale (not for the docs)")
    args = ap.parse_args()
    if args.suite == "stream":
        return stream_suite(args)
    n = args.samples
    quick = n != 50_000
    h5, raw, first = make_files(args.work, n)
    ours = H5Dataset(h5, "images", labels_key="labels")
    mm = MemmapDataset(raw, labels=raw.with_name(raw.name + ".labels"))
    with h5py.File(h5, "r") as f:
        images, labels = f["images"], f["labels"]

        def h5_item(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return (np.stack([images[int(i)] for i in idx]), np.array([labels[int(i)] for i in idx]))

        def mm_batch(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            got = mm.__getitems__(idx)
            return np.stack([g[0] for g in got]), np.array([g[1] for g in got])

        rows: dict[str, Callable[[], float]] = {
            "h5-guide": lambda: through_loader(GuideH5(str(h5)), None, first, "h5-guide"),
            "h5-labvault-item": lambda: through_loader(PerItem(ours), None, first, "h5-labvault-item"),
            "h5-labvault": lambda: through_loader(ours, BlockShuffleSampler(ours, seed=int(time.time())),
                                                  first, "h5-labvault"),
            "h5-labvault-w0": lambda: through_loader(ours, BlockShuffleSampler(ours, seed=int(time.time())),
                                                     first, "h5-labvault-w0", workers=0),
            "h5-open-item": lambda: one_process(h5_item, n, first, "h5-open-item"),
            "memmap": lambda: one_process(mm_batch, n, first, "memmap"),
        }
        times: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(args.repeats):
            for name, run in rows.items():
                times[name].append(run())
    rate = {name: n / statistics.median(t) for name, t in times.items()}
    ratios = {
        "h5-labvault / h5-guide (floor 5, goal 20)": rate["h5-labvault"] / rate["h5-guide"],
        "h5-labvault-item / h5-guide": rate["h5-labvault-item"] / rate["h5-guide"],
        "h5-labvault-w0 / h5-guide": rate["h5-labvault-w0"] / rate["h5-guide"],
        "memmap / h5-open-item (floor 3)": rate["memmap"] / rate["h5-open-item"],
    }
    out = {"provenance": current(), "quick": quick, "caches": "warm (files written just before)",
           "load": os.getloadavg(), "samples": n, "sample_shape": SHAPE, "chunk_rows": CHUNK_ROWS,
           "batch_size": BATCH, "seconds": times, "samples_per_s": rate, "ratios": ratios}
    dest = ROOT / "bench" / "results" / ("loaders-quick.json" if quick else "loaders.json")
    dest.write_text(json.dumps(out, indent=2) + "\n")
    for name, r in rate.items():
        print(f"{name:18s} {r:12,.0f} samples/s   runs {[round(t, 3) for t in times[name]]}")
    for name, r in ratios.items():
        print(f"{name}: {r:.1f}x")
    print(f"written {dest}")
    return 0


def stream_suite(args: argparse.Namespace) -> int:
    import stream_bench

    work = args.work / "stream"
    work.mkdir(parents=True, exist_ok=True)
    mib, csv_mib, limit = (32, 16, 384) if args.quick else (1024, 1024, 1024)
    out: dict[str, Any] = {"provenance": current(), "quick": args.quick, "load": os.getloadavg(),
                           "caches": "warm (files written just before; S3 is moto in memory)"}
    out["stream"] = stream_bench.stream_rows(work, mib, args.repeats)
    out["convert"] = stream_bench.convert_rows(work, csv_mib, args.repeats)
    out["dask"] = stream_bench.dask_rows(work, limit)
    dest = ROOT / "bench" / "results" / ("loaders-stream-quick.json" if args.quick else "loaders-stream.json")
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "provenance"}, indent=1))
    print(f"written {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
