"""Helper processes that hash small files in the page cache on every core (``md5_worker.py``).

:func:`hash_cached` gives each of N helpers every N-th chunk of 256 names, reads their lines as
they come (progress), and returns for each name its :class:`Hashed` or None: None when the helper
did not hash it (a read would wait for the disk, a big file) or could not answer for it (it died,
or wrote a line that is not one of its three forms); the caller hashes those itself, so a helper
can make the work faster but never changes a result. Only the caller's arguments reach a helper
(no inherited descriptor but its pipes, ``-I -S``: no environment-driven imports); every helper is
waited for before the call returns, and killed first if the call is leaving early.
"""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from labvault.core.checksum_hash import Hashed

CHUNK = 256
WORKER = str(Path(__file__).with_name("md5_worker.py"))
MIN_FILES = 2000  # below this, a helper's start (about 10 ms) costs more than it saves


def usable(helpers: int, files: int) -> bool:
    """Whether :func:`hash_cached` is worth starting here for ``files`` names."""
    return (helpers >= 2 and files >= MIN_FILES and hasattr(os, "RWF_NOWAIT") and bool(sys.executable)
            and os.path.isfile(WORKER))


def _shares(n: int, helpers: int) -> list[list[int]]:
    """Indices of the names each helper gets, in the order it answers: chunks dealt round robin."""
    shares: list[list[int]] = [[] for _ in range(helpers)]
    for k, start in enumerate(range(0, n, CHUNK)):
        shares[k % helpers].extend(range(start, min(start + CHUNK, n)))
    return shares


_LINES = re.compile(rb"(?:[0-9a-f]{32} [0-9]+|E[0-9]+|W)(?:\n(?:[0-9a-f]{32} [0-9]+|E[0-9]+|W))*")


def _parse(line: bytes, path: str) -> Hashed | None:
    """A helper's line (already checked against ``_LINES``): None for ``W``."""
    if line == b"W":
        return None
    if line[:1] == b"E":
        code = int(line[1:])
        return Hashed(None, 0, OSError(code, os.strerror(code), path))
    return Hashed(line[:32].decode(), int(line[33:]), None)


def hash_cached(paths: Sequence[str], helpers: int, big: int,
                on_progress: Callable[[int, int], None] | None = None) -> list[Hashed | None]:
    """md5 of each path that the helpers could read from the page cache, None for the rest."""
    out: list[Hashed | None] = [None] * len(paths)
    shares = [s for s in _shares(len(paths), helpers) if s]
    procs: list[subprocess.Popen[bytes]] = []
    finished = False
    sel = selectors.DefaultSelector()
    try:
        for _ in shares:
            procs.append(subprocess.Popen([sys.executable, "-I", "-S", WORKER, str(big)], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True))
        for p, share in zip(procs, shares, strict=True):
            assert p.stdin is not None
            try:
                p.stdin.write(os.fsencode("\0".join([paths[i] for i in share]) + "\0"))
                p.stdin.close()
            except BrokenPipeError:
                pass  # it died: its names stay None
        reading: dict[int, _Reading] = {}
        for p, share in zip(procs, shares, strict=True):
            assert p.stdout is not None
            fd = p.stdout.fileno()
            os.set_blocking(fd, False)
            reading[fd] = _Reading(p, share)
            sel.register(fd, selectors.EVENT_READ)
        while reading:
            for key, _ in sel.select():
                r = reading[key.fd]
                chunk = os.read(key.fd, 1 << 16)
                got = r.take(chunk, paths, out) if chunk else None
                if got is None:  # end of its output, or a line that is not one of ours
                    sel.unregister(key.fd)
                    del reading[key.fd]
                    if chunk:
                        r.proc.kill()
                elif got[0] and on_progress is not None:
                    on_progress(*got)
        finished = True
    finally:
        sel.close()
        for p in procs:
            if p.stdout is not None:
                p.stdout.close()
            if not finished:
                p.kill()
            p.wait()
    return out


class _Reading:
    """One helper's output as it arrives: its share of the names and how many it has answered."""

    def __init__(self, proc: subprocess.Popen[bytes], share: list[int]) -> None:
        self.proc = proc
        self.share = share
        self.done = 0
        self.pending = bytearray()

    def take(self, chunk: bytes, paths: Sequence[str], out: list[Hashed | None]) -> tuple[int, int] | None:
        """Record the whole lines of ``chunk``: (files, bytes) hashed, or None for a bad line."""
        self.pending += chunk
        end = self.pending.rfind(b"\n")
        if end < 0:
            return 0, 0
        whole = bytes(self.pending[:end])
        del self.pending[:end + 1]
        if _LINES.fullmatch(whole) is None:
            return None
        lines = whole.split(b"\n")
        if self.done + len(lines) > len(self.share):
            return None
        nfiles = nbytes = 0
        for line, i in zip(lines, self.share[self.done:self.done + len(lines)], strict=True):
            r = _parse(line, paths[i])
            if r is not None:
                out[i] = r
                nfiles += 1
                nbytes += r.size
        self.done += len(lines)
        return nfiles, nbytes
