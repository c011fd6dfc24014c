"""``H5Dataset``: samples along the first axis of an HDF5 dataset, one open file per process.

An HDF5 file handle must not cross a process boundary: a handle inherited through ``fork`` shares
the library's state with the parent, and h5py objects cannot be pickled for ``spawn``. So the file
is opened lazily, on the first read in each process, and the handle is remembered together with
the pid that opened it: a read in a forked child sees another pid and opens its own handle (the
inherited one is dropped, never used). ``__getstate__`` leaves every h5py object out, so a pickled
dataset (spawn workers) carries only the path, the keys and the transforms.

The constructor opens the file once to check it (file present, keys present, lengths equal) and
records the length and the chunk rows, then closes it: nothing stays open in the parent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, SupportsIndex

from labvault.errors import LoaderError, PathError, UsageError
from labvault.loaders.indexing import normalize_index, plan_batch, read_rows
from labvault.loaders.optional import require


class H5Dataset:
    """Map-style dataset over ``key`` (and optionally ``labels_key``) of the HDF5 file at ``path``.

    ``dataset[i]`` is the sample (a numpy array, or a scalar for 1-d data), passed through
    ``transform``; with ``labels_key`` it is ``(sample, label)``, the label passed through
    ``target_transform``. ``dataset.__getitems__(indices)`` reads a whole batch in one request
    (PyTorch's DataLoader calls it for each batch) and returns the list of samples in order.
    ``chunk_rows`` is the first-axis chunk size (for ``BlockShuffleSampler``), ``None`` when the
    dataset is contiguous.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        key: str,
        *,
        labels_key: str | None = None,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.key = key
        self.labels_key = labels_key
        self.transform = transform
        self.target_transform = target_transform
        self._pid: int | None = None
        self._file: Any = None
        self._data: Any = None
        self._labels: Any = None
        self.length, self.chunk_rows, self.sample_shape = self._inspect()

    def _inspect(self) -> tuple[int, int | None, tuple[int, ...]]:
        h5py = require("h5py")
        if not self.path.is_file():
            raise PathError(f"no HDF5 file at {self.path}", "check the path (or pull the data first)")
        try:
            f = h5py.File(self.path, "r")
        except OSError as exc:
            raise LoaderError(f"{self.path} is not a readable HDF5 file ({exc})",
                              "check that the file is complete and really HDF5") from None
        with f:
            data = _dataset(f, self.key, self.path)
            if data.ndim == 0:
                raise LoaderError(f"{self.key!r} in {self.path} is a scalar",
                                  "give the key of an array whose first axis lists the samples")
            length = int(data.shape[0])
            if self.labels_key is not None:
                labels = _dataset(f, self.labels_key, self.path)
                if labels.ndim == 0 or int(labels.shape[0]) != length:
                    raise LoaderError(
                        f"{self.labels_key!r} has {labels.shape[0] if labels.ndim else 0} rows but "
                        f"{self.key!r} has {length} in {self.path}",
                        "labels need one row per sample")
            chunks = data.chunks
            return length, (int(chunks[0]) if chunks else None), tuple(int(d) for d in data.shape[1:])

    def _open(self) -> None:
        """Open the file in this process, if this process has not already."""
        pid = os.getpid()
        if self._pid == pid and self._file is not None:
            return
        h5py = require("h5py")
        # A handle inherited from another process is dropped unused; this process opens its own.
        self._file = self._data = self._labels = None
        try:
            f = h5py.File(self.path, "r")
        except (OSError, FileNotFoundError) as exc:
            raise PathError(f"cannot open {self.path} ({exc})",
                            "the file moved or changed since the dataset was made") from None
        self._data = _dataset(f, self.key, self.path)
        if self.labels_key is not None:
            self._labels = _dataset(f, self.labels_key, self.path)
        self._file = f
        self._pid = pid

    def close(self) -> None:
        """Close this process's handle (it reopens on the next read)."""
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file = self._data = self._labels = None
        self._pid = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_pid=None, _file=None, _data=None, _labels=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: SupportsIndex) -> Any:
        i = normalize_index(index, self.length)
        self._open()
        sample = self._data[i]
        if self._labels is None:
            return self._apply(sample)
        return self._apply(sample), self._apply_target(self._labels[i])

    def __getitems__(self, indices: Sequence[SupportsIndex]) -> list[Any]:
        plan = plan_batch(indices, self.length)
        self._open()
        rows = read_rows(self._data, plan)
        if self._labels is None:
            return [self._apply(row) for row in rows]
        labels = read_rows(self._labels, plan)
        return [(self._apply(r), self._apply_target(y)) for r, y in zip(rows, labels, strict=True)]

    def _apply(self, sample: Any) -> Any:
        return self.transform(sample) if self.transform is not None else sample

    def _apply_target(self, label: Any) -> Any:
        return self.target_transform(label) if self.target_transform is not None else label

    def __repr__(self) -> str:
        return f"H5Dataset({str(self.path)!r}, {self.key!r}, length={self.length})"


def _dataset(f: Any, key: str, path: Path) -> Any:
    if not isinstance(key, str) or not key:
        raise UsageError("the HDF5 key must be a non-empty string, like 'images' or 'group/x'")
    node = f.get(key)
    if node is None:
        names: list[str] = []
        f.visit(lambda name: names.append(name) if len(names) < 10 else None)
        shown = ", ".join(names) if names else "none"
        raise LoaderError(f"no dataset {key!r} in {path}", f"keys in the file: {shown}")
    if not hasattr(node, "shape"):
        raise LoaderError(f"{key!r} in {path} is a group, not a dataset",
                          "give the full key of an array inside it")
    return node
