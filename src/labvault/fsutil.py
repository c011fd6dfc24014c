"""Atomic file writes: temp file in the same folder, fsync, rename, fsync the folder.

A crash at any instant leaves either the old content or the new one, never a mix.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from labvault.errors import from_os_error

TMP_SUFFIX = ".lvtmp"


def tmp_name(path: str | os.PathLike[str]) -> str:
    """A unique temp name beside ``path`` (same folder, hence same file system), naming its writer:
    ``.<name>.<pid>-<random>.lvtmp``."""
    head, tail = os.path.split(os.fspath(path))
    return os.path.join(head, f".{tail}.{os.getpid()}-{os.urandom(4).hex()}{TMP_SUFFIX}")


# exactly what tmp_name makes: "." name "." pid "-" 8 hex digits ".lvtmp"
_TMP_EXACT = re.compile(r"\..+\.([1-9][0-9]{0,9})-[0-9a-f]{8}" + re.escape(TMP_SUFFIX), re.DOTALL)


def is_tmp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


def is_exact_tmp_name(name: str) -> bool:
    """Whether ``name`` has exactly the form :func:`tmp_name` gives (a user's own file named
    ``.x.lvtmp`` does not)."""
    return _TMP_EXACT.fullmatch(name) is not None


def tmp_owner_alive(name: str, path: str | None = None) -> bool:
    """Whether the process that made temp file ``name`` may still run (unknown owner: False).

    With ``path`` (the temp file itself), a process that started after the file's ctime (a
    rename, link or write sets it) cannot have made it: its pid was reused, and the writer is
    gone. Start times are read from ``/proc`` (whole seconds of boot time, hence a 2 s margin).
    """
    try:
        pid = int(name.rsplit(".", 2)[-2].split("-")[0])
    except (ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if path is not None:
        started = _process_start(pid)
        if started is not None:
            try:
                made = os.lstat(path).st_ctime
            except OSError:
                return True
            if started > made + 2.0:
                return False
    return True


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), from /proc; None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open("/proc/stat", "rb") as f:
            btime = next(int(ln.split()[1]) for ln in f if ln.startswith(b"btime "))
        return btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def unlink_quietly(path: str | os.PathLike[str]) -> None:
    """Delete ``path`` if it can be deleted (clean-up of a temp file, best effort)."""
    try:
        os.unlink(path)
    except OSError:
        pass


def fsync_dir(path: str | os.PathLike[str]) -> None:
    try:
        fd = os.open(os.fspath(path), os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, mode: int = 0o644, fsync: bool = True) -> None:
    path = os.fspath(path)
    tmp = tmp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise from_os_error(exc, "writing") from exc
    if fsync:
        fsync_dir(os.path.dirname(path) or ".")


def atomic_write_text(path: str | os.PathLike[str], text: str, fsync: bool = True) -> None:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise from_os_error(exc, "creating folder") from exc
    atomic_write_bytes(p, text.encode("utf-8"), fsync=fsync)


def syncfs_fd(fd: int) -> None:
    """Flush the file system holding ``fd`` (Linux ``syncfs``: one call, not one fsync per file)
    and raise its write-back errors as OSError: ``syncfs`` reports a write-back failure on that
    file system that no one has yet been told of, or that happened since ``fd`` was opened. Where
    the call is missing (ENOSYS, not Linux), ``sync``, which reports nothing."""
    import ctypes
    import errno

    fn = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)
    if fn is not None and fn(fd) == 0:
        return
    err = ctypes.get_errno() if fn is not None else errno.ENOSYS
    if err != errno.ENOSYS:
        raise OSError(err, os.strerror(err))
    os.sync()


def syncfs(path: str | os.PathLike[str]) -> None:
    """``syncfs_fd`` of the folder ``path``; a write-back error is a StorageError (one line). A
    folder that cannot be opened: nothing (nothing was written there)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        syncfs_fd(fd)
    except OSError as exc:
        exc.filename = os.fspath(path)
        raise from_os_error(exc, "flushing the writes to") from exc
    finally:
        os.close(fd)
