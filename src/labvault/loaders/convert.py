"""Writers: CSV to Parquet, a folder of arrays to HDF5, files to shards; bounded memory each.

Every writer makes its output at a temp name beside it and renames it into place at the end
(a folder output: the old one, if any, is moved aside and removed after the rename), so a
killed conversion leaves the previous output or none, never half of one; this also fits a
``dvc.yaml`` stage (``cmd: labvault convert raw.csv --to parquet -o table.parquet``, the
source in ``deps``, the output in ``outs``).

* ``csv_to_parquet``: pyarrow's streaming CSV reader (``pyarrow.csv.open_csv``, blocks of
  ``block_size`` bytes; column types are inferred from the first block) feeding a
  ``ParquetWriter``; one row group per ``chunk`` rows. Memory: about one row group plus a block.
* ``folder_to_hdf5``: every ``.npy`` file and image under the folder (sorted by relpath; see
  ``loaders/samples.py``: images become ``H x W x 3`` ``uint8``) becomes one sample of dataset
  ``data``, shape ``(n, *sample shape)``, chunked ``chunk`` samples per chunk (default 1: per
  sample); all samples must share shape and dtype (images of mixed sizes are refused before
  anything is written, unless ``resize`` gives one size). One sample is held in memory at a
  time. ``names`` holds the relpaths; when every file lies in a subfolder (the ImageFolder
  layout), ``labels`` holds the index of its first folder in the sorted ``classes`` attribute.
* ``files_to_shards``: every file under the folder (sorted) becomes a record ``(relpath, bytes)``
  of the shard format (``loaders/shards.py``), shards of about ``shard_size`` bytes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labvault.errors import LoaderError, PathError
from labvault.fsutil import fsync_dir, tmp_name
from labvault.loaders.optional import require
from labvault.loaders.samples import ARRAY_SUFFIXES, IMAGE_SUFFIXES, check_sizes, load_sample
from labvault.loaders.shards import write_shards


@dataclass(frozen=True)
class Converted:
    output: str
    items: int  # rows, samples or records written
    parts: int  # row groups, chunks or shards
    bytes: int


def _files(src: Path, suffixes: tuple[str, ...] | None) -> list[tuple[str, Path]]:
    if not src.is_dir():
        raise PathError(f"{src} is not a folder", "pass the folder whose files to convert")
    found: list[tuple[str, Path]] = []
    for dirpath, dirs, names in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for n in names:
            if n.startswith(".") or (suffixes is not None and not n.lower().endswith(suffixes)):
                continue
            p = Path(dirpath) / n
            found.append((p.relative_to(src).as_posix(), p))
    found.sort()
    if not found:
        raise LoaderError(f"no files to convert in {src}", "check the folder" +
                          (f" (looked for {', '.join(suffixes)})" if suffixes else ""))
    return found


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def _place(tmp: Path, out: Path) -> None:
    """Rename the finished ``tmp`` to ``out``, replacing a previous output."""
    old: Path | None = None
    if out.is_dir() and not out.is_symlink():
        old = Path(tmp_name(out))
        os.rename(out, old)
    os.replace(tmp, out)
    fsync_dir(out.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _check_src(src: Path) -> None:
    if not src.exists():
        raise PathError(f"no file or folder at {src}", "check the path")


def csv_to_parquet(src: Path, out: Path, *, chunk: int = 1048576, block_size: int = 1 << 20) -> Converted:
    _check_src(src)
    pa = require("pyarrow")
    csv = require("pyarrow.csv")
    pq = require("pyarrow.parquet")
    tmp = Path(tmp_name(out))
    rows = groups = 0
    try:
        reader = csv.open_csv(str(src), read_options=csv.ReadOptions(block_size=block_size))
        with pq.ParquetWriter(str(tmp), reader.schema) as writer:
            pending: list[object] = []
            count = 0
            for batch in reader:
                pending.append(batch)
                count += batch.num_rows
                while count >= chunk:
                    table = pa.Table.from_batches(pending)
                    writer.write_table(table.slice(0, chunk), row_group_size=chunk)
                    rest = table.slice(chunk)
                    pending, count = rest.to_batches(), rest.num_rows
                    rows, groups = rows + chunk, groups + 1
            if count:
                writer.write_table(pa.Table.from_batches(pending), row_group_size=chunk)
                rows, groups = rows + count, groups + 1
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        _place(tmp, out)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        tmp.unlink(missing_ok=True)
        first = str(exc).splitlines()[0]
        raise LoaderError(f"{src} cannot be read as CSV ({first})",
                          "check the file; if a column's type changes after the first block, raise --block-size") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Converted(str(out), rows, groups, out.stat().st_size)


def folder_to_hdf5(src: Path, out: Path, *, chunk: int = 1, key: str = "data",
                   resize: tuple[int, int] | None = None) -> Converted:
    _check_src(src)
    h5py = require("h5py")
    files = _files(src, ARRAY_SUFFIXES + IMAGE_SUFFIXES)
    check_sizes(files, resize)
    first = load_sample(files[0][1], files[0][0], resize)
    classes = sorted({rel.split("/", 1)[0] for rel, _ in files}) if all("/" in r for r, _ in files) else None
    tmp = Path(tmp_name(out))
    try:
        with h5py.File(tmp, "w") as f:
            n = len(files)
            rows = max(1, min(chunk, n))
            data = f.create_dataset(key, shape=(n, *first.shape), dtype=first.dtype, chunks=(rows, *first.shape))
            for i, (rel, path) in enumerate(files):
                sample = first if i == 0 else load_sample(path, rel, resize)
                if sample.shape != first.shape or sample.dtype != first.dtype:
                    raise LoaderError(f"{rel} is {sample.dtype}{list(sample.shape)}, unlike {files[0][0]} "
                                      f"({first.dtype}{list(first.shape)})", "make all samples one shape and dtype")
                data[i] = sample
            f.create_dataset("names", data=np.array([r for r, _ in files], dtype=h5py.string_dtype()))
            if classes is not None:
                index = {c: k for k, c in enumerate(classes)}
                f.create_dataset("labels", data=np.array([index[r.split("/", 1)[0]] for r, _ in files], dtype=np.int64))
                f["labels"].attrs["classes"] = classes
            parts = -(-n // rows)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        _place(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Converted(str(out), len(files), parts, out.stat().st_size)


def files_to_shards(src: Path, out: Path, *, shard_size: int = 64 << 20) -> Converted:
    _check_src(src)
    files = _files(src, None)

    def records() -> Iterator[tuple[str, bytes]]:
        for rel, path in files:
            yield rel, path.read_bytes()

    tmp = Path(tmp_name(out))
    try:
        shards = write_shards(records(), tmp, shard_size)
        fsync_dir(tmp)
        _place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Converted(str(out), len(files), len(shards), _size(out))
