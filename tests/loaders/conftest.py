"""Small data files for the loader tests (made here, never downloaded)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

N_SAMPLES = 300
CHUNK_ROWS = 16


def make_h5(path: Path, n: int = N_SAMPLES, chunk_rows: int = CHUNK_ROWS) -> Path:
    rng = np.random.default_rng(7)
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=rng.random((n, 4, 5), dtype=np.float32),
                         chunks=(chunk_rows, 4, 5), compression="gzip")
        f.create_dataset("labels", data=np.arange(n, dtype=np.int64) * 10)
        f.create_dataset("group/short", data=np.zeros(n - 1))
    return path


@pytest.fixture
def h5_file(tmp_path: Path) -> Path:
    return make_h5(tmp_path / "train.h5")
