"""The stat cache: for each tracked output, its files' (inode, mtime_ns, size) and oids.

A file whose stat matches its entry is not read again; a folder whose every file matches, with no
file added or removed, gets its recorded tree oid without rebuilding the manifest. One row per
output and hash kind (``md5`` or ``legacy``), holding a compact snapshot (``workspace.snapshot``);
SQLite in WAL mode, under ``.dvc/tmp/labvault/``.

It is only a cache: deleting it costs re-hashing, never data. When it cannot be read or written
(disk full, a read-only folder, a damaged file), commands go on without it: a damaged file is
rebuilt; otherwise one warning is given and the rest of the run neither reads nor writes it.

``stored_gen`` says the snapshot's ``stored`` flags were taken at cache generation N; anything in
labvault that deletes objects (gc, quarantine) bumps the generation. Deletions by anyone else are
caught by the fan-out stamps (``core.fanout``), which the scan compares before trusting a flag.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from labvault.fsutil import unlink_quietly
from labvault.workspace.snapshot import Snapshot, without_recent

Key = tuple[int, int, int]  # (inode, mtime_ns, size)
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    tree_oid TEXT,
    stored_gen INTEGER NOT NULL DEFAULT -1,
    blob BLOB NOT NULL,
    PRIMARY KEY (path, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshot_parts (
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (path, kind, seq)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS parsed (path TEXT PRIMARY KEY, stamp BLOB NOT NULL, data BLOB NOT NULL) WITHOUT ROWID;
"""

# A file modified this close to a scan may change again within the clock's resolution without
# its stat changing: what was read from it is not cached (it is read again next time).
RACY_NS = 50_000_000


def stat_key(st: os.stat_result) -> Key:
    return (st.st_ino, st.st_mtime_ns, st.st_size)



@contextmanager
def _transaction(conn: sqlite3.Connection, begin: str) -> Iterator[None]:
    """One transaction on an autocommit connection: committed, or rolled back on any error."""
    conn.execute(begin)
    try:
        yield
    except BaseException:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the error being raised says more; closing the connection rolls back anyway
        raise
    conn.execute("COMMIT")


