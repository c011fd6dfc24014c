"""MemmapArray / MemmapDataset: .npy and raw+sidecar, read-only, batches, no anonymous-memory growth."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from labvault.errors import LoaderError, PathError
from labvault.loaders import MemmapArray, MemmapDataset, write_raw
from labvault.loaders.memmap import sidecar_path
from tests.loaders.helpers import double


def _rss_anon_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise AssertionError("no RssAnon line in /proc/self/status")


@pytest.fixture
def arr() -> np.ndarray:
    return np.random.default_rng(1).random((50, 3, 2)).astype(np.float32)


@pytest.mark.parametrize("kind", ["npy", "raw"])
def test_reads_match_the_array(tmp_path: Path, arr: np.ndarray, kind: str) -> None:
    if kind == "npy":
        path = tmp_path / "x.npy"
        np.save(path, arr)
    else:
        path = write_raw(tmp_path / "x.bin", arr)
    m = MemmapArray(path)
    assert len(m) == 50 and m.shape == arr.shape and m.dtype == arr.dtype
    np.testing.assert_array_equal(m[7], arr[7])
    np.testing.assert_array_equal(m[-1], arr[-1])
    idx = [9, 2, 2, 49, 0]
    np.testing.assert_array_equal(m.take(idx), arr[idx])
    np.testing.assert_array_equal(np.stack(m.__getitems__(idx)), arr[idx])
    with pytest.raises(ValueError):  # read-only by default
        m.array[0] = 1
    with pytest.raises(IndexError):
        m[50]


def test_pickle_carries_path_not_data(tmp_path: Path) -> None:
    big = np.zeros((1000, 100), dtype=np.float64)  # 800 kB
    m = MemmapArray(write_raw(tmp_path / "z.bin", big))
    m[0]
    blob = pickle.dumps(m)
    assert len(blob) < 2000
    np.testing.assert_array_equal(pickle.loads(blob)[5], big[5])


def test_dataset_labels_and_transforms(tmp_path: Path, arr: np.ndarray) -> None:
    labels = np.arange(50, dtype=np.int64)
    np.save(tmp_path / "x.npy", arr)
    np.save(tmp_path / "y.npy", labels)
    ds = MemmapDataset(tmp_path / "x.npy", labels=tmp_path / "y.npy", transform=double)
    x, y = ds[4]
    np.testing.assert_array_equal(x, arr[4] * 2)
    assert y == 4
    batch = ds.__getitems__([3, 1, 3])
    assert [int(b[1]) for b in batch] == [3, 1, 3]
    np.testing.assert_array_equal(batch[0][0], arr[3] * 2)


def test_missing_file_and_sidecar(tmp_path: Path) -> None:
    with pytest.raises(PathError):
        MemmapArray(tmp_path / "none.npy")
    (tmp_path / "raw.bin").write_bytes(b"\0" * 16)
    with pytest.raises(PathError) as err:
        MemmapArray(tmp_path / "raw.bin")
    assert "raw.bin.meta.json" in err.value.line()


@pytest.mark.parametrize("meta", [
    {"shape": [5, 5], "dtype": "<f4"},  # 100 bytes, file has 16
    {"shape": [2], "dtype": "<f8", "offset": 4},
    {"dtype": "<f4"},
    {"shape": [4], "dtype": "not-a-dtype"},
    {"shape": [], "dtype": "<f4"},
    {"shape": [0, 4], "dtype": "<f4"},
])
def test_sidecar_that_does_not_match_is_refused(tmp_path: Path, meta: dict[str, object]) -> None:
    path = tmp_path / "raw.bin"
    path.write_bytes(b"\0" * 16)
    sidecar_path(path).write_text(json.dumps(meta))
    with pytest.raises(LoaderError) as err:
        MemmapArray(path)
    assert err.value.exit_code == 2 and "\n" not in err.value.line()


def test_sidecar_not_json(tmp_path: Path) -> None:
    path = tmp_path / "raw.bin"
    path.write_bytes(b"\0" * 16)
    sidecar_path(path).write_text("{shape: 4")
    with pytest.raises(LoaderError):
        MemmapArray(path)


def test_a_pass_keeps_anonymous_memory_low(tmp_path: Path) -> None:
    rows, width = 200 * 1024, 256  # 200 MiB of float32
    path = tmp_path / "big.bin"
    with open(path, "wb") as f:
        block = np.arange(1024 * width, dtype=np.float32).reshape(1024, width)
        for i in range(rows // 1024):
            f.write((block + i).tobytes())
    sidecar_path(path).write_text(json.dumps({"shape": [rows, width], "dtype": "<f4"}))
    m = MemmapArray(path)
    before = _rss_anon_kib()
    peak = before
    rng = np.random.default_rng(0)
    checksum = 0.0
    order = rng.permutation(rows // 256)
    for b in order:  # every row once, in random batches of 256
        batch = m.take(np.arange(b * 256, (b + 1) * 256))
        checksum += float(batch[0, 0])
        peak = max(peak, _rss_anon_kib())
    assert checksum > 0
    grown_mib = (peak - before) / 1024
    assert grown_mib < 32, f"anonymous RSS grew by {grown_mib:.1f} MiB over a 200 MiB pass"
