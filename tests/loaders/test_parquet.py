"""ParquetDataset: column selection, predicate pushdown by row group, Arrow/numpy out, sharding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labvault.errors import LoaderError, PathError, UsageError
from labvault.loaders import ParquetDataset
from labvault.loaders.parquet import assign_units
from tests.loaders.helpers import need_torch

ROWS, GROUP = 10_000, 1_000


@pytest.fixture
def table_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "table"
    folder.mkdir()
    for part in range(2):  # two files of 10 row groups each, x sorted so statistics are selective
        x = np.arange(part * ROWS, (part + 1) * ROWS, dtype=np.int64)
        t = pa.table({"x": x, "y": x * 0.5, "name": [f"n{i}" for i in x]})
        pq.write_table(t, folder / f"part-{part}.parquet", row_group_size=GROUP)
    return folder


def test_columns_and_all_rows(table_dir: Path) -> None:
    ds = ParquetDataset(table_dir, columns=["x", "y"])
    assert len(ds.units()) == 20
    t = ds.to_table()
    assert t.column_names == ["x", "y"] and t.num_rows == 2 * ROWS
    assert sorted(t.column("x").to_pylist()) == list(range(2 * ROWS))


def test_predicate_prunes_row_groups_and_rows(table_dir: Path) -> None:
    flt = (pc.field("x") >= 2_500) & (pc.field("x") < 4_200)
    ds = ParquetDataset(table_dir, columns=["x"], filter=flt)
    assert len(ds.units()) == 3  # row groups [2000,3000), [3000,4000), [4000,5000) only
    assert ds.to_table().column("x").to_pylist() == list(range(2_500, 4_200))
    none = ParquetDataset(table_dir, filter=pc.field("x") > 10**9)
    assert none.units() == [] and none.to_table().num_rows == 0


def test_numpy_output_and_batch_size(table_dir: Path) -> None:
    ds = ParquetDataset(table_dir / "part-0.parquet", columns=["x", "name"], output="numpy", batch_size=300)
    batches = list(ds)
    assert all(set(b) == {"x", "name"} and len(b["x"]) <= 300 for b in batches)
    assert isinstance(batches[0]["x"], np.ndarray)
    assert np.concatenate([b["x"] for b in batches]).tolist() == list(range(ROWS))


@settings(max_examples=300, deadline=None)
@given(units=st.integers(0, 200), world=st.integers(1, 6), workers=st.integers(1, 6))
def test_units_split_disjoint_and_complete(units: int, world: int, workers: int) -> None:
    seen = [u for r in range(world) for w in range(workers)
            for u in assign_units(units, rank=r, world_size=world, worker=w, num_workers=workers)]
    assert sorted(seen) == list(range(units))


@pytest.mark.parametrize("world", [1, 2, 3])
def test_ranks_and_dataloader_workers_read_every_row_once(table_dir: Path, world: int) -> None:
    need_torch()
    from torch.utils.data import DataLoader

    seen: list[int] = []
    for rank in range(world):
        ds = ParquetDataset(table_dir, columns=["x"], output="numpy", rank=rank, world_size=world)
        loader = DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="fork")
        for batch in loader:
            seen.extend(batch["x"].tolist())
    assert sorted(seen) == list(range(2 * ROWS))


def test_bad_input(table_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(PathError):
        ParquetDataset(tmp_path / "missing.parquet")
    with pytest.raises(LoaderError) as err:
        ParquetDataset(table_dir, columns=["x", "nope"])
    assert "'nope'" in err.value.line() and "name" in err.value.line()
    with pytest.raises(UsageError):
        ParquetDataset(table_dir, output="pandas")
    with pytest.raises(LoaderError):
        ParquetDataset(table_dir, filter=pc.field("zzz") > 1).units()
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet")
    with pytest.raises(LoaderError):
        ParquetDataset(junk)
