"""A helper process for :func:`labvault.core.checksum_hash.md5_many`: md5 of small files that are
in the page cache, so that many small files are hashed on every core (one CPython process hashes
on one core; threads would trade the GIL back and forth).

Run as ``python -I -S md5_worker.py BIG_FILE`` (the standard library only: nothing of labvault is
imported, so it starts in about 10 ms). It reads every name from stdin first (file-system bytes,
each ended by a NUL byte), then writes one line per name, in the same order:

    <32 hex digits> <size>   the file's md5 and size
    E<errno>                 open or read failed with that error
    W                        not hashed here: a read would wait for the disk (``RWF_NOWAIT``),
                             the file has BIG_FILE bytes or more, or the file system cannot say

Lines go out 256 at a time, so the caller can show progress. The helper stops when its output
is closed (the caller died or gave up: the next write fails) and never writes to any file.
"""

from __future__ import annotations

import hashlib
import os
import sys

FLUSH_EVERY = 256
READ = 1 << 20


def hash_one(path: bytes, view: memoryview, big: int, nowait: int) -> bytes:
    """The output line for one name (without its newline)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)  # a FIFO opens at once (then ESPIPE)
    except OSError as exc:
        return b"E%d" % (exc.errno or 0)
    try:
        h = hashlib.md5(usedforsecurity=False)
        size = 0
        while True:
            try:
                n = os.preadv(fd, [view], size, nowait)
            except BlockingIOError:
                return b"W"
            except OSError as exc:
                if exc.errno in (95, 22):  # EOPNOTSUPP, EINVAL: the file system cannot say
                    return b"W"
                return b"E%d" % (exc.errno or 0)
            if n == 0:
                return b"%s %d" % (h.hexdigest().encode(), size)
            if n == READ and size == 0 and os.fstat(fd).st_size >= big:
                return b"W"  # a big file: one md5 stream, the caller's pipelined reader
            h.update(view[:n])
            size += n
            if size >= big:
                return b"W"
    finally:
        os.close(fd)


def serve(data: bytes, out_fd: int, big: int) -> None:
    """Hash every NUL-ended name of ``data`` and write the lines to ``out_fd``."""
    nowait = os.RWF_NOWAIT
    view = memoryview(bytearray(READ))
    names = data.split(b"\0")
    names.pop()  # after the last NUL
    lines: list[bytes] = []
    for name in names:
        lines.append(hash_one(name, view, big, nowait))
        if len(lines) == FLUSH_EVERY:
            _write_all(out_fd, b"\n".join(lines) + b"\n")
            lines = []
    if lines:
        _write_all(out_fd, b"\n".join(lines) + b"\n")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def main() -> int:
    big = int(sys.argv[1])
    data = sys.stdin.buffer.read()
    try:
        serve(data, sys.stdout.fileno(), big)
    except BrokenPipeError:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
