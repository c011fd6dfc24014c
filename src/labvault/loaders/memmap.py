"""Memory-mapped arrays: ``.npy`` files, or raw files described by a JSON sidecar.

A raw file ``NAME`` is described by ``NAME.meta.json``::

    {"shape": [100000, 3, 32, 32], "dtype": "<f4", "offset": 0}

(``offset``, the bytes to skip at the start, is optional; ``dtype`` is any numpy dtype string, an
explicit byte order like ``<f4`` is best). The file's size must be exactly ``offset`` plus the
array's bytes, so a sidecar that does not match its file is refused rather than read as garbage.

Mapped pages belong to the page cache (file-backed memory, reclaimable), not to the process's
anonymous memory: a pass over an array larger than RAM reads it through the mapping, and only the
batches copied out are anonymous (freed when the caller drops them). Arrays are read-only unless
``mode="r+"`` is asked for. The mapping is made lazily in each process and is never pickled
(``np.memmap`` would pickle the whole array), so datasets go to spawn workers as a path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, SupportsIndex, cast

import numpy as np
import numpy.typing as npt

from labvault.errors import LoaderError, PathError, UsageError
from labvault.loaders.indexing import normalize_index, plan_batch, read_rows

SIDECAR_SUFFIX = ".meta.json"
Mode = Literal["r", "r+", "c"]


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """The sidecar of the raw file at ``path``: the same name with ``.meta.json`` added."""
    p = Path(path)
    return p.with_name(p.name + SIDECAR_SUFFIX)


def write_raw(path: str | os.PathLike[str], array: npt.ArrayLike) -> Path:
    """Write ``array`` as a raw file plus its sidecar (each written atomically); returns ``path``."""
    arr = np.ascontiguousarray(array)
    p = Path(path)
    meta = {"shape": list(arr.shape), "dtype": arr.dtype.str, "offset": 0}
    _atomic_write(p, arr.tobytes())
    _atomic_write(sidecar_path(p), (json.dumps(meta) + "\n").encode())
    return p


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_meta(path: Path) -> tuple[tuple[int, ...], np.dtype[Any], int]:
    side = sidecar_path(path)
    if not side.is_file():
        raise PathError(f"{path} is a raw file without its sidecar {side.name}",
                        'write {"shape": [...], "dtype": "<f4"} there, or save the array as .npy')
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
        shape = tuple(int(d) for d in meta["shape"])
        dtype = np.dtype(meta["dtype"])
        offset = int(meta.get("offset", 0))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise LoaderError(f"{side} is not a valid sidecar ({type(exc).__name__}: {exc})",
                          'it must be JSON like {"shape": [N, ...], "dtype": "<f4", "offset": 0}'
                          ) from None
    if not shape or any(d <= 0 for d in shape) or offset < 0 or dtype.itemsize == 0:
        raise LoaderError(f"{side} gives shape {list(shape)}, offset {offset}",
                          "the shape needs a first axis and no empty or negative sizes, the dtype a size")
    expected = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = path.stat().st_size
    if actual != expected:
        raise LoaderError(
            f"{path} is {actual} bytes but {side.name} describes {expected} "
            f"(shape {list(shape)}, dtype {dtype.str}, offset {offset})",
            "fix the sidecar's shape/dtype, or rewrite the file")
    return shape, dtype, offset


class MemmapArray:
    """A read-only (by default) memory-mapped array, indexable along its first axis.

    ``arr[i]`` copies row ``i`` out; ``arr.__getitems__(indices)`` / ``arr.take(indices)`` read a
    batch; ``arr.array`` is the ``np.memmap`` itself (in this process).
    """

    def __init__(self, path: str | os.PathLike[str], *, mode: str = "r") -> None:
        if mode not in ("r", "r+", "c"):
            raise UsageError(f"memmap mode {mode!r} is not one of r, r+, c",
                             "use r (read-only), r+ (write through) or c (copy on write)")
        self.path = Path(path)
        self.mode: Mode = cast(Mode, mode)
        if not self.path.is_file():
            raise PathError(f"no array file at {self.path}", "check the path (or pull the data first)")
        self._pid: int | None = None
        self._mm: np.memmap[Any, Any] | None = None
        self._raw: tuple[tuple[int, ...], np.dtype[Any], int] | None = None
        if self.path.suffix != ".npy":
            self._raw = _read_meta(self.path)
        mm = self.array
        if mm.ndim == 0:
            raise LoaderError(f"{self.path} holds a scalar", "a dataset needs a first axis")
        self.shape: tuple[int, ...] = tuple(int(d) for d in mm.shape)
        self.dtype: np.dtype[Any] = mm.dtype

    @property
    def array(self) -> np.memmap[Any, Any]:
        """The mapping in this process (made on first use in each process)."""
        pid = os.getpid()
        if self._mm is None or self._pid != pid:
            self._mm = self._map()
            self._pid = pid
        return self._mm

    def _map(self) -> np.memmap[Any, Any]:
        if self._raw is not None:
            shape, dtype, offset = self._raw
            raw: np.memmap[Any, Any] = np.memmap(self.path, dtype=dtype, mode=self.mode, offset=offset,
                                                 shape=shape)
            return raw
        try:
            mm = np.load(self.path, mmap_mode=self.mode, allow_pickle=False)
        except ValueError as exc:
            raise LoaderError(f"{self.path} is not a readable .npy array ({exc})",
                              "object arrays cannot be memory-mapped; save a numeric array") from None
        if not isinstance(mm, np.memmap):
            raise LoaderError(f"{self.path} cannot be memory-mapped", "save it with np.save")
        return mm

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_pid=None, _mm=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: SupportsIndex) -> Any:
        return np.array(self.array[normalize_index(index, len(self))])

    def take(self, indices: Sequence[SupportsIndex] | npt.NDArray[np.integer]) -> npt.NDArray[Any]:
        """Rows ``indices`` as one new array, in the order asked for."""
        return read_rows(self.array, plan_batch(indices, len(self)))

    def __getitems__(self, indices: Sequence[SupportsIndex]) -> list[Any]:
        return list(self.take(indices))

    def __repr__(self) -> str:
        return f"MemmapArray({str(self.path)!r}, shape={self.shape}, dtype={self.dtype.str})"


class MemmapDataset:
    """Samples of a ``MemmapArray`` (path or array), with optional labels and transforms."""

    def __init__(
        self,
        data: str | os.PathLike[str] | MemmapArray,
        *,
        labels: str | os.PathLike[str] | MemmapArray | None = None,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        mode: str = "r",
    ) -> None:
        self.data = data if isinstance(data, MemmapArray) else MemmapArray(data, mode=mode)
        self.labels = (labels if isinstance(labels, MemmapArray) or labels is None
                       else MemmapArray(labels, mode=mode))
        if self.labels is not None and len(self.labels) != len(self.data):
            raise LoaderError(f"{self.labels.path} has {len(self.labels)} rows but "
                              f"{self.data.path} has {len(self.data)}", "labels need one row per sample")
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: SupportsIndex) -> Any:
        x = self._apply(self.data[index])
        if self.labels is None:
            return x
        return x, self._apply_target(self.labels[index])

    def __getitems__(self, indices: Sequence[SupportsIndex]) -> list[Any]:
        plan = plan_batch(indices, len(self.data))
        rows = read_rows(self.data.array, plan)
        if self.labels is None:
            return [self._apply(r) for r in rows]
        ys = read_rows(self.labels.array, plan)
        return [(self._apply(r), self._apply_target(y)) for r, y in zip(rows, ys, strict=True)]

    def _apply(self, sample: Any) -> Any:
        return self.transform(sample) if self.transform is not None else sample

    def _apply_target(self, label: Any) -> Any:
        return self.target_transform(label) if self.target_transform is not None else label
