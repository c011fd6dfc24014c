"""One output's entry in the stat cache: its files' names and packed records.

This module alone knows the record layout; everything else goes through the accessors below.
A record is ``RECORD``: inode u64, mtime_ns i64, size u64 (together the *key*, compared with a
fresh stat), the 16-byte md5 digest, and a ``stored`` flag: the object was in the cache when the
snapshot's fan-out stamp (``fanout``, see ``core.fanout``) was taken.
"""

from __future__ import annotations

import heapq
import marshal
import struct
from collections.abc import Iterable, Iterator, Sequence

from labvault.workspace.walk import FileStat

KEY = struct.Struct("<QqQ")  # inode, mtime_ns, size: the part compared with a fresh stat
RECORD = struct.Struct("<QqQ16sB")  # ... then the md5 digest and the "stored" flag
R = RECORD.size
_K = KEY.size  # end of the key
_D = _K + 16  # end of the digest
_MTIME = struct.Struct("<q")
# Stored in parts (see ``to_parts``): the first (4, names, recs, patch, fanout, nparts), each other
# (names, recs). 3 was one (3, names, recs, patch, fanout); 2 had no fanout. Both are still read.
_FORMAT = 4
PART = 16384  # entries per stored part: about 1 MB whatever the output's size
# marshal version 2: no back-references, so no table of every name while a part is written
_MARSHAL = 2

# (inode, mtime_ns, size, oid, stored)
Entry = tuple[int, int, int, str, bool]


def pack_record(ino: int, mtime_ns: int, size: int, oid: str, stored: bool) -> bytes:
    return RECORD.pack(ino, mtime_ns, size, bytes.fromhex(oid), 1 if stored else 0)


def record_mtime(recs: bytes | bytearray, i: int) -> int:
    """mtime_ns of the ``i``-th record of a packed buffer."""
    return int(_MTIME.unpack_from(recs, i * R + 8)[0])


def record_oid(recs: bytes | bytearray, i: int) -> str:
    return recs[i * R + _K : i * R + _D].hex()


def without_recent(names: list[str], recs: bytes | bytearray, horizon: int) -> tuple[list[str], bytearray, dict[str, str]]:
    """Split packed records into those modified before ``horizon`` and the others (name -> oid):
    a file modified since may change again within the clock's resolution without its stat changing.

    Given a bytearray, ``names`` and ``recs`` are compacted in place and returned (no copy of a
    million records; the caller gives them up); given bytes, both are copied first."""
    late = [i for i, rec in enumerate(RECORD.iter_unpack(recs)) if rec[1] >= horizon]
    if not isinstance(recs, bytearray):
        names, recs = list(names), bytearray(recs)
    if not late:  # the common case of a scan: nothing to move
        return names, recs, {}
    recent = {names[i]: record_oid(recs, i) for i in late}
    # move each run of kept entries down over the late ones before it (runs, not entries: the
    # late ones are few, and usually the last written)
    at = late[0]
    for i, nxt in zip(late, [*late[1:], len(names)], strict=True):
        run = nxt - i - 1
        if run:
            names[at : at + run] = names[i + 1 : nxt]
            recs[at * R : (at + run) * R] = recs[(i + 1) * R : nxt * R]
            at += run
    del names[at:]
    del recs[at * R :]
    return names, recs, recent


