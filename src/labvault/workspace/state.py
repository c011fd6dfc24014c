"""The stat cache: remembers each file's oid under its (inode, mtime_ns, size, ctime_ns).

A file whose stat matches a row is not read again. Rows are keyed by path relative to the repo root
and by hash kind (``md5`` or ``legacy``). SQLite in WAL mode, under ``.dvc/tmp/labvault/``; it is
only a cache: deleting it costs re-hashing, never data.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

Key = tuple[int, int, int]  # (inode, mtime_ns, size)
Row = tuple[str, int, int, int, str]  # (relpath, inode, mtime_ns, size, oid)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hashes (
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    ino INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    oid TEXT NOT NULL,
    PRIMARY KEY (path, kind)
) WITHOUT ROWID;
"""


def stat_key(st: os.stat_result) -> Key:
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class State:
    def __init__(self, tmp_dir: Path) -> None:
        self.path = tmp_dir / "labvault" / "state.sqlite"
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()  # one connection, shared by threads, used one at a time

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(_SCHEMA)
            except sqlite3.DatabaseError:
                # A damaged cache is rebuilt, never trusted.
                conn.close()
                for suffix in ("", "-wal", "-shm"):
                    try:
                        os.unlink(str(self.path) + suffix)
                    except FileNotFoundError:
                        pass
                conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    def get_prefix(self, relpath: str, kind: str = "md5") -> dict[str, tuple[Key, str]]:
        """Rows for ``relpath`` itself and everything under ``relpath/``."""
        out: dict[str, tuple[Key, str]] = {}
        with self._lock:
            cur = self.conn.execute(
                "SELECT path, ino, mtime_ns, size, oid FROM hashes WHERE kind = ? AND (path = ? OR (path >= ? AND path < ?))",
                (kind, relpath, relpath + "/", relpath + "0"),
            )
            for path, ino, mtime_ns, size, oid in cur:
                out[path] = ((ino, mtime_ns, size), oid)
        return out

    def put_many(self, rows: Iterable[Row], kind: str = "md5") -> None:
        data = [(p, kind, ino, m, s, oid) for p, ino, m, s, oid in rows]
        if not data:
            return
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT OR REPLACE INTO hashes (path, kind, ino, mtime_ns, size, oid) VALUES (?, ?, ?, ?, ?, ?)",
                    data,
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def forget_prefix(self, relpath: str) -> None:
        with self._lock:
            self.conn.execute(
                "DELETE FROM hashes WHERE path = ? OR (path >= ? AND path < ?)", (relpath, relpath + "/", relpath + "0")
            )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
