"""A read-only stream that checks an object's content against its name while it is read.

The md5 of every byte handed out is computed as it goes; when the source is exhausted the digest
(and the expected size, when known) must match, else the read that would have returned the end of
the stream raises ``CorruptObjectError`` instead. A caller that reads to the end therefore never
mistakes a corrupt object for a good one; a caller that stops early has read bytes that were not
(yet) verified, which the documentation of ``labvault.open`` says. The stream cannot seek: a seek
would break the running digest.

Legacy (DVC 2.x) objects are named by a dos2unix-normalized md5 computed per 1 MiB chunk; they are
read whole and checked before the first byte is handed out (``verified_bytes``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO

from labvault.core.hashing import legacy_md5_bytes, md5
from labvault.errors import CorruptObjectError


class VerifiedReader(io.RawIOBase):
    def __init__(self, raw: BinaryIO, oid: str, size: int | None, where: str,
                 on_verified: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._on_verified = on_verified
        self._raw = raw
        self._oid = oid
        self._size = size
        self._where = where
        self._hash = md5()
        self._seen = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self._done:
            return 0
        view = memoryview(buffer).cast("B")
        chunk = self._raw.read(len(view))
        if not chunk:
            self._finish()
            return 0
        n = len(chunk)
        view[:n] = chunk
        self._hash.update(chunk)
        self._seen += n
        if self._size is not None and self._seen > self._size:
            self._fail(f"is longer than its recorded {self._size} bytes")
        return n

    def _finish(self) -> None:
        self._done = True
        if self._size is not None and self._seen != self._size:
            self._fail(f"holds {self._seen} bytes, not the recorded {self._size}")
        if self._hash.hexdigest() != self._oid:
            self._fail("does not match its md5")
        if self._on_verified is not None:
            self._on_verified()

    def _fail(self, why: str) -> None:
        self._done = True
        raise CorruptObjectError(
            f"object {self._oid} in {self._where} {why}: it is corrupt and was not used",
            "run `labvault verify --remove-corrupt` on that cache, or push a good copy to the remote",
        )

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def verified_bytes(data: bytes, oid: str, legacy: bool, where: str) -> bytes:
    """``data`` when its md5 (2.x style for ``legacy``) is ``oid``, else CorruptObjectError."""
    digest = legacy_md5_bytes(data) if legacy else md5(data).hexdigest()
    if digest != oid:
        raise CorruptObjectError(
            f"object {oid} in {where} does not match its md5: it is corrupt and was not used",
            "run `labvault verify --remove-corrupt` on that cache, or push a good copy to the remote",
        )
    return data