class Snapshot:
    """One output's files: names (paths inside the output, "" for a file output) and, in the same
    order, fixed-size records packed in one buffer. About 180 bytes a file in memory, names
    included, so that a million-file output fits."""

    __slots__ = ("_index", "fanout", "names", "patch", "recs", "stored_gen", "tree_oid")

    def __init__(
        self, names: list[str] | None = None, recs: bytes | bytearray | None = None, tree_oid: str | None = None,
        stored_gen: int = -1,
    ) -> None:
        self.names: list[str] = names if names is not None else []
        # bytes as loaded (no copy); a bytearray once something is changed
        self.recs: bytes | bytearray = recs if recs is not None else bytearray()
        self.tree_oid = tree_oid
        self.stored_gen = stored_gen
        # tree_oid names the tree these files had when last hashed in full; ``patch`` lists what
        # changed since (relpath -> its oid in that tree, None for a file the tree lacks), so that
        # status can say what differs from the tree without reading it.
        self.patch: dict[str, str | None] = {}
        # the cache's fan-out folders when the ``stored`` flags were last confirmed (core.fanout);
        # b"" when never
        self.fanout = b""
        self._index: dict[str, int] | None = None

    @classmethod
    def from_entries(cls, entries: dict[str, Entry], tree_oid: str | None = None, stored_gen: int = -1) -> Snapshot:
        snap = cls(tree_oid=tree_oid, stored_gen=stored_gen)
        for name, e in entries.items():
            snap.append(name, e)
        return snap

    def __len__(self) -> int:
        return len(self.names)

    @property
    def index(self) -> dict[str, int]:
        if self._index is None:
            self._index = dict(zip(self.names, range(len(self.names)), strict=True))
        return self._index

    # --- reading one record ----------------------------------------------------------------
    def key_at(self, i: int) -> bytes:
        return bytes(self.recs[i * R : i * R + _K])

    def mtime_at(self, i: int) -> int:
        return record_mtime(self.recs, i)

    def oid_at(self, i: int) -> str:
        return self.recs[i * R + _K : i * R + _D].hex()

    def fanout_at(self, i: int) -> int:
        """The cache fan-out folder (0-255, the digest's first byte) of the ``i``-th object."""
        return self.recs[i * R + _K]

    def stored_at(self, i: int) -> bool:
        return bool(self.recs[i * R + R - 1])

    def entry(self, name: str) -> Entry | None:
        i = self.index.get(name)
        if i is None:
            return None
        ino, mtime, size, digest, stored = RECORD.unpack_from(self.recs, i * R)
        return (ino, mtime, size, digest.hex(), bool(stored))

    # --- comparing with a walk ---------------------------------------------------------------
    def compare(self, files: list[FileStat], old_n: int, seen: bytearray, changed: list[FileStat]) -> None:
        """For each file found, mark its record among the first ``old_n`` unchanged (``seen`` 1)
        when its stat matches, or changed (2); files without a matching record go to ``changed``."""
        recs, index, pack = self.recs, self.index, KEY.pack
        for f in files:
            i = index.get(f[0])
            if i is not None and i < old_n:
                o = i * R
                if recs[o : o + _K] == pack(f[2], f[3], f[4]):
                    seen[i] = 1
                    continue
                seen[i] = 2
            changed.append(f)

    # --- the stored flags --------------------------------------------------------------------
    def all_stored(self) -> bool:
        return all(self.recs[R - 1 :: R])

    def mutable(self) -> bytearray:
        if not isinstance(self.recs, bytearray):
            self.recs = bytearray(self.recs)
        return self.recs

    def set_all_flags(self, stored: bool) -> None:
        recs = self.mutable()
        recs[R - 1 :: R] = (b"\x01" if stored else b"\x00") * len(self.names)

    def set_flag(self, i: int, stored: bool) -> None:
        self.mutable()[i * R + R - 1] = 1 if stored else 0

    def unconfirmed(self, trusted: bytes | bytearray) -> list[int]:
        """Positions whose object is not vouched for: flag unset, or its fan-out folder not in
        ``trusted`` (256 bytes, nonzero where the folder is unchanged since the flags were taken)."""
        recs, n = self.recs, len(self.names)
        flags = bytes(recs[R - 1 :: R])
        if all(trusted):
            ok = flags
        else:  # per record: its folder trusted (1/0), and'ed with its flag, bytewise as one integer
            heads = bytes(recs[_K::R]).translate(bytes(1 if t else 0 for t in trusted))
            both = int.from_bytes(heads, "little") & int.from_bytes(flags, "little")
            ok = both.to_bytes(n, "little")
        out: list[int] = []
        i = ok.find(0)
        while i != -1:
            out.append(i)
            i = ok.find(0, i + 1)
        return out

    # --- changing records --------------------------------------------------------------------
    def set_record(self, i: int, ino: int, mtime_ns: int, size: int, oid: str, stored: bool) -> None:
        RECORD.pack_into(self.mutable(), i * R, ino, mtime_ns, size, bytes.fromhex(oid), 1 if stored else 0)

    def append(self, name: str, e: Entry) -> None:
        if self._index is not None:
            self._index[name] = len(self.names)
        self.names.append(name)
        self.mutable().extend(pack_record(*e))

    def extend(self, names: list[str], recs: bytes | bytearray) -> None:
        """Append entries given as names and their packed records (names not already present)."""
        self.names.extend(names)
        self.mutable().extend(recs)
        self._index = None

    def keeping(self, keep: Sequence[int]) -> Snapshot:
        """A snapshot of the entries at positions ``keep`` only."""
        recs = self.recs
        snap = Snapshot(
            [self.names[i] for i in keep], bytearray().join([recs[i * R : (i + 1) * R] for i in keep]),
            self.tree_oid, self.stored_gen,
        )
        snap.patch = self.patch
        snap.fanout = self.fanout
        return snap

    # --- (relpath, oid) pairs ----------------------------------------------------------------
    def pairs(self) -> list[tuple[str, str]]:
        recs = self.recs
        return [(n, recs[i * R + _K : i * R + _D].hex()) for i, n in enumerate(self.names)]

    def sorted_pairs(self, extra: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
        """(relpath, oid) of the files and ``extra``, in relpath order, made one at a time."""
        names, recs = self.names, self.recs
        order = sorted(range(len(names)), key=names.__getitem__)
        mine = ((names[i], recs[i * R + _K : i * R + _D].hex()) for i in order)
        return heapq.merge(mine, sorted(extra)) if extra else mine

    # --- the stored form ---------------------------------------------------------------------
    def to_parts(self, per_part: int = PART) -> Iterator[bytes]:
        """The stored form, made one part at a time (the whole never exists as one buffer): the
        first part holds the format, ``patch``, ``fanout``, the number of parts and the first
        ``per_part`` entries; each further part the next ``per_part`` names and their records."""
        names, recs = self.names, memoryview(self.recs)
        nparts = max(1, -(-len(names) // per_part))
        yield marshal.dumps((_FORMAT, names[:per_part], recs[: per_part * R], self.patch, self.fanout, nparts), _MARSHAL)
        for start in range(per_part, len(names), per_part):
            yield marshal.dumps((names[start : start + per_part], recs[start * R : (start + per_part) * R]), _MARSHAL)

    @classmethod
    def from_parts(cls, head: bytes, rest: Iterable[bytes], tree_oid: str | None, stored_gen: int) -> Snapshot:
        """Read what ``to_parts`` made (``rest``: the parts after the first, in order), or one
        blob of an earlier format. Anything inconsistent reads as an empty snapshot (a cache miss)."""
        try:
            data = marshal.loads(head)
        except (ValueError, EOFError, TypeError):
            return cls()
        if not (isinstance(data, tuple) and len(data) == 6 and data[0] == _FORMAT):
            return cls.from_blob(head, tree_oid, stored_gen)
        _, names, first, patch, fanout, nparts = data
        del data
        if not (isinstance(names, list) and isinstance(first, bytes) and isinstance(patch, dict)
                and isinstance(fanout, bytes) and isinstance(nparts, int)):
            return cls()
        recs = bytearray(first)
        del first
        got = 1
        for blob in rest:
            try:
                part = marshal.loads(blob)
            except (ValueError, EOFError, TypeError):
                return cls()
            if not (isinstance(part, tuple) and len(part) == 2 and isinstance(part[0], list) and isinstance(part[1], bytes)):
                return cls()
            names.extend(part[0])
            recs += part[1]
            got += 1
        if got != nparts or len(recs) != R * len(names):
            return cls()
        snap = cls(names, recs, tree_oid, stored_gen)
        snap.patch = patch
        snap.fanout = fanout
        return snap

    @classmethod
    def from_blob(cls, blob: bytes, tree_oid: str | None, stored_gen: int) -> Snapshot:
        """A snapshot stored whole by an earlier labvault (formats 1 to 3)."""
        try:
            data = marshal.loads(blob)
        except (ValueError, EOFError, TypeError):
            return cls()
        if isinstance(data, dict):  # the first format: {name: (ino, mtime, size, oid[, stored])}
            try:
                return cls.from_entries(
                    {k: (v[0], v[1], v[2], v[3], len(v) > 4 and bool(v[4])) for k, v in data.items()},
                    tree_oid, stored_gen,
                )
            except (TypeError, ValueError, IndexError, struct.error):
                return cls()
        if not (isinstance(data, tuple) and len(data) in (4, 5) and data[0] in (2, 3)):
            return cls()
        names, recs, patch = data[1], data[2], data[3]
        if not isinstance(names, list) or not isinstance(recs, bytes) or len(recs) != R * len(names):
            return cls()
        snap = cls(names, recs, tree_oid, stored_gen)
        if isinstance(patch, dict):
            snap.patch = patch
        if len(data) == 5 and isinstance(data[4], bytes):
            snap.fanout = data[4]
        return snap
