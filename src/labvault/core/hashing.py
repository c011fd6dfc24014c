"""md5 hashing of files, DVC 3.x style (plain bytes) and legacy 2.x style (dos2unix on text).

Legacy hashing reads 1 MiB chunks; a chunk whose first 512 bytes look like text has its CRLFs
replaced by LFs before hashing. That per-chunk rule is DVC 2.x's and must be kept bit for bit.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import hashlib

CHUNK = 1 << 20
TEXT_PROBE = 512
_TEXT_CHARS = bytes(range(32, 127)) + b"\n\r\t\f\b"
EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def is_text_block(block: bytes) -> bool:
    """DVC's heuristic: empty is text; NUL means binary; else at most 30% non-text bytes."""
    if not block:
        return True
    if b"\x00" in block:
        return False
    nontext = block.translate(None, _TEXT_CHARS)
    return len(nontext) / len(block) <= 0.30


def md5(data: bytes = b"") -> hashlib._Hash:
    """A new md5 (hashlib, and with it OpenSSL, loads on first use: a no-op status never does)."""
    import hashlib

    return hashlib.md5(data, usedforsecurity=False)


def md5_bytes(data: bytes) -> str:
    return md5(data).hexdigest()


def md5_fd(fd: int, block: int = 4 * CHUNK) -> tuple[str, int]:
    """md5 and length of what is left to read from ``fd``."""
    h = md5()
    size = 0
    while chunk := os.read(fd, block):
        h.update(chunk)
        size += len(chunk)
    return h.hexdigest(), size


def legacy_md5_bytes(data: bytes) -> str:
    h = md5()
    for start in range(0, len(data), CHUNK):
        chunk = data[start : start + CHUNK]
        h.update(chunk.replace(b"\r\n", b"\n") if is_text_block(chunk[:TEXT_PROBE]) else chunk)
    return h.hexdigest()


def md5_file(path: str | os.PathLike[str], legacy: bool = False) -> str:
    """Hash a file's content (following symlinks)."""
    h = md5()
    with open(path, "rb", buffering=0) as f:
        if legacy:
            # A raw read may return short; legacy hashing needs exact 1 MiB chunks.
            buf = bytearray()
            while True:
                data = f.read(CHUNK - len(buf))
                if data:
                    buf += data
                if len(buf) == CHUNK or (not data and buf):
                    chunk = bytes(buf)
                    h.update(chunk.replace(b"\r\n", b"\n") if is_text_block(chunk[:TEXT_PROBE]) else chunk)
                    buf.clear()
                if not data:
                    break
        else:
            while True:
                data = f.read(CHUNK)
                if not data:
                    break
                h.update(data)
    return h.hexdigest()
