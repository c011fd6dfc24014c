"""Create a file only if nothing has that name yet, atomically: the content goes to a temp file in
the same folder, which is then hard-linked to the final name (the link fails if the name exists).

A crash leaves either no file or the complete file, and an existing file is never replaced, even
when another process creates it between our check and our write.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from labvault.errors import from_os_error
from labvault.fsutil import fsync_dir, tmp_name


def write_new_text(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless ``path`` exists; True when this call created it."""
    if os.path.lexists(path):
        return False
    tmp = tmp_name(path)
    data = text.encode("utf-8")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
                raise
            return _write_exclusive(path, data)
    except OSError as exc:
        raise from_os_error(exc, "writing") from exc
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    fsync_dir(path.parent)
    return True


def _write_exclusive(path: Path, data: bytes) -> bool:
    """Fallback for file systems without hard links: exclusive create, then write."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
