"""``read_dataframe``: a tracked CSV or Parquet dataset of any revision as a Dask DataFrame.

The dataset is a tracked file or folder (``PATH.dvc`` or a ``dvc.lock`` output) of a repo, at
the workspace's version (``rev=None``) or at a git revision. Its files are read where they lie
in the cache (``.dvc/cache/files/md5/..``): nothing is checked out or copied; objects the cache
lacks are first fetched from the repo's remote (only those of this dataset). A folder's files
are taken in relpath order: ``*.parquet`` files, or else ``*.csv`` files (a ``.dir`` holding
both reads the Parquet ones). ``columns`` are projected at read time (Parquet reads only those
columns' pages).

Running it on a cluster: see "Dask" in docs/loaders.md (a ``LocalCluster`` with a memory limit
per worker, or ``Client("tcp://scheduler:8786")``): the task graph names cache paths, so the
workers must see the same file system as the caller (a shared mount), as with any path
given to Dask.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from labvault.errors import LoaderError
from labvault.loaders.optional import require
from labvault.loaders.tracked import cached_files, tracked_oid
from labvault.workspace.repo import open_repo


def read_dataframe(
    path_or_name: str | os.PathLike[str],
    repo: str | os.PathLike[str] | None = None,
    rev: str | None = None,
    columns: Sequence[str] | None = None,
    remote: str | None = None,
    **kwargs: Any,
) -> Any:
    """A ``dask.dataframe.DataFrame`` of the tracked CSV/Parquet file or folder ``path_or_name``
    (relative to the repo root, or an absolute path inside it) at ``rev``. ``kwargs`` go to
    ``dask.dataframe.read_parquet`` or ``read_csv``."""
    dd = require("dask.dataframe")
    r = open_repo(Path(repo) if repo is not None else None)
    p = Path(path_or_name)
    rel = os.path.relpath(p, r.root) if p.is_absolute() else p.as_posix()
    where = f"{rel}@{rev}" if rev else rel
    oid, bound = tracked_oid(r, rel, rev)
    files = cached_files(r, oid, where, remote or bound)
    kind, paths = _pick(files, rel, where)
    cols = list(columns) if columns is not None else None
    if kind == "parquet":
        return _read_parquet(dd, paths, cols)
    if cols is not None:
        kwargs["usecols"] = cols
    return dd.read_csv(paths, **kwargs)


def _read_parquet(dd: Any, paths: list[str], columns: list[str] | None) -> Any:
    """One partition per row group, in relpath then row-group order (``dd.read_parquet`` would
    order the files by their cache names, i.e. by md5)."""
    pq = require("pyarrow.parquet")
    units: list[tuple[str, int]] = []
    schema = None
    for path in paths:
        meta = pq.ParquetFile(path)
        schema = schema or meta.schema_arrow
        units.extend((path, g) for g in range(meta.metadata.num_row_groups))
    assert schema is not None
    if columns is not None:
        missing = [c for c in columns if c not in schema.names]
        if missing:
            raise LoaderError(f"no column {', '.join(map(repr, missing))} in the dataset",
                              f"columns there: {', '.join(schema.names)}")
    empty = schema.empty_table().to_pandas()
    meta_frame = empty[columns] if columns is not None else empty
    if not units:
        return dd.from_pandas(meta_frame, npartitions=1)
    return dd.from_map(_RowGroup(columns), units, meta=meta_frame, enforce_metadata=False,
                       label="labvault-row-group")


class _RowGroup:
    """Reads one row group (picklable, so that process workers get it by name)."""

    def __init__(self, columns: list[str] | None) -> None:
        self.columns = columns

    def __call__(self, unit: tuple[str, int]) -> Any:
        pq = require("pyarrow.parquet")
        path, group = unit
        return pq.ParquetFile(path).read_row_group(group, columns=self.columns).to_pandas()


def _pick(files: list[tuple[str, str]], rel: str, where: str) -> tuple[str, list[str]]:
    if len(files) == 1 and files[0][0] == "":
        name = rel.lower()
        if name.endswith(".parquet") or name.endswith(".pq"):
            return "parquet", [files[0][1]]
        if name.endswith(".csv") or name.endswith(".csv.gz"):
            return "csv", [files[0][1]]
        raise LoaderError(f"{where} is neither .csv nor .parquet", "read a tracked CSV or Parquet file or folder")
    for kind, suffixes in (("parquet", (".parquet", ".pq")), ("csv", (".csv", ".csv.gz"))):
        paths = [path for name, path in sorted(files) if name.lower().endswith(suffixes)]
        if paths:
            return kind, paths
    raise LoaderError(f"{where} holds no .parquet or .csv files", "read a tracked CSV or Parquet folder")
