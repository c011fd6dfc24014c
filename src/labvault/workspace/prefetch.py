"""A helper process that reads folders ahead of a scan, on a second core.

A scan (status, the stage checks of repro) lists and stats every file of the outputs and deps
it looks at. With a cold cache each stat has the kernel read an inode from the disk, which on a
VM is CPU work as much as waiting; with a warm one the syscalls and the Python around them are
the cost. Either way one core does it all. Given the paths in the order the scan takes them, a
forked helper lists and stats them from the far end: the paths in reverse order, and inside
each folder tree the sub-folders in the opposite order to ``walk.iter_walk``'s, so the two meet
in the middle. (50,000 files in 100 folders on a 2-core VM, cold: one process 0.40 s, two
processes 0.23 s; two threads of one process were no faster than one, each waiting for the
interpreter lock after every stat.)

The helper hands each folder it finished to the scan: names, whether each is a folder, and each
file's lstat (inode, mtime, size, mode, links), marshalled into memory shared with the scan,
with a note of where on a pipe. A scan reaching a folder the helper already read uses that
instead of reading it again (``listing``), which is the same as having read it a moment
earlier. Folders the helper could not read whole are left to the scan. When the command is
about to change the workspace (a stage runs), ``discard_listings`` ends their use.

The helper never writes to the workspace. It leaves through ``os._exit`` (no atexit handlers,
no buffered output written twice) and is killed when the scan ends. Only a single-threaded
process with more than one CPU forks, with SIGINT and SIGTERM blocked across the fork so that
the helper can never run the caller's Python code.

A command can start its helper before it has even imported the code that finds what to scan
(``start_early``): the paths then come from a hint file that the same command wrote the last
time it ran (``.dvc/tmp/labvault/prefetch-<command>``). A stale hint costs only wasted work.
"""

from __future__ import annotations

import atexit
import marshal
import mmap
import os
import signal
import struct
import threading
import time

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_HINT_LIMIT = 1 << 20  # bytes: a hint is a list of paths, never large
_SHARED = 64 << 20  # bytes of shared memory for listings (pages are only used as written)
# Where a folder's listing is in the shared memory: offset, length of the folder's path, then
# of the marshalled listing that follows it (unmarshalled only when the scan asks for it).
NOTE = struct.Struct("<QII")
# Per entry of a listing: inode, mtime_ns, size (the stat cache's key, in its layout), mode, links.
ENTRY = struct.Struct("<QqQIQ")

# A folder as the helper read it: names, 1 per name that is a folder, ENTRY per name (zeros
# for folders).
Listing = tuple[list[str], bytes, bytes]

_lock = threading.Lock()
_current: _Helper | None = None  # the helper whose listings scans may use
_early: _Helper | None = None  # started by start_early, taken over by the first Prefetch.start
_scanned: list[str] = []  # with a hint (a command line): every path handed to Prefetch, in order
_hint: tuple[str, str] | None = None  # (hint file, its text when read) for the exit hook
handed_out = 0  # listings given to scans by this process (the tests check the path is taken)


class _Helper:
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
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        data = self.pending + data
        whole = len(data) - len(data) % NOTE.size
        self.pending = data[whole:]
        for off, path_len, n in NOTE.iter_unpack(data[:whole]):
            folder = os.fsdecode(self.shared[off : off + path_len])
            self.listings[folder] = (off + path_len, n)

    def take(self, folder: str) -> Listing | None:
        where = self.listings.pop(folder, None)
        if where is None:
            return None
        off, n = where
        try:
            names, kinds, stats = marshal.loads(self.shared[off : off + n])
        except (EOFError, ValueError, TypeError):
            return None
        return names, kinds, stats

    def stop(self) -> None:
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
        os.close(self.rfd)
        self.listings.clear()
        self.shared.close()


class Prefetch:
    """Start with ``Prefetch(paths).start()``, end with ``stop()``; see the module's docstring."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        self._helper: _Helper | None = None

    def start(self) -> Prefetch:
        global _early, _current
        with _lock:
            if _hint is not None:
                _scanned.extend(self.paths)
            if _early is not None:  # a helper already runs on the last run's paths: take it over
                self._helper, _early = _early, None
                return self
            if not self.paths or (_current is not None and _current.covers.issuperset(self.paths)):
                return self
            self._helper = _fork_helper(self.paths)
            if self._helper is not None:
                if _current is not None:
                    _current.listings.clear()
                _current = self._helper
        return self

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the helper to finish by itself; True if it did (tests)."""
        helper = self._helper
        if helper is None:
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, _ = os.waitpid(helper.pid, os.WNOHANG)
            if pid:
                helper.pid = 0
                return True
            time.sleep(0.005)
        return False

    def stop(self) -> None:
        global _current
        with _lock:
            if self._helper is not None:
                if _current is self._helper:
                    _current = None
                self._helper.stop()
                self._helper = None


