"""The loaders import and work as plain Python sequences/iterables when torch is absent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import sys
sys.modules["torch"] = None  # any 'import torch' now fails, as if it were not installed
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
import labvault.loaders as L
from tests.loaders.conftest import make_h5
folder = sys.argv[1]
h5 = L.H5Dataset(make_h5(__import__("pathlib").Path(folder) / "a.h5"), "images", labels_key="labels")
assert len(h5) == 300 and h5[5][1] == 50 and len(h5.__getitems__([3, 1])) == 2
assert sorted(L.BlockShuffleSampler(h5, seed=1)) == list(range(300))
m = L.MemmapArray(L.write_raw(folder + "/m.bin", np.arange(12).reshape(6, 2)))
assert m[2].tolist() == [4, 5]
pq.write_table(pa.table({"x": list(range(10))}), folder + "/t.parquet", row_group_size=3)
assert sum(b.num_rows for b in L.ParquetDataset(folder + "/t.parquet")) == 10
assert "torch" not in [k for k, v in sys.modules.items() if v is not None]
print("ok")
"""


def test_everything_works_without_torch(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=root,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_import_does_not_import_torch_or_h5py() -> None:
    code = ("import sys, labvault.loaders; "
            "print(sorted(m for m in ('torch', 'h5py', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
