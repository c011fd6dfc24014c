"""The bounded local cache a ``StreamingDataset`` reader downloads into.

One folder per reading process (``<root>/<pid>-<random>``), holding objects named by their md5.
The cache never holds more than ``limit`` bytes: before a download starts, its size (known from
the index or ``.dir`` manifest) is reserved, evicting the least recently used objects that no
one is reading or downloading; when that cannot make room the caller waits for the object it is
reading to be released (``try_reserve`` says no), and an object larger than the whole limit is
one clear error. A download lands at a temp name, is hashed in the same pass
(``Backend.get_hashed``) and enters the cache only when the md5 matches its name; otherwise it is
deleted and the reader fails with one line naming the object. Folders left by processes that
are gone are removed when the next reader starts in the same root.
"""

from __future__ import annotations

import os
import shutil
import threading
import weakref
from collections import OrderedDict
from pathlib import Path

from labvault.errors import LoaderError
from labvault.remotes.base import Backend


class ShardCache:
    def __init__(self, root: Path, limit: int) -> None:
        self.limit = limit
        root.mkdir(parents=True, exist_ok=True)
        _remove_orphans(root)
        self.dir = root / f"{os.getpid()}-{os.urandom(4).hex()}"
        self.dir.mkdir()
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.dir), True)
        self._lock = threading.Lock()
        self._sizes: OrderedDict[str, int] = OrderedDict()  # md5 -> bytes reserved, LRU first
        self._pins: dict[str, int] = {}
        self.used = 0
        self.peak = 0

    def path(self, oid: str) -> str:
        return str(self.dir / oid)

    def try_reserve(self, oid: str, size: int, where: str) -> bool:
        """Pin ``oid`` (reserving ``size`` bytes when absent); False when there is no room yet."""
        if size > self.limit:
            raise LoaderError(f"{where} is {size} bytes, more than the stream cache limit of {self.limit} bytes",
                              "raise cache_bytes (per DataLoader worker: cache_bytes / num_workers), or write smaller shards")
        with self._lock:
            if oid in self._sizes:
                self._sizes.move_to_end(oid)
                self._pins[oid] = self._pins.get(oid, 0) + 1
                return True
            for victim in [v for v in self._sizes if not self._pins.get(v)]:
                if self.used + size <= self.limit:
                    break
                self.used -= self._sizes.pop(victim)
                _unlink(self.path(victim))
            if self.used + size > self.limit:
                return False
            self._sizes[oid] = size
            self._pins[oid] = 1
            self.used += size
            self.peak = max(self.peak, self.used)
            return True

    def release(self, oid: str) -> None:
        with self._lock:
            left = self._pins.get(oid, 0) - 1
            if left > 0:
                self._pins[oid] = left
            else:
                self._pins.pop(oid, None)

    def drop(self, oid: str) -> None:
        """Forget a reserved object whose download failed (pinned once, by the caller)."""
        with self._lock:
            self._pins.pop(oid, None)
            size = self._sizes.pop(oid, None)
            if size is not None:
                self.used -= size
            _unlink(self.path(oid))

    def fetch(self, backend: Backend, key: str, oid: str, size: int, where: str) -> str:
        """The local path of object ``oid`` (reserved by ``try_reserve``), downloading it if needed."""
        final = self.path(oid)
        if os.path.exists(final):
            return final
        tmp = f"{final}.{threading.get_ident()}.tmp"
        try:
            try:
                digest, got = backend.get_hashed(key, tmp)
            except FileNotFoundError:
                raise LoaderError(f"{where} is missing from {backend.describe()}",
                                  "push it again, or check the dataset's url and version") from None
            if digest != oid or got != size:
                raise LoaderError(f"{where} is corrupt: md5 {digest} ({got} bytes), expected {oid} ({size} bytes)",
                                  "re-create or re-push it; nothing corrupt was used")
            os.rename(tmp, final)
        except BaseException:
            _unlink(tmp)
            raise
        return final

    def close(self) -> None:
        self._finalizer()


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _remove_orphans(root: Path) -> None:
    for entry in os.scandir(root):
        pid_text = entry.name.split("-", 1)[0]
        if not entry.is_dir(follow_symlinks=False) or not pid_text.isdigit():
            continue
        try:
            os.kill(int(pid_text), 0)
            continue
        except ProcessLookupError:
            shutil.rmtree(entry.path, ignore_errors=True)
        except PermissionError:
            continue
