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
import threading
from dataclasses import dataclass, field
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
"""


def stat_key(st: os.stat_result) -> Key:
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@dataclass
class Snapshot:
    """Entries keyed by path inside the output ("" for a file output)."""

    entries: dict[str, Entry] = field(default_factory=dict)
    tree_oid: str | None = None
    stored_gen: int = -1


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
        try:
            entries = marshal.loads(row[2])
        except (ValueError, EOFError, TypeError):
            return Snapshot()
        if not isinstance(entries, dict):
            return Snapshot()
        return Snapshot(entries, row[0], int(row[1]))

    def put(self, out_rel: str, snap: Snapshot, kind: str = "md5") -> None:
        blob = marshal.dumps(snap.entries)
        with self._lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO snapshots (path, kind, tree_oid, stored_gen, blob) VALUES (?, ?, ?, ?, ?)",
                (out_rel, kind, snap.tree_oid, snap.stored_gen, blob),
            )

    def update(
        self, out_rel: str, written: dict[str, Entry], kind: str = "md5", tree_oid: str | None = None,
        removed: tuple[str, ...] = (),
    ) -> None:
        """Record files just written into an output (checkout, relink); the tree oid if known."""
        with self._lock:
            snap = self.get(out_rel, kind)
            snap.entries.update(written)
            for r in removed:
                snap.entries.pop(r, None)
            snap.tree_oid = tree_oid
            self.put(out_rel, snap, kind)

    def forget(self, out_rel: str) -> None:
        with self._lock:
            self.conn.execute("DELETE FROM snapshots WHERE path = ?", (out_rel,))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
