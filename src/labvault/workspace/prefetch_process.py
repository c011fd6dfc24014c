"""Starting one read-ahead helper (``prefetch_helper``) and taking in what it hands over.

The helper is started with ``os.posix_spawn`` as ``python -I -S prefetch_helper.py``: a fresh
interpreter, so nothing of the caller is copied or run in it (no fork of a process that may hold
threads and gigabytes, no at-fork hooks). It receives exactly two descriptors, dup'ed to the same
numbers by the spawn: a memfd shared with the scan (the paths to read, then the listings) and the
write end of a pipe (a ``NOTE`` per finished folder); stdin, stdout and stderr are ``/dev/null``,
so it never holds the caller's terminal or pipes open. Every other descriptor of the caller is
close-on-exec (Python's default) and the helper closes any other it finds.
"""

from __future__ import annotations

import marshal
import mmap
import os
import signal
import sys
import time

from labvault.workspace import prefetch_helper
from labvault.workspace.prefetch_helper import HEADER, NOTE

# A folder as the helper read it: names, 1 per name that is a folder, ENTRY per name (zeros
# for folders).
Listing = tuple[list[str], bytes, bytes]


class Helper:
    """A running helper, as the scan's side sees it."""

    def __init__(self, pid: int, rfd: int, shared: mmap.mmap, paths: list[str]) -> None:
        self.pid, self.rfd, self.shared = pid, rfd, shared
        self.covers = set(paths)
        self.listings: dict[str, tuple[int, int]] = {}  # folder -> offset, length of its listing
        self.pending = b""
        self.usable = True

    def drain(self) -> None:
        """Take in the listings the helper has finished since the last call (never blocks)."""
        try:
            data = os.read(self.rfd, 1 << 16)
        except OSError:  # nothing new (EAGAIN), or the helper is gone
            return
        data = self.pending + data
        whole = len(data) - len(data) % NOTE.size
        self.pending = data[whole:]
        size = len(self.shared)
        for off, path_len, n in NOTE.iter_unpack(data[:whole]):
            if off + path_len + n > size:
                continue  # not from a helper of ours: ignore
            folder = os.fsdecode(self.shared[off : off + path_len])
            self.listings[folder] = (off + path_len, n)

    def take(self, folder: str) -> Listing | None:
        """The listing of ``folder``, once; None if the helper has not handed it over."""
        self.drain()
        where = self.listings.pop(folder, None)
        if where is None:
            return None
        off, n = where
        try:
            names, kinds, stats = marshal.loads(self.shared[off : off + n])
        except (EOFError, ValueError, TypeError):
            return None
        return names, kinds, stats

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the helper to exit by itself; True if it did."""
        deadline = time.monotonic() + timeout
        while self.pid:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = 0
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def stop(self) -> None:
        """Kill the helper (if still running), reap it, release the pipe and the memory."""
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = 0
        if self.rfd >= 0:
            os.close(self.rfd)
            self.rfd = -1
        self.listings.clear()
        self.shared.close()


def spawn(paths: list[str], size: int) -> Helper | None:
    """Start a helper reading ``paths``, with ``size`` bytes of shared memory; None when none was
    started (one CPU, no ``posix_spawn``/``memfd_create``, too many paths for the memory, or the
    start failed): the scan then reads everything itself."""
    script = prefetch_helper.__file__
    if (
        cpus() < 2 or not sys.executable or not hasattr(os, "posix_spawn") or not hasattr(os, "memfd_create")
        or not os.path.isfile(script)
    ):
        return None
    data = os.fsencode("\n".join(p for p in paths if "\n" not in p))
    if HEADER.size + len(data) >= size:
        return None
    try:
        memfd = os.memfd_create("labvault-read-ahead", os.MFD_CLOEXEC)
    except OSError:
        return None
    try:
        os.ftruncate(memfd, size)
        shared = mmap.mmap(memfd, size)
    except (OSError, ValueError):
        os.close(memfd)
        return None
    HEADER.pack_into(shared, 0, len(data))
    shared[HEADER.size : HEADER.size + len(data)] = data
    try:
        rfd, wfd = os.pipe()
    except OSError:
        os.close(memfd)
        shared.close()
        return None
    argv = [
        sys.executable, "-I", "-S", "-X", f"utf8={sys.flags.utf8_mode}", script,
        str(os.getpid()), str(memfd), str(wfd), sys.getfilesystemencoding(),
    ]
    null = os.devnull
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, null, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, null, os.O_WRONLY, 0),
        # dup2 onto itself clears close-on-exec for the child only
        (os.POSIX_SPAWN_DUP2, memfd, memfd),
        (os.POSIX_SPAWN_DUP2, wfd, wfd),
    ]
    try:
        pid = os.posix_spawn(sys.executable, argv, os.environ, file_actions=actions)
    except OSError:
        os.close(rfd)
        shared.close()
        return None
    finally:
        os.close(wfd)
        os.close(memfd)
    os.set_blocking(rfd, False)
    return Helper(pid, rfd, shared, paths)


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