def listing(folder: str) -> Listing | None:
    """The helper's reading of ``folder`` (an absolute path as the scan names it), if it has one;
    each listing is handed out once."""
    global handed_out
    if _current is None:
        return None
    with _lock:
        helper = _current
        if helper is None or not helper.usable:
            return None
        helper.drain()
        got = helper.take(folder)
        if got is not None:
            handed_out += 1
        return got


def discard_listings() -> None:
    """The command is about to change the workspace: from now on scans read folders themselves."""
    with _lock:
        if _current is not None:
            _current.usable = False
            _current.listings.clear()


def start_early(command: str, start_dir: str | None = None) -> None:
    """Start the helper for ``command`` (status, repro) on the paths its last run scanned in the
    repository around ``start_dir``; remember this run's paths when the process exits."""
    global _early, _current, _hint
    folder = os.path.abspath(start_dir or os.getcwd())
    while True:
        dvc_dir = os.path.join(folder, ".dvc")
        if os.path.isdir(dvc_dir):
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            return
        folder = parent
    hint = os.path.join(dvc_dir, "tmp", "labvault", f"prefetch-{command}")
    try:
        with open(hint, encoding="utf-8") as f:
            text = f.read(_HINT_LIMIT)
    except (OSError, UnicodeDecodeError):
        text = ""
    _hint = (hint, text)
    atexit.register(_at_exit)
    paths = text.splitlines()
    if paths:
        with _lock:
            _early = _current = _fork_helper(paths)


def _at_exit() -> None:
    global _early, _current
    with _lock:
        for helper in {id(h): h for h in (_early, _current) if h is not None}.values():
            helper.stop()
        _early = _current = None
    if _hint is None or not _scanned:
        return
    hint, old = _hint
    text = "".join(p + "\n" for p in dict.fromkeys(_scanned) if "\n" not in p)
    if text == old:
        return
    tmp = f"{hint}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, hint)  # a hint only: no fsync, a lost one is rebuilt next time
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _fork_helper(paths: list[str]) -> _Helper | None:
    """Fork the helper; None when none was started (one CPU, threads running, fork failed)."""
    if not hasattr(os, "fork") or threading.active_count() != 1 or _cpus() < 2:
        return None
    try:
        shared = mmap.mmap(-1, _SHARED)
    except (OSError, ValueError):
        return None
    try:
        rfd, wfd = os.pipe()
    except OSError:
        shared.close()
        return None
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        pid = os.fork()
        if pid == 0:
            try:
                for sig in stop_signals:
                    signal.signal(sig, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
                os.close(rfd)
                os.set_blocking(wfd, False)
                _read_backwards(paths, shared, wfd)
            finally:
                os._exit(0)
    except OSError:
        os.close(rfd)
        os.close(wfd)
        shared.close()
        return None  # no helper: the scan is only slower
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
    os.close(wfd)
    os.set_blocking(rfd, False)
    return _Helper(pid, rfd, shared, paths)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _read_backwards(paths: list[str], shared: mmap.mmap, wfd: int) -> None:
    """In the helper: list and stat ``paths`` and what is under them, last path first and
    sub-folders in listing order (``iter_walk`` takes them last first), handing each folder over."""
    offset = 0
    sending = True
    pack = ENTRY.pack
    zero = bytes(ENTRY.size)
    for path in reversed(paths):
        stack = [path]
        while stack:
            folder = stack.pop()
            try:
                fd = os.open(folder, DIR_FLAGS)
            except NotADirectoryError:
                try:
                    os.stat(folder, follow_symlinks=False)
                except OSError:
                    pass
                continue
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
            if sending and whole:
                key = os.fsencode(folder)
                blob = key + marshal.dumps((names, bytes(kinds), b"".join(stats)))
                if offset + len(blob) > len(shared):
                    sending = False
                else:
                    shared[offset : offset + len(blob)] = blob
                    try:
                        os.write(wfd, NOTE.pack(offset, len(key), len(blob) - len(key)))
                    except OSError:  # the pipe is full or the scan is gone: keep reading ahead only
                        sending = False
                    offset += len(blob)
            stack.extend(reversed(subdirs))
