"""Local folders and NFS mounts, with plain system calls (no fsspec overhead on the hot path)."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator

from labvault.core.links import copy_file
from labvault.errors import RemoteError
from labvault.fsutil import is_tmp_name, tmp_name
from labvault.remotes.base import Backend, ByteCallback, Entry


class LocalBackend(Backend):
    scheme = "file"

    def __init__(self, url: str) -> None:
        path = url[len("file://") :] if url.startswith("file://") else url
        self.root = os.path.abspath(os.path.expanduser(path))
        super().__init__(self.root)
        self._made: set[str] = set()

    def _p(self, key: str) -> str:
        return os.path.join(self.root, key) if key else self.root

    def exists(self, key: str) -> bool:
        return os.path.exists(self._p(key))

    def size(self, key: str) -> int:
        return os.stat(self._p(key)).st_size

    def walk(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        top = self._p(prefix)
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                it = os.scandir(folder)
            except (FileNotFoundError, NotADirectoryError):
                continue
            with it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                    elif not is_tmp_name(e.name) and e.is_file():
                        try:
                            size = e.stat().st_size
                        except FileNotFoundError:
                            continue  # vanished, or a broken link: not an object
                        rel = os.path.relpath(e.path, self.root).replace(os.sep, "/")
                        yield rel, size

    def ls(self, prefix: str = "") -> list[Entry]:
        top = self._p(prefix)
        if os.path.isfile(top):
            return [Entry(os.path.basename(top), os.path.getsize(top), False)]
        try:
            with os.scandir(top) as it:
                entries = [
                    Entry(e.name, 0 if e.is_dir() else e.stat().st_size, e.is_dir())
                    for e in it
                    if not is_tmp_name(e.name)
                ]
        except FileNotFoundError:
            raise RemoteError(f"{self.describe(prefix)} does not exist", "check the path") from None
        return sorted(entries, key=lambda e: e.name)

    def _mkdir(self, folder: str) -> None:
        if folder in self._made:
            return
        os.makedirs(folder, exist_ok=True)
        self._made.add(folder)

    def put_file(self, local: str, key: str, callback: ByteCallback | None = None) -> None:
        dst = self._p(key)
        self._mkdir(os.path.dirname(dst))
        tmp = tmp_name(dst)
        try:
            copy_file(local, tmp, 0o444)
            os.replace(tmp, dst)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        if callback:
            callback(os.path.getsize(dst))

    def get_file(self, key: str, local: str, callback: ByteCallback | None = None) -> None:
        copy_file(self._p(key), local)
        if callback:
            callback(os.path.getsize(local))

    def delete(self, key: str) -> None:
        try:
            os.unlink(self._p(key))
        except FileNotFoundError:
            pass

    def check_writable_root(self) -> None:
        parent = os.path.dirname(self.root)
        if not os.path.isdir(self.root) and not os.path.isdir(parent):
            raise RemoteError(
                f"remote folder {self.root} does not exist and neither does its parent",
                "create it, or fix the remote's url with `labvault remote modify`",
            )
        try:
            os.makedirs(self.root, exist_ok=True)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise RemoteError(f"cannot write to remote folder {self.root}: {exc.strerror}") from None
            raise
