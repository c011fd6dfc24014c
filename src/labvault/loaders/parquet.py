"""``ParquetDataset``: an iterable over the row groups of Parquet files, split across workers.

The unit of work is one row group (of one file). The units are listed once, in file then row-group
order, after predicate pushdown: row groups whose column statistics prove that no row can match
``filter`` are dropped without being read. Unit ``u`` goes to the reader number
``rank * num_workers + worker`` when ``u % (world_size * num_workers)`` equals that number, where
``worker``/``num_workers`` come from ``torch.utils.data.get_worker_info()`` inside a DataLoader
worker (``0``/``1`` elsewhere). Every unit is thus read exactly once per pass across all ranks and
workers; a reader gets no unit when there are fewer units than readers.

Each unit is read with only the ``columns`` asked for, the ``filter`` applied to its rows, and
yielded in batches of at most ``batch_size`` rows: as ``pyarrow.RecordBatch`` (``output="arrow"``)
or as a dict of column name to numpy array (``output="numpy"``). With a DataLoader, pass
``batch_size=None`` to the DataLoader: the dataset makes the batches. When torch is installed the
class is registered as a ``torch.utils.data.IterableDataset`` (an ABC registration, so torch is
imported at the first construction, never by ``import labvault.loaders``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from labvault.errors import LoaderError, PathError, UsageError
from labvault.loaders.optional import register_iterable_dataset, require, worker_info


def assign_units(n_units: int, *, rank: int, world_size: int, worker: int, num_workers: int) -> range:
    """The unit numbers read by ``worker`` of ``rank``: round-robin over all readers."""
    reader = rank * num_workers + worker
    return range(reader, n_units, world_size * num_workers)


class ParquetDataset:
    """Batches of the Parquet file or folder at ``path``."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        columns: Sequence[str] | None = None,
        filter: Any = None,
        output: str = "arrow",
        batch_size: int = 65536,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if output not in ("arrow", "numpy"):
            raise UsageError(f"output {output!r} is not arrow or numpy")
        if batch_size < 1:
            raise UsageError(f"batch_size must be at least 1, not {batch_size}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise UsageError(f"rank {rank} is not in [0, world_size={world_size})")
        self.path = Path(path)
        if not self.path.exists():
            raise PathError(f"no Parquet file or folder at {self.path}", "check the path")
        self.columns = list(columns) if columns is not None else None
        self.filter = filter
        self.output = output
        self.batch_size = batch_size
        self.rank = rank
        self.world_size = world_size
        schema = self._dataset().schema
        missing = [c for c in self.columns or [] if c not in schema.names]
        if missing:
            raise LoaderError(f"no column {', '.join(map(repr, missing))} in {self.path}",
                              f"columns there: {', '.join(schema.names)}")
        self.schema = schema
        register_iterable_dataset(type(self))

    def _dataset(self) -> Any:
        ds = require("pyarrow.dataset")
        try:
            return ds.dataset(str(self.path), format="parquet")
        except (OSError, ValueError) as exc:
            raise LoaderError(f"{self.path} is not readable as Parquet ({exc})",
                              "check that the files are complete Parquet files") from None

    def units(self) -> list[Any]:
        """Every row group that may hold matching rows, as a one-row-group fragment each."""
        pa = require("pyarrow")
        units: list[Any] = []
        try:
            for fragment in self._dataset().get_fragments(filter=self.filter):
                units.extend(fragment.split_by_row_group(self.filter))
        except (pa.ArrowInvalid, TypeError) as exc:
            raise LoaderError(f"the filter cannot be applied to {self.path} ({exc})",
                              "use a pyarrow.compute expression on existing columns") from None
        return units

    def __iter__(self) -> Iterator[Any]:
        return self._batches(self.output)

    def _batches(self, output: str) -> Iterator[Any]:
        worker, num_workers = worker_info()
        units = self.units()
        mine = assign_units(len(units), rank=self.rank, world_size=self.world_size,
                            worker=worker, num_workers=num_workers)
        for u in mine:
            for batch in units[u].to_batches(columns=self.columns, filter=self.filter,
                                             batch_size=self.batch_size):
                if batch.num_rows == 0:
                    continue
                yield batch if output == "arrow" else _to_numpy(batch)

    def to_table(self) -> Any:
        """This reader's share as one ``pyarrow.Table`` (all of it with one rank, no workers)."""
        pa = require("pyarrow")
        batches = list(self._batches("arrow"))
        if not batches:
            names = self.columns if self.columns is not None else self.schema.names
            return pa.schema([self.schema.field(n) for n in names]).empty_table()
        return pa.Table.from_batches(batches)


def _to_numpy(batch: Any) -> dict[str, Any]:
    """Writable arrays (one copy): torch warns on, and must not write through, read-only ones."""
    return {name: col.to_numpy(zero_copy_only=False, writable=True) for name, col in zip(batch.schema.names, batch.columns, strict=True)}
