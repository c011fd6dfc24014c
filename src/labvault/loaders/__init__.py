"""In-process data loaders: HDF5, memory-mapped arrays and Parquet, for PyTorch or plain Python.

Install with the ``loaders`` extra (h5py, pyarrow, numpy; torch is optional). Nothing here imports
torch at import time: without it the datasets are ordinary sequences (``len``, ``[i]``,
``__getitems__``) or iterables, and the sampler an ordinary iterable of indices. With it they plug
into ``torch.utils.data.DataLoader`` unchanged (any ``num_workers``, fork or spawn).

The h5py and pyarrow modules are imported by the classes that need them, when first used, so that
importing ``labvault.loaders`` needs only numpy. ``StreamingDataset`` (which reads repos and
remotes) is imported on first access of the name.

Glossary:
    unit      what a streaming reader fetches as one object: a shard, or one file of a tracked folder
    shard     a file of length-prefixed ``(key, data)`` records, listed in a folder's ``index.json``
    reader    one DataLoader worker of one rank: it yields its own part of each epoch
"""

from __future__ import annotations

from labvault.loaders.hdf5 import H5Dataset
from labvault.loaders.memmap import MemmapArray, MemmapDataset, write_raw
from labvault.loaders.parquet import ParquetDataset
from labvault.loaders.sampler import BlockShuffleSampler

TYPE_CHECKING = False
if TYPE_CHECKING:
    from labvault.loaders.streaming import StreamingDataset


def __getattr__(name: str) -> object:
    if name == "StreamingDataset":
        from labvault.loaders.streaming import StreamingDataset

        return StreamingDataset
    raise AttributeError(f"module 'labvault.loaders' has no attribute {name!r}")

__all__ = [
    "BlockShuffleSampler",
    "H5Dataset",
    "MemmapArray",
    "MemmapDataset",
    "ParquetDataset",
    "StreamingDataset",
    "write_raw",
]
