"""read_dataframe: tracked CSV/Parquet of any revision as Dask DataFrames, and a groupby on a LocalCluster."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labvault.errors import LoaderError
from labvault.loaders.dask import read_dataframe


def frame(seed: int, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"key": rng.integers(0, 9, n), "x": rng.random(n), "y": rng.integers(0, 100, n)})


def write_parts(folder: Path, df: pd.DataFrame, parts: int = 3) -> None:
    folder.mkdir(exist_ok=True)
    bounds = np.linspace(0, len(df), parts + 1).astype(int)
    for i in range(parts):
        chunk = df.iloc[bounds[i]:bounds[i + 1]]
        pq.write_table(pa.Table.from_pandas(chunk, preserve_index=False), folder / f"part-{i}.parquet")


def test_groupby_on_a_local_cluster_matches_pandas_at_two_revisions(lv: Any, git: Any, git_repo: Path) -> None:
    distributed = pytest.importorskip("distributed")
    lv("init")
    v1, v2 = frame(1), frame(2)
    write_parts(git_repo / "table", v1)
    v1.to_csv(git_repo / "raw.csv", index=False)
    lv("add", "table", "raw.csv")
    lv("remote", "add", "-d", "store", str(git_repo.parent / "remote"))
    lv("push")
    git("add", "-A")
    git("commit", "-qm", "v1")
    git("tag", "v1")
    shutil.rmtree(git_repo / "table")
    write_parts(git_repo / "table", v2, parts=2)
    lv("add", "table")
    git("commit", "-qam", "v2")

    expect1 = v1.groupby("key")["x"].sum().sort_index()
    expect2 = v2.groupby("key")["x"].sum().sort_index()
    # processes=False runs the worker inside this test process, so a memory limit would be measured
    # against the whole test process (which can be past any small limit after other tests) and the
    # worker would pause forever; the memory limit is exercised by bench/loaders_bench.py instead.
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  memory_limit=0, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        now = read_dataframe("table", repo=git_repo, columns=["key", "x"])
        assert list(now.columns) == ["key", "x"]
        got = client.compute(now.groupby("key")["x"].sum()).result(timeout=120).sort_index()
        pd.testing.assert_series_equal(got, expect2, check_names=False)
        old = read_dataframe("table", repo=git_repo, rev="v1")
        got = client.compute(old.groupby("key")["x"].sum()).result(timeout=120).sort_index()
        pd.testing.assert_series_equal(got, expect1, check_names=False)
        csv = read_dataframe("raw.csv", repo=git_repo, rev="v1", columns=["key", "y"])
        got = client.compute(csv.groupby("key")["y"].max()).result(timeout=120).sort_index()
        pd.testing.assert_series_equal(got, v1.groupby("key")["y"].max().sort_index(), check_names=False)

    # an old revision whose objects left the cache comes from the remote, only what it needs
    shutil.rmtree(git_repo / ".dvc" / "cache")
    old = read_dataframe("table", repo=git_repo, rev="v1").compute()
    pd.testing.assert_frame_equal(old.reset_index(drop=True), v1)


def test_untracked_path_is_one_clear_error(lv: Any, git_repo: Path) -> None:
    lv("init")
    with pytest.raises(LoaderError, match="nothere is not tracked"):
        read_dataframe("nothere", repo=git_repo)
