"""The read-ahead helper's own program (see ``workspace.prefetch``), run as a script:

    python -I -S prefetch_helper.py PARENT_PID SHARED_FD PIPE_FD FS_ENCODING

It is a fresh interpreter started with ``posix_spawn``, never a fork of the caller: none of the
caller's memory, threads, at-fork hooks or signal handlers exist here. It imports only the
standard library and is also imported by the scan's side for the layout constants below.

What it does, in order:

1. Keeps only the descriptors it was given (stdin/stdout/stderr are ``/dev/null``): whatever
   else a library may have left inheritable, a repo lock above all, is closed at once.
2. Asks the kernel to kill it when its parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), then
   checks that the parent is still the one that started it (it may have died before the
   ``prctl``); before each folder it checks again.
3. Reads the paths to list from the start of the shared memory (a u64 length, then the paths
   joined by newlines), lists and stats them from the far end (last path first, sub-folders in
   listing order, the opposite of ``walk.iter_walk``), and hands each finished folder over: the
   folder's path and its marshalled listing into the shared memory, a ``NOTE`` on the pipe.
4. Exits, never writing to the workspace, when it is done, when the shared memory is full (the
   scan reads the remaining folders itself), or at the first failed write to the pipe (the
   scan is gone).
"""

from __future__ import annotations

import marshal
import mmap
import os
import signal
import struct
import sys

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
# Where a folder's listing is in the shared memory: offset, length of the folder's path, then
# of the marshalled listing that follows it (unmarshalled only when the scan asks for it).
NOTE = struct.Struct("<QII")
# Per entry of a listing: inode, mtime_ns, size (the stat cache's key, in its layout), mode, links.
ENTRY = struct.Struct("<QqQIQ")
# The shared memory opens with the paths to read: their length, then the paths.
HEADER = struct.Struct("<Q")
_PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> int:
    parent, shared_fd, pipe_fd = int(argv[1]), int(argv[2]), int(argv[3])
    keep = sorted((shared_fd, pipe_fd))
    os.closerange(3, keep[0])
    os.closerange(keep[0] + 1, keep[1])
    os.closerange(keep[1] + 1, os.sysconf("SC_OPEN_MAX"))
    if sys.getfilesystemencoding() != argv[4]:
        return 0  # names would not round-trip to the scan: let it read everything itself
    _die_with(parent)
    if os.getppid() != parent:
        return 0
    shared = mmap.mmap(shared_fd, 0)  # keeps a descriptor of its own
    os.close(shared_fd)
    (n,) = HEADER.unpack_from(shared, 0)
    paths = os.fsdecode(shared[HEADER.size : HEADER.size + n]).split("\n") if n else []
    read_backwards(paths, shared, HEADER.size + n, pipe_fd, parent)
    return 0


def _die_with(parent: int) -> None:
    """Have the kernel send SIGKILL when the parent exits; without ``prctl`` (not Linux), the
    checks of ``getppid`` before each folder still end the helper."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (ImportError, OSError, AttributeError):
        pass


def read_backwards(paths: list[str], shared: mmap.mmap, offset: int, wfd: int, parent: int) -> None:
    """List and stat ``paths`` and what is under them, last path first and sub-folders in
    listing order, handing each folder over; stop when the parent is gone, the pipe is broken
    or the shared memory is full."""
    pack = ENTRY.pack
    zero = bytes(ENTRY.size)
    size = len(shared)
    for path in reversed(paths):
        stack = [path]
        while stack:
            if os.getppid() != parent:
                return
            folder = stack.pop()
            try:
                fd = os.open(folder, DIR_FLAGS)
            except OSError:
                continue
            whole = True
            names: list[str] = []
            kinds = bytearray()
            stats: list[bytes] = []
            subdirs = []
            try:
                with os.scandir(fd) as it:
                    listed = list(it)
                for e in listed:
                    name = e.name
                    names.append(name)
                    if e.is_dir(follow_symlinks=False):
                        subdirs.append(folder + "/" + name)
                        kinds.append(1)
                        stats.append(zero)
                        continue
                    kinds.append(0)
                    try:
                        st = e.stat(follow_symlinks=False)
                    except OSError:
                        whole = False
                        continue
                    stats.append(pack(st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode, st.st_nlink))
            except OSError:
                continue
            finally:
                os.close(fd)
            if whole:
                key = os.fsencode(folder)
                blob = key + marshal.dumps((names, bytes(kinds), b"".join(stats)))
                if offset + len(blob) > size:
                    return  # full: the scan reads the rest itself
                shared[offset : offset + len(blob)] = blob
                try:
                    os.write(wfd, NOTE.pack(offset, len(key), len(blob) - len(key)))
                except OSError:  # the scan is gone (or stopped reading): nothing left to do
                    return
                offset += len(blob)
            stack.extend(reversed(subdirs))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
