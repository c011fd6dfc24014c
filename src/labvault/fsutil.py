"""Atomic file writes: temp file in the same folder, fsync, rename, fsync the folder.

A crash at any instant leaves either the old content or the new one, never a mix.
"""

from __future__ import annotations

import os
from pathlib import Path

from labvault.errors import from_os_error

TMP_SUFFIX = ".lvtmp"


def tmp_name(path: str | os.PathLike[str]) -> str:
    """A unique temp name beside ``path`` (same folder, hence same file system), naming its writer:
    ``.<name>.<pid>-<random>.lvtmp``."""
    head, tail = os.path.split(os.fspath(path))
    return os.path.join(head, f".{tail}.{os.getpid()}-{os.urandom(4).hex()}{TMP_SUFFIX}")


def is_tmp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


def tmp_owner_alive(name: str) -> bool:
    """Whether the process that made temp file ``name`` still runs (unknown owner: False)."""
    try:
        pid = int(name.rsplit(".", 2)[-2].split("-")[0])
    except (ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
