"""Read-ahead: a helper process that lists folders ahead of a scan, on a second core.

A scan (status, the stage checks of repro) lists and stats every file of the outputs and deps
it looks at. With a cold cache each stat has the kernel read an inode from the disk, which on a
VM is CPU work as much as waiting; with a warm one the syscalls and the Python around them are
the cost. Either way one core does it all. Given the paths in the order the scan takes them, a
helper lists and stats them from the far end (``prefetch_helper``), so the two meet in the
middle. A process rather than a thread: a second thread waits for the interpreter lock after
every stat and was no faster.

What the scan trusts, and why it may:

* Only callers that ask for it get a helper: ``Prefetch(paths).start()`` does nothing unless
  the caller passed ``read_ahead=True`` down to it (the command line does; a library call such
  as ``api.status()`` inside a training job does not by default) or called ``start_early``.
* The helper is a fresh interpreter started with ``posix_spawn`` (``prefetch_helper``), never a
  fork: it shares no memory, thread, at-fork hook or signal handler with the caller, keeps only
  its pipe and the shared memory, and dies with its parent.
* A listing is what ``walk`` itself would have read a moment earlier: names, whether each is a
  folder, each file's lstat. A reader without the repo lock (status) has no stronger promise.
  A command that takes the repo lock discards every helper started before it held the lock
  (``lock_taken``): files may change while it waits. Before ``repro`` runs a stage the listings
  are discarded too (``discard_listings``): the workspace is about to change.
* Whatever the helper did not hand over (it stopped, the shared memory filled up, the folder
  changed under it while it read, the names would not round-trip) the scan reads itself: the
  answer is the same, only slower.

The command line can start its helper before it has imported the code that finds what to scan
(``start_early``): the paths then come from a hint file that the same command wrote the last
time it ran (``.dvc/tmp/labvault/prefetch-<command>``). A stale hint costs only wasted work.
"""

from __future__ import annotations

import atexit
import os
import threading

from labvault.workspace.prefetch_helper import DIR_FLAGS, ENTRY
from labvault.workspace.prefetch_process import Helper, Listing, spawn

__all__ = ["DIR_FLAGS", "ENTRY", "Listing", "Prefetch", "discard_listings", "listing", "lock_taken", "start_early"]

_HINT_LIMIT = 1 << 20  # bytes: a hint is a list of paths, never large
SHARED = 64 << 20  # bytes of shared memory for listings (pages are only used as written)

_lock = threading.Lock()
_current: Helper | None = None  # the helper whose listings scans may use
_early: Helper | None = None  # started by start_early, taken over by the first Prefetch.start
_scanned: list[str] = []  # with a hint (a command line): every path handed to Prefetch, in order
_hint: tuple[str, str] | None = None  # (hint file, its text when read) for the exit hook
handed_out = 0  # listings given to scans by this process (the tests check the path is taken)
started = 0  # helpers started by this process (the tests check library calls start none)


class Prefetch:
    """``Prefetch(paths, read_ahead).start()``, then ``stop()``; see the module's docstring.

    Without ``read_ahead`` nothing is started (and a helper started early is left alone).
    ``shared`` is the size of the shared memory for listings (the tests make it small)."""

    def __init__(self, paths: list[str], read_ahead: bool = False, shared: int = SHARED) -> None:
        self.paths = paths
        self.read_ahead = read_ahead
        self.shared = shared
        self._helper: Helper | None = None

    def start(self) -> Prefetch:
        global _early, _current, started
        if not self.read_ahead:
            return self
        with _lock:
            if _hint is not None:
                _scanned.extend(self.paths)
            if _early is not None:  # a helper already runs on the last run's paths: take it over
                self._helper, _early = _early, None
                return self
            if not self.paths or (_current is not None and _current.covers.issuperset(self.paths)):
                return self
            self._helper = spawn(self.paths, self.shared)
            if self._helper is not None:
                started += 1
                if _current is not None:
                    _current.listings.clear()
                _current = self._helper
        return self

    @property
    def pid(self) -> int:
        """The helper's process id, 0 when none runs (tests)."""
        return self._helper.pid if self._helper is not None else 0

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the helper to finish by itself; True if it did (tests)."""
        return self._helper is None or self._helper.join(timeout)

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


def lock_taken() -> None:
    """The repo lock was just acquired: every helper started before then may have listed files
    that changed while the command waited, so all of them are stopped and their listings
    dropped; a ``Prefetch`` started from now on starts a fresh helper."""
    _stop_all()


def _stop_all() -> None:
    global _early, _current
    with _lock:
        for helper in {id(h): h for h in (_early, _current) if h is not None}.values():
            helper.usable = False
            helper.stop()
        _early = _current = None


def start_early(command: str, start_dir: str | None = None) -> None:
    """Start the helper for ``command`` (status) on the paths its last run scanned in the
    repository around ``start_dir``; remember this run's paths when the process exits."""
    global _early, _current, _hint, started
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
    # The hint is read from the repository: only paths inside it are listed.
    inside = tuple({folder + "/", os.path.realpath(folder) + "/"})
    paths = [p for p in text.splitlines() if p.startswith(inside) and "/../" not in p + "/"]
    if paths:
        with _lock:
            _early = _current = spawn(paths, SHARED)
            if _early is not None:
                started += 1


def _at_exit() -> None:
    _stop_all()
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
