"""What each remote is known to hold, so that repeated pushes and status checks ask nothing.

One SQLite file per remote URL under ``.dvc/tmp/labvault/remotes/``. Entries are added only after
an upload succeeded or a listing or download showed the object; deleting the file only costs
requests.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

Ref = tuple[str, bool]


class RemoteIndex:
    def __init__(self, tmp_dir: Path, url: str) -> None:
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        self.path = tmp_dir / "labvault" / "remotes" / f"{digest}.sqlite"
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS present (oid TEXT NOT NULL, legacy INTEGER NOT NULL, PRIMARY KEY (oid, legacy)) WITHOUT ROWID")
            self._conn = conn
        return self._conn

    def known(self, refs: Iterable[Ref]) -> set[Ref]:
        refs = list(refs)
        if not refs:
            return set()
        if len(refs) <= 500:
            oids = sorted({oid for oid, _ in refs})
            marks = ",".join("?" * len(oids))
            rows = self.conn.execute(f"SELECT oid, legacy FROM present WHERE oid IN ({marks})", oids)
            have = {(oid, bool(legacy)) for oid, legacy in rows}
            return {r for r in refs if r in have}
        # Many refs: read the whole table as two strings (one per layout) rather than as one
        # Python row per object; oids are hex (plus ".dir"), so a space separates them safely.
        have_by_layout = []
        for legacy in (0, 1):
            (joined,) = self.conn.execute(
                "SELECT group_concat(oid, ' ') FROM present WHERE legacy = ?", (legacy,)
            ).fetchone()
            have_by_layout.append(set(joined.split(" ")) if joined else set())
        modern, old = have_by_layout
        return {r for r in refs if r[0] in (old if r[1] else modern)}

    def add(self, refs: Iterable[Ref]) -> None:
        rows = [(oid, int(legacy)) for oid, legacy in refs]
        if not rows:
            return
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("INSERT OR IGNORE INTO present (oid, legacy) VALUES (?, ?)", rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def forget(self, refs: Iterable[Ref]) -> None:
        rows = [(oid, int(legacy)) for oid, legacy in refs]
        if rows:
            self.conn.executemany("DELETE FROM present WHERE oid = ? AND legacy = ?", rows)

    def clear(self) -> None:
        self.conn.execute("DELETE FROM present")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