class State:
    def __init__(self, tmp_dir: Path, warn: Callable[[str], None] | None = None) -> None:
        self.path = tmp_dir / "labvault" / "state.sqlite"
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()  # one connection, shared by threads, used one at a time
        self._warn = warn
        self.disabled = False  # set after a failure: the rest of the run goes without the cache

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
        except BaseException:
            conn.close()
            raise
        return conn

    def _reset(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        for suffix in ("", "-wal", "-shm"):
            unlink_quietly(str(self.path) + suffix)

    @property
    def conn(self) -> sqlite3.Connection:
        with self._lock:
            if self._conn is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    self._conn = self._connect()
                except sqlite3.DatabaseError as exc:
                    if isinstance(exc, sqlite3.OperationalError):
                        raise
                    self._reset()  # a damaged cache is rebuilt, never trusted
                    self._conn = self._connect()
            return self._conn

    def _run(self, op: Callable[[sqlite3.Connection], T], fallback: T) -> T:
        """``op`` on the database; on failure, ``fallback`` (and from then on, without the cache)."""
        with self._lock:
            if self.disabled:
                return fallback
            for attempt in (0, 1):
                try:
                    return op(self.conn)
                except sqlite3.DatabaseError as exc:
                    damaged = not isinstance(exc, sqlite3.OperationalError) or "malformed" in str(exc)
                    if damaged and attempt == 0:
                        self._reset()  # rebuilt empty: it is only a cache
                        continue
                    self._give_up(exc)
                except OSError as exc:  # its folder cannot be made
                    self._give_up(exc)
                break
            return fallback

    def _give_up(self, exc: BaseException) -> None:
        self.disabled = True
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
            self._conn = None
        if self._warn is not None:
            reason = getattr(exc, "strerror", None) or str(exc)
            self._warn(
                f"warning: the stat cache ({self.path}) cannot be used ({reason}); going on without it, "
                "which costs re-reading files next time (free some space or fix its folder's permissions)"
            )

    def generation(self) -> int:
        def op(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT value FROM meta WHERE key = 'cache_gen'").fetchone()
            return int(row[0]) if row else 0

        return self._run(op, -2)  # -2 matches no snapshot: nothing vouched for

    def bump_generation(self) -> None:
        """Objects were deleted from the cache: no snapshot may vouch for its objects any more."""
        self._run(
            lambda conn: conn.execute(
                "INSERT INTO meta (key, value) VALUES ('cache_gen', 1) "
                "ON CONFLICT(key) DO UPDATE SET value = value + 1"
            ),
            None,
        )
        if self.disabled:  # flags stored before cannot be revoked: drop them all
            try:
                self._reset()
            except OSError:
                pass

    def get(self, out_rel: str, kind: str = "md5") -> Snapshot:
        def op(conn: sqlite3.Connection) -> Snapshot | None:
            with _transaction(conn, "BEGIN"):  # the row and its parts as of one moment
                row = conn.execute(
                    "SELECT tree_oid, stored_gen, blob FROM snapshots WHERE path = ? AND kind = ?", (out_rel, kind)
                ).fetchone()
                if row is None:
                    return None
                tree_oid, gen, head = row
                del row
                rest = conn.execute(
                    "SELECT data FROM snapshot_parts WHERE path = ? AND kind = ? ORDER BY seq", (out_rel, kind)
                )
                return Snapshot.from_parts(head, (part for (part,) in rest), tree_oid, int(gen))

        snap = self._run(op, None)
        return Snapshot() if snap is None else snap  # (an empty snapshot is falsy, and may hold a patch)

    def put(self, out_rel: str, snap: Snapshot, kind: str = "md5") -> None:
        """Replace the output's snapshot, in one transaction, a part at a time: memory beyond the
        snapshot itself stays at one part (about 1 MB) whatever the output's size."""

        def op(conn: sqlite3.Connection) -> None:
            parts = snap.to_parts()
            with _transaction(conn, "BEGIN IMMEDIATE"):
                conn.execute("DELETE FROM snapshot_parts WHERE path = ? AND kind = ?", (out_rel, kind))
                conn.execute(
                    "INSERT OR REPLACE INTO snapshots (path, kind, tree_oid, stored_gen, blob) VALUES (?, ?, ?, ?, ?)",
                    (out_rel, kind, snap.tree_oid, snap.stored_gen, next(parts)),
                )
                conn.executemany(
                    "INSERT INTO snapshot_parts (path, kind, seq, data) VALUES (?, ?, ?, ?)",
                    ((out_rel, kind, seq, part) for seq, part in enumerate(parts, 1)),
                )

        self._run(op, None)

    def update_records(
        self, out_rel: str, names: list[str], recs: bytes | bytearray, kind: str = "md5",
        removed: list[str] | None = None, tree_oid: str | None = None, complete: bool = False,
        nfiles: int | None = None,
    ) -> None:
        """Record files just written into an output (checkout, relink, run-cache restores): ``names``
        and, in the same order, one packed record each (``snapshot.pack_record``); drop ``removed``.
        ``tree_oid``: the output now holds exactly that tree of ``nfiles`` files. It is kept only when
        ``names`` plus what was recorded before count ``nfiles`` together: a file checkout left alone
        because it matched may never have been recorded (it was too recent when last read), and a
        tree kept over a snapshot that lacks it would report that file as added. Otherwise the tree
        is dropped and the next status compares in full. ``complete``: ``names`` are all the output's
        files (what was recorded before is not even read). No per-file objects are made beyond the
        snapshot itself; ``names`` and ``recs`` may become the snapshot's own (the caller gives them up).

        A file written less than ``RACY_NS`` ago is not recorded (an edit in the same timestamp
        tick would keep its stat): the next scan reads it again. Under ``tree_oid`` it goes to the
        patch with its oid in that tree, so status still needs no manifest.
        """
        names, recs, recent = without_recent(names, recs, time.time_ns() - RACY_NS)
        with self._lock:
            old = Snapshot() if complete else self.get(out_rel, kind)
            if old.names:
                gone = set(names)
                gone.update(recent)
                gone.update(removed or ())
                keep = [i for i, n in enumerate(old.names) if n not in gone]
                del gone
                snap = old.keeping(keep) if len(keep) < len(old.names) else old
                del old
                snap.extend(names, recs)
            else:
                snap = Snapshot(names, recs)  # taken over, not copied: a million names cost 8 MB a copy
            if tree_oid is not None and not complete and (nfiles is None or len(snap.names) + len(recent) != nfiles):
                tree_oid = None
            snap.tree_oid = tree_oid
            snap.patch = dict(recent) if tree_oid is not None else {}
            snap.stored_gen = -1  # flags of files just written are confirmed by the next add
            snap.fanout = b""
            self.put(out_rel, snap, kind)

    def get_parsed(self, path: str, stamp: bytes) -> bytes | None:
        """What ``put_parsed`` kept for the control file ``path`` if its stamp still matches."""
        row = self._run(lambda conn: conn.execute("SELECT stamp, data FROM parsed WHERE path = ?", (path,)).fetchone(), None)
        return row[1] if row is not None and row[0] == stamp else None

    def put_parsed(self, path: str, stamp: bytes, data: bytes) -> None:
        self._run(
            lambda conn: conn.execute("INSERT OR REPLACE INTO parsed (path, stamp, data) VALUES (?, ?, ?)", (path, stamp, data)),
            None,
        )

    def forget(self, out_rel: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            with _transaction(conn, "BEGIN IMMEDIATE"):
                conn.execute("DELETE FROM snapshots WHERE path = ?", (out_rel,))
                conn.execute("DELETE FROM snapshot_parts WHERE path = ?", (out_rel,))

        self._run(op, None)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
