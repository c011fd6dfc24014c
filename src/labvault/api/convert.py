"""``convert``: write a dataset in a loader-friendly format (Parquet, HDF5, shards)."""

from __future__ import annotations

import os
from pathlib import Path

from labvault.errors import PathError, UsageError
from labvault.loaders.convert import Converted, csv_to_parquet, files_to_shards, folder_to_hdf5
from labvault.loaders.samples import parse_size

FORMATS = ("parquet", "hdf5", "shards")
_SUFFIX = {"parquet": ".parquet", "hdf5": ".h5", "shards": ".shards"}


def convert(
    src: str | os.PathLike[str],
    to: str,
    output: str | os.PathLike[str] | None = None,
    *,
    shard_size: int = 64 << 20,
    chunk: int | None = None,
    block_size: int = 1 << 20,
    resize: str | tuple[int, int] | None = None,
) -> Converted:
    """Convert ``src`` (a CSV file for ``parquet``; a folder for ``hdf5`` and ``shards``) and
    write ``output`` (default: ``src`` with the format's suffix: ``.parquet``, ``.h5``, ``.shards``).

    ``chunk``: rows per Parquet row group (default 1048576), or samples per HDF5 chunk (default 1).
    ``resize``: ``hdf5`` only, ``"WxH"`` or ``(W, H)``: every image resized to that size (images of
    mixed sizes are refused without it).
    """
    if to not in FORMATS:
        raise UsageError(f"unknown format {to!r}", f"use one of {', '.join(FORMATS)}")
    if chunk is not None and chunk < 1:
        raise UsageError(f"--chunk must be at least 1, not {chunk}")
    if shard_size < 1 or block_size < 1:
        raise UsageError("--shard-size and --block-size must be positive")
    size = parse_size(resize) if isinstance(resize, str) else resize
    if size is not None and (to != "hdf5" or min(size) < 1):
        raise UsageError("--resize takes a positive WIDTHxHEIGHT and applies to --to hdf5 only")
    source = Path(src)
    if not source.exists():
        raise PathError(f"no file or folder at {source}", "check the path")
    out = Path(output) if output is not None else source.with_name(source.stem + _SUFFIX[to]
                                                                   if source.is_file() else source.name + _SUFFIX[to])
    if out.resolve() == source.resolve() or source.resolve() in out.resolve().parents:
        raise UsageError(f"the output {out} would overwrite or lie inside its source {source}",
                         "pass -o with a path outside the source")
    if to == "parquet":
        if not source.is_file():
            raise PathError(f"{source} is not a file: --to parquet reads one CSV file", "pass a CSV file")
        return csv_to_parquet(source, out, chunk=chunk or 1048576, block_size=block_size)
    if to == "hdf5":
        return folder_to_hdf5(source, out, chunk=chunk or 1, resize=size)
    return files_to_shards(source, out, shard_size=shard_size)
