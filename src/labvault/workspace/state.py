"""The stat cache: for each tracked output, its files' (inode, mtime_ns, size) and oids.

A file whose stat matches its entry is not read again; a folder whose every file matches, with no
file added or removed, gets its recorded tree oid without rebuilding the manifest. One row per
output and hash kind (``md5`` or ``legacy``), holding a compact snapshot; SQLite in WAL mode,
under ``.dvc/tmp/labvault/``. It is only a cache: deleting it costs re-hashing, never data.

``stored_gen`` says the snapshot's objects were all in the cache at cache generation N; anything
that deletes objects (gc, quarantine) bumps the generation, so no deleted object is ever assumed
present.
"""

from __future__ import annotations

import marshal
import os
import sqlite3
import struct
import threading
from pathlib import Path

Key = tuple[int, int, int]  # (inode, mtime_ns, size)
# (inode, mtime_ns, size, oid, stored): ``stored`` says the object was in the cache at the
# snapshot's generation (older snapshots may hold 4-tuples: not vouched for).
Entry = tuple[int, int, int, str, bool]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    tree_oid TEXT,
    stored_gen INTEGER NOT NULL DEFAULT -1,
    blob BLOB NOT NULL,
    PRIMARY KEY (path, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS parsed (path TEXT PRIMARY KEY, stamp BLOB NOT NULL, data BLOB NOT NULL) WITHOUT ROWID;
"""

# A file modified this close to a scan may change again within the clock's resolution without
# its stat changing: what was read from it is not cached (it is read again next time).
RACY_NS = 50_000_000


def stat_key(st: os.stat_result) -> Key:
    return (st.st_ino, st.st_mtime_ns, st.st_size)


KEY = struct.Struct("<QqQ")  # inode, mtime_ns, size: the part compared with a fresh stat
RECORD = struct.Struct("<QqQ16sB")  # ... then the md5 digest and the "stored" flag
R = RECORD.size
_FORMAT = 2


class Snapshot:
    """One output's files: names (paths inside the output, "" for a file output) and, in the same
    order, fixed-size records (inode, mtime_ns, size, md5 digest, stored) packed in one buffer.

    About 180 bytes a file in memory, names included, so that a million-file output fits.
    """

    __slots__ = ("_index", "names", "patch", "recs", "stored_gen", "tree_oid")

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

    def key_at(self, i: int) -> bytes:
        return bytes(self.recs[i * R : i * R + 24])

    def oid_at(self, i: int) -> str:
        return self.recs[i * R + 24 : i * R + 40].hex()

    def stored_at(self, i: int) -> bool:
        return bool(self.recs[i * R + 40])

    def entry(self, name: str) -> Entry | None:
        i = self.index.get(name)
        if i is None:
            return None
        ino, mtime, size, digest, stored = RECORD.unpack_from(self.recs, i * R)
        return (ino, mtime, size, digest.hex(), bool(stored))

    def all_stored(self) -> bool:
        return all(self.recs[R - 1 :: R])

    def mutable(self) -> bytearray:
        if not isinstance(self.recs, bytearray):
            self.recs = bytearray(self.recs)
        return self.recs

    def set_all_flags(self, stored: bool) -> None:
        recs = self.mutable()
        recs[R - 1 :: R] = (b"\x01" if stored else b"\x00") * len(self.names)

    def append(self, name: str, e: Entry) -> None:
        if self._index is not None:
            self._index[name] = len(self.names)
        self.names.append(name)
        self.mutable().extend(RECORD.pack(e[0], e[1], e[2], bytes.fromhex(e[3]), 1 if e[4] else 0))

    def extend(self, names: list[str], recs: bytes | bytearray) -> None:
        """Append entries given as names and their packed records (names not already present)."""
        self.names.extend(names)
        self.mutable().extend(recs)
        self._index = None

    def keeping(self, keep: list[int]) -> Snapshot:
        """A snapshot of the entries at positions ``keep`` only."""
        recs = self.recs
        snap = Snapshot(
            [self.names[i] for i in keep], bytearray().join([recs[i * R : (i + 1) * R] for i in keep]),
            self.tree_oid, self.stored_gen,
        )
        snap.patch = self.patch
        return snap

    def pairs(self) -> list[tuple[str, str]]:
        recs = self.recs
        return [(n, recs[i * R + 24 : i * R + 40].hex()) for i, n in enumerate(self.names)]

    def to_blob(self) -> bytes:
        return marshal.dumps((_FORMAT, self.names, self.recs, self.patch))

    @classmethod
    def from_blob(cls, blob: bytes, tree_oid: str | None, stored_gen: int) -> Snapshot:
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
        if not (isinstance(data, tuple) and len(data) == 4 and data[0] == _FORMAT):
            return cls()
        names, recs, patch = data[1], data[2], data[3]
        if not isinstance(names, list) or not isinstance(recs, bytes) or len(recs) != R * len(names):
            return cls()
        snap = cls(names, recs, tree_oid, stored_gen)
        if isinstance(patch, dict):
            snap.patch = patch
        return snap


class State:
    def __init__(self, tmp_dir: Path) -> None:
        self.path = tmp_dir / "labvault" / "state.sqlite"
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()  # one connection, shared by threads, used one at a time

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        with self._lock:
            if self._conn is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    self._conn = self._connect()
                except sqlite3.DatabaseError:
                    # A damaged cache is rebuilt, never trusted.
                    for suffix in ("", "-wal", "-shm"):
                        try:
                            os.unlink(str(self.path) + suffix)
                        except FileNotFoundError:
                            pass
                    self._conn = self._connect()
            return self._conn

    def generation(self) -> int:
        with self._lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'cache_gen'").fetchone()
            return int(row[0]) if row else 0

    def bump_generation(self) -> None:
        """Objects were deleted from the cache: no snapshot may vouch for its objects any more."""
        with self._lock:
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES ('cache_gen', 1) "
                "ON CONFLICT(key) DO UPDATE SET value = value + 1"
            )

    def get(self, out_rel: str, kind: str = "md5") -> Snapshot:
        with self._lock:
            row = self.conn.execute(
                "SELECT tree_oid, stored_gen, blob FROM snapshots WHERE path = ? AND kind = ?", (out_rel, kind)
            ).fetchone()
        if row is None:
            return Snapshot()
        tree_oid, gen, blob = row
        del row
        return Snapshot.from_blob(blob, tree_oid, int(gen))

    def put(self, out_rel: str, snap: Snapshot, kind: str = "md5") -> None:
        blob = snap.to_blob()
        with self._lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO snapshots (path, kind, tree_oid, stored_gen, blob) VALUES (?, ?, ?, ?, ?)",
                (out_rel, kind, snap.tree_oid, snap.stored_gen, blob),
            )

    def update_records(
        self, out_rel: str, names: list[str], recs: bytes | bytearray, kind: str = "md5",
        removed: list[str] | None = None, tree_oid: str | None = None, complete: bool = False,
    ) -> None:
        """Record files just written into an output (checkout, relink): ``names`` and, in the same order,
        one packed ``RECORD`` each; drop ``removed``. ``tree_oid``: the output now holds exactly
        that tree, and the snapshot names every file of it. ``complete``: ``names`` are all the
        output's files (what was recorded before is not even read). No per-file objects are made
        beyond the snapshot itself."""
        with self._lock:
            old = Snapshot() if complete else self.get(out_rel, kind)
            if old.names:
                gone = set(names)
                gone.update(removed or ())
                keep = [i for i, n in enumerate(old.names) if n not in gone]
                del gone
                snap = old.keeping(keep) if len(keep) < len(old.names) else old
                del old
                snap.extend(names, recs)
            else:
                snap = Snapshot(list(names), bytes(recs))
            snap.tree_oid = tree_oid
            snap.patch = {}
            self.put(out_rel, snap, kind)

    def get_parsed(self, path: str, stamp: bytes) -> bytes | None:
        """What ``put_parsed`` kept for the control file ``path`` if its stamp still matches."""
        with self._lock:
            row = self.conn.execute("SELECT stamp, data FROM parsed WHERE path = ?", (path,)).fetchone()
        return row[1] if row is not None and row[0] == stamp else None

    def put_parsed(self, path: str, stamp: bytes, data: bytes) -> None:
        with self._lock:
            self.conn.execute("INSERT OR REPLACE INTO parsed (path, stamp, data) VALUES (?, ?, ?)", (path, stamp, data))

    def forget(self, out_rel: str) -> None:
        with self._lock:
            self.conn.execute("DELETE FROM snapshots WHERE path = ?", (out_rel,))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
