"""The backup stat cache: per target, a local table from a file's stat to its md5.

``$XDG_CACHE_HOME/labvault/backup/<sha256(target url)[:16]>.sqlite`` (``~/.cache`` by default)
holds, per absolute source path, (device, inode, size, mtime_ns, ctime_ns, md5). A later run
reads a file only when one of the five differs. What is trusted: that a file whose content
changes also changes its size, mtime or ctime (as DVC's state trusts, with ctime and inode added:
a ``touch -d`` back-dating or a replace by rename are seen). A file whose mtime or ctime lies within
``RACY_NS`` of the moment it was hashed is not cached (an edit in the same timestamp tick could go
unseen). What is NOT trusted: whether the target holds the object; that is asked of the target on
every run. Deleting the file costs only re-hashing.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

RACY_NS = 50_000_000
Stat = tuple[int, int, int, int, int]  # dev, ino, size, mtime_ns, ctime_ns


def stat_key(st: os.stat_result) -> Stat:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "labvault" / "backup"


class StatCache:
    def __init__(self, target_url: str, folder: Path | None = None) -> None:
        where = folder or cache_dir()
        where.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(target_url.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        self.path = where / f"{name}.sqlite"
        self.db = sqlite3.connect(self.path, timeout=60)
        self.db.execute("CREATE TABLE IF NOT EXISTS stats (path BLOB PRIMARY KEY, dev INTEGER, ino INTEGER, "
                        "size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, md5 TEXT)")

    def lookup(self, items: Iterable[tuple[str, Stat]]) -> dict[str, str]:
        """path -> md5 for the files whose stat is the one recorded."""
        wanted = dict(items)
        found: dict[str, str] = {}
        keys = [os.fsencode(p) for p in wanted]
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = self.db.execute(
                f"SELECT path, dev, ino, size, mtime_ns, ctime_ns, md5 FROM stats WHERE path IN "
                f"({','.join('?' * len(chunk))})", chunk)
            for raw, dev, ino, size, mt, ct, digest in rows:
                path = os.fsdecode(raw)
                if wanted.get(path) == (dev, ino, size, mt, ct):
                    found[path] = digest
        return found

    def record(self, rows: Iterable[tuple[str, Stat, str]], hashed_at_ns: int) -> int:
        """Remember (path, stat, md5); files changed within RACY_NS of ``hashed_at_ns`` are left out."""
        horizon = hashed_at_ns - RACY_NS
        batch = [(os.fsencode(p), *st, digest) for p, st, digest in rows if st[3] < horizon and st[4] < horizon]
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO stats VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
        return len(batch)

    def close(self) -> None:
        self.db.close()
