"""Ways to put a cache object into the workspace: reflink, hardlink, symlink, copy.

``cache.type`` lists them in order of preference (DVC's default: ``reflink,copy``); the first one
the file system supports is used. Every link is made at a temp name and renamed over the
destination, so a crash never leaves a half-written workspace file under its real name.
"""

from __future__ import annotations

import errno
import fcntl
import os

from labvault.fsutil import tmp_name

FICLONE = 0x40049409
DEFAULT_TYPES = ("reflink", "copy")
_UNSUPPORTED = {errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EINVAL, errno.ENOTTY, errno.EPERM, errno.EMLINK}


class LinkUnsupported(Exception):
    """This link type does not work between these two places."""


def _reflink(src: str, dst: str) -> None:
    sfd = os.open(src, os.O_RDONLY)
    try:
        dfd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fcntl.ioctl(dfd, FICLONE, sfd)
        except OSError as exc:
            os.close(dfd)
            os.unlink(dst)
            if exc.errno in _UNSUPPORTED:
                raise LinkUnsupported(str(exc)) from None
            raise
        os.close(dfd)
    finally:
        os.close(sfd)


# Ask for the rest of the file in each call (the kernel copies at most 2 GiB - 4 KiB a call, as
# cp asks): calls of 1 GiB or less took 1.6x the time when the disk's write-back was behind (a
# checkout right after a fetch of 3 GiB: 4.4-4.9 s against 2.7-3.3 s; bench/pull_profile.py).
_WHOLE = (1 << 63) - (1 << 30)


def copy_file(src: str, dst: str, mode: int = 0o644) -> None:
    """Copy bytes with copy_file_range (in-kernel), falling back to read/write."""
    sfd = os.open(src, os.O_RDONLY)
    try:
        # Opened before the clean-up below is armed: a name that exists already is not ours to delete.
        dfd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except BaseException:
        os.close(sfd)
        raise
    try:
        try:
            size = os.fstat(sfd).st_size
            if size <= (1 << 20):
                data = os.read(sfd, size + 1)
                while data:
                    n = os.write(dfd, data)
                    data = data[n:]
                rest = os.read(sfd, 1 << 20)
                while rest:
                    os.write(dfd, rest)
                    rest = os.read(sfd, 1 << 20)
            else:
                try:
                    while os.copy_file_range(sfd, dfd, _WHOLE):
                        pass
                except OSError as exc:
                    if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                        raise
                    while True:
                        chunk = os.read(sfd, 1 << 22)
                        if not chunk:
                            break
                        os.write(dfd, chunk)
        finally:
            os.close(dfd)
    except BaseException:
        try:
            os.unlink(dst)
        except OSError:
            pass
        raise
    finally:
        os.close(sfd)


def _hardlink(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno in _UNSUPPORTED:
            raise LinkUnsupported(str(exc)) from None
        raise


def _symlink(src: str, dst: str) -> None:
    try:
        os.symlink(src, dst)
    except OSError as exc:
        if exc.errno in _UNSUPPORTED:
            raise LinkUnsupported(str(exc)) from None
        raise


_MAKERS = {"reflink": _reflink, "hardlink": _hardlink, "symlink": _symlink, "copy": copy_file}


class Linker:
    """Materializes objects using the first supported link type; remembers what worked."""

    def __init__(self, types: tuple[str, ...] = DEFAULT_TYPES) -> None:
        self.types = types
        self._working: str | None = None

    @property
    def used(self) -> str | None:
        return self._working

    def materialize(self, obj_path: str, dst: str) -> str:
        """Make ``dst`` hold the object's content; returns the link type used."""
        candidates = (self._working,) if self._working else self.types
        last: Exception | None = None
        for kind in candidates:
            assert kind is not None
            if kind == "hardlink" and _same_file(obj_path, dst):
                self._working = kind
                return kind
            tmp = tmp_name(dst)
            try:
                _MAKERS[kind](obj_path, tmp)
            except LinkUnsupported as exc:
                last = exc
                continue
            try:
                os.replace(tmp, dst)
            finally:
                # rename() between two names of one inode does nothing: drop the temp name
                if os.path.lexists(tmp):
                    os.unlink(tmp)
            self._working = kind
            return kind
        if self._working:
            # The remembered type stopped working (another file system?): try them all again.
            self._working = None
            return self.materialize(obj_path, dst)
        raise OSError(errno.EOPNOTSUPP, f"no link type of {','.join(self.types)} works for {dst}: {last}")


def parse_types(value: str | None) -> tuple[str, ...]:
    if not value:
        return DEFAULT_TYPES
    return tuple(t.strip() for t in value.split(",") if t.strip())


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b) and not os.path.islink(b)
    except OSError:
        return False
