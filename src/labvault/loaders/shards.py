"""The shard format of ``StreamingDataset`` and ``labvault convert --to shards``.

A shard folder holds shard files and one ``index.json``::

    {"format": "labvault-shards", "version": 1,
     "shards": [{"name": "shard-00000.lvs", "md5": "<hex>", "size": 123, "samples": 10}, ...]}

A shard file is the magic ``LVSHARD1`` (8 bytes) then its records, back to back; a record is a
little-endian header ``<I key length><Q data length>`` (12 bytes), the key (UTF-8, e.g. the
relative path of the file it came from) and the data bytes. Nothing else: ``md5sum`` checks a
shard against its index entry, and a shard can be read from start to end without the index.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from labvault.core.hashing import md5
from labvault.errors import LoaderError
from labvault.fsutil import atomic_write_bytes

MAGIC = b"LVSHARD1"
HEADER = struct.Struct("<IQ")
INDEX = "index.json"
FORMAT = "labvault-shards"
VERSION = 1


@dataclass(frozen=True)
class ShardInfo:
    """One shard of an index: file ``name`` in the folder, its md5, size and sample count."""

    name: str
    md5: str
    size: int
    samples: int


def parse_index(data: bytes, where: str) -> list[ShardInfo]:
    """The shards an ``index.json`` lists, checked (names stay inside the folder)."""
    try:
        raw = json.loads(data)
        if raw.get("format") != FORMAT or raw.get("version") != VERSION:
            raise ValueError(f"not a {FORMAT} version {VERSION} index")
        shards = [ShardInfo(str(s["name"]), str(s["md5"]), int(s["size"]), int(s["samples"]))
                  for s in raw["shards"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LoaderError(f"{where} is not a shard index ({exc})",
                          "write shards with `labvault convert SRC --to shards`") from None
    for s in shards:
        if "/" in s.name or s.name in ("", ".", "..") or s.size < 0 or s.samples < 0 \
                or len(s.md5) != 32 or any(c not in "0123456789abcdef" for c in s.md5):
            raise LoaderError(f"{where} has a malformed shard entry {s.name!r}",
                              "write shards with `labvault convert SRC --to shards`")
    return shards


def read_records(path: str, where: str) -> Iterator[tuple[str, bytes]]:
    """The ``(key, data)`` records of the shard file at ``path``, in order."""
    with open(path, "rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise LoaderError(f"{where} is not a labvault shard (bad magic)", "re-create the shards")
        while True:
            head = f.read(HEADER.size)
            if not head:
                return
            if len(head) < HEADER.size:
                raise LoaderError(f"{where} ends inside a record header", "re-create the shards")
            klen, dlen = HEADER.unpack(head)
            key = f.read(klen)
            data = f.read(dlen)
            if len(key) < klen or len(data) < dlen:
                raise LoaderError(f"{where} ends inside a record", "re-create the shards")
            try:
                yield key.decode("utf-8"), data
            except UnicodeDecodeError:
                raise LoaderError(f"{where} has a record key that is not UTF-8",
                                  "re-create the shards") from None


class ShardWriter:
    """Writes records into shards of about ``shard_size`` bytes, then the index (atomically)."""

    def __init__(self, out: Path, shard_size: int) -> None:
        if shard_size < 1:
            raise LoaderError(f"shard size must be positive, not {shard_size}", "pass e.g. --shard-size 64MiB")
        self.out = out
        self.shard_size = shard_size
        self.shards: list[ShardInfo] = []
        self._fd: int | None = None
        self._tmp = ""
        self._size = 0
        self._count = 0
        self._hash = md5()
        out.mkdir(parents=True, exist_ok=True)

    def _open(self) -> None:
        self._tmp = str(self.out / f".shard-{len(self.shards):05d}.lvs.{os.getpid()}.tmp")
        self._fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self._size, self._count, self._hash = 0, 0, md5()
        self._write(MAGIC)

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        self._hash.update(data)
        self._size += len(data)

    def add(self, key: str, data: bytes) -> None:
        if self._fd is None:
            self._open()
        raw = key.encode("utf-8")
        self._write(HEADER.pack(len(raw), len(data)) + raw)
        self._write(data)
        self._count += 1
        if self._size >= self.shard_size:
            self._close()

    def _close(self) -> None:
        if self._fd is None:
            return
        name = f"shard-{len(self.shards):05d}.lvs"
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        os.replace(self._tmp, self.out / name)
        self.shards.append(ShardInfo(name, self._hash.hexdigest(), self._size, self._count))

    def abort(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            os.unlink(self._tmp)

    def finish(self) -> list[ShardInfo]:
        self._close()
        index = {"format": FORMAT, "version": VERSION,
                 "shards": [s.__dict__ for s in self.shards]}
        atomic_write_bytes(self.out / INDEX, (json.dumps(index, indent=1) + "\n").encode())
        return self.shards


def write_shards(records: Iterable[tuple[str, bytes]], out: Path, shard_size: int) -> list[ShardInfo]:
    """Write ``records`` as shards plus index into the folder ``out``."""
    writer = ShardWriter(out, shard_size)
    try:
        for key, data in records:
            writer.add(key, data)
    except BaseException:
        writer.abort()
        raise
    return writer.finish()
