"""Index checks and batched-read planning shared by the map-style datasets.

A batch of indices is read as one request: the sorted unique indices are read (one contiguous
slice when they are dense enough, else one fancy read in increasing order, as HDF5 requires), and
the rows are then put back in the order asked for, duplicates included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import SupportsIndex

import numpy as np
import numpy.typing as npt

from labvault.errors import UsageError

# Read one slice covering the batch when it spans at most this many rows per wanted row: a few
# extra rows read sequentially cost less than a scattered selection.
DENSE_SPAN_FACTOR = 4


def normalize_index(index: SupportsIndex, length: int) -> int:
    """``index`` as a position in ``[0, length)``; negative counts from the end, as for lists."""
    try:
        i = int(index.__index__())
    except (AttributeError, TypeError):
        raise TypeError(f"dataset indices must be integers, not {type(index).__name__}") from None
    if i < 0:
        i += length
    if not 0 <= i < length:
        raise IndexError(f"index {int(index)} out of range for a dataset of {length} samples")
    return i


@dataclass(frozen=True)
class BatchPlan:
    """How to read one batch: ``unique`` rows (sorted), then ``inverse`` puts them in order."""

    unique: npt.NDArray[np.int64]
    inverse: npt.NDArray[np.int64]

    @property
    def span(self) -> slice | None:
        """A slice covering every wanted row, when reading it is cheaper than a fancy read."""
        if self.unique.size == 0:
            return None
        lo, hi = int(self.unique[0]), int(self.unique[-1]) + 1
        if hi - lo <= DENSE_SPAN_FACTOR * self.unique.size:
            return slice(lo, hi)
        return None


def plan_batch(indices: Sequence[SupportsIndex] | npt.NDArray[np.integer], length: int) -> BatchPlan:
    """Check ``indices`` against ``length`` and plan one read for them."""
    raw = np.asarray(indices)
    if raw.ndim != 1:
        raise UsageError("a batch of indices must be a flat list of integers")
    if raw.size and not np.issubdtype(raw.dtype, np.integer):
        raise TypeError(f"dataset indices must be integers, not {raw.dtype}")
    idx = raw.astype(np.int64, copy=True)
    idx[idx < 0] += length
    bad = (idx < 0) | (idx >= length)
    if bad.any():
        first = int(raw[np.argmax(bad)])
        raise IndexError(f"index {first} out of range for a dataset of {length} samples")
    unique, inverse = np.unique(idx, return_inverse=True)
    return BatchPlan(unique=unique.astype(np.int64), inverse=inverse.reshape(-1).astype(np.int64))


def read_rows(source: object, plan: BatchPlan) -> npt.NDArray[np.generic]:
    """The rows of ``plan`` from an array-like (h5py dataset, memmap), in the order asked for."""
    span = plan.span
    if plan.unique.size == 0:
        block = np.asarray(source[0:0])  # type: ignore[index]
    elif span is not None:
        block = np.asarray(source[span])  # type: ignore[index]
        block = block[plan.unique - span.start]
    else:
        block = np.asarray(source[plan.unique])  # type: ignore[index]
    return block[plan.inverse]
