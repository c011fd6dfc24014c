"""Object storage through fsspec: ``s3://`` (s3fs), ``gs://`` (gcsfs), ``azure://`` (adlfs)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, BinaryIO

from labvault.errors import RemoteError
from labvault.remotes import archive
from labvault.remotes.archive_reads import (
    ArchivedObject,
    is_archived_error,
    restore_or_pending,
    unreadable,
)
from labvault.remotes.base import Backend, ByteCallback, Entry


class FsspecBackend(Backend):
    def __init__(self, url: str, fs: Any, root: str, scheme: str) -> None:
        super().__init__(url)
        self.fs = fs
        self.root = root.rstrip("/")  # "bucket/path" as fsspec names it
        self.scheme = scheme

    def _p(self, key: str) -> str:
        return f"{self.root}/{key}" if key else self.root

    def _rel(self, path: str) -> str:
        path = path.rstrip("/")
        if path == self.root:
            return ""
        return path[len(self.root) + 1 :] if path.startswith(self.root + "/") else path

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._p(key)))

    def open_read(self, key: str) -> BinaryIO:
        f: BinaryIO = self.fs.open(self._p(key), "rb")
        details = getattr(f, "details", None)  # s3fs reads the object's HEAD on open
        if self.scheme == "s3" and isinstance(details, dict) and unreadable(self.fs, self._p(key), details):
            f.close()
            raise self._pending(key)
        return f

    def object_url(self, key: str) -> str:
        return f"{self.scheme}://{self._p(key)}"

    def size(self, key: str) -> int:
        info = self.fs.info(self._p(key))
        if info.get("type") == "directory":
            raise FileNotFoundError(self._p(key))
        return int(info.get("size") or 0)

    def walk(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        try:
            found = self.fs.find(self._p(prefix), detail=True)
        except FileNotFoundError:
            return
        for path, info in found.items():
            if info.get("type") == "directory":
                continue
            yield self._rel(path), int(info.get("size") or 0)

    def checksums(self, key: str) -> tuple[bool, list[tuple[str, int, str]]]:
        """What is at ``key`` now, with the checksum the storage reports (the ETag, unquoted):
        (False, [("", size, etag)]) for an object, (True, [(relpath, size, etag), ...]) for the
        objects below a prefix. Never from a listing cache. FileNotFoundError when neither."""
        self.invalidate()
        path = self._p(key)
        try:
            info = self.fs.info(path)
        except FileNotFoundError:
            info = None
        if info is not None and info.get("type") != "directory":
            return False, [("", int(info.get("size") or 0), _etag(info, path))]
        try:
            found = self.fs.find(path, detail=True)
        except FileNotFoundError:
            found = {}
        files = []
        for name, item in found.items():
            rel = self._rel(name)
            rel = rel[len(key) + 1:] if key else rel
            if item.get("type") == "directory" or not rel or name.endswith("/"):
                continue  # folder markers
            files.append((rel, int(item.get("size") or 0), _etag(item, name)))
        if not files:
            raise FileNotFoundError(path)
        return True, sorted(files)

    def ls(self, prefix: str = "") -> list[Entry]:
        path = self._p(prefix)
        try:
            items = self.fs.ls(path, detail=True)
        except FileNotFoundError:
            raise RemoteError(f"{self.describe(prefix)} does not exist", "check the path") from None
        out = []
        for info in items:
            name = info["name"].rstrip("/").rsplit("/", 1)[-1]
            is_dir = info.get("type") == "directory"
            if info["name"].rstrip("/") == path.rstrip("/") and not is_dir:
                return [Entry(name, int(info.get("size") or 0), False)]
            out.append(Entry(name, 0 if is_dir else int(info.get("size") or 0), is_dir))
        return sorted(out, key=lambda e: e.name)

    def put_file(self, local: str, key: str, callback: ByteCallback | None = None) -> None:
        # A single PUT, or a multipart upload completed only at the end: never a partial object.
        # The bytes stored are checked against the bytes read (docs/design.md, "Uploads are
        # checked"): S3 by Content-MD5 and the ETag it answers, GCS by the md5 it answers (compared
        # by gcsfs), Azure by the Content-MD5 of each request.
        path = self._p(key)
        told = _Told(callback)
        if self.scheme == "s3":
            bucket, _, in_bucket = path.partition("/")
            try:
                archive.put(self.fs, bucket, in_bucket, local, os.path.getsize(local), None,
                            told if callback else None)
            finally:
                self.fs.invalidate_cache(path)
        elif self.scheme == "gs":
            self._put_checked_gs(local, path, told.fsspec())
        elif self.scheme == "azure":
            self.fs.put_file(local, path, validate_content=True, callback=told.fsspec())
        else:
            self.fs.put_file(local, path, callback=told.fsspec())
        told.finish(os.path.getsize(local))

    def _put_checked_gs(self, local: str, path: str, callback: Any) -> None:
        from gcsfs.retry import ChecksumError  # type: ignore[import-untyped]

        try:
            self.fs.put_file(local, path, consistency="md5", callback=callback)
        except ChecksumError:
            try:  # the object holds other bytes than were sent: it must not stay under its name
                self.fs.rm_file(path)
            except FileNotFoundError:
                pass
            raise archive.damaged_upload(f"{self.scheme}://{path}", local) from None

    def get_file(self, key: str, local: str, callback: ByteCallback | None = None) -> None:
        told = _Told(callback)
        try:
            self.fs.get_file(self._p(key), local, callback=told.fsspec())
        except Exception as exc:
            if self.scheme == "s3" and is_archived_error(exc):
                raise self._pending(key) from None
            raise
        told.finish(os.path.getsize(local))

    def _pending(self, key: str) -> ArchivedObject:
        return restore_or_pending(self.fs, self._p(key), self.object_url(key))

    def delete(self, key: str) -> None:
        try:
            self.fs.rm_file(self._p(key))
        except FileNotFoundError:
            pass

    def check_writable_root(self) -> None:
        bucket = self.root.split("/", 1)[0]
        try:
            # ls, unlike exists, lets an access error through instead of calling it "missing"
            self.fs.ls(bucket, detail=False)
        except FileNotFoundError:
            raise RemoteError(
                f"bucket {self.scheme}://{bucket} does not exist", "create it first, or fix the remote's url"
            ) from None

    def clean_leftovers(self, prefixes: list[str], now: float) -> int:
        """S3: abort the multipart uploads under the remote's root begun more than
        ``MULTIPART_AGE`` ago (one listing request, one per abort). GCS resumable uploads and
        Azure uncommitted blocks expire by themselves within a week, and neither is an object."""
        if self.scheme != "s3":
            return 0
        from labvault.remotes.leftovers import MULTIPART_AGE
        from labvault.remotes.store import ref_of

        bucket, _, path = self.root.partition("/")
        prefix = f"{path}/" if path else ""
        aborted = 0
        marker: dict[str, str] = {}
        try:
            for _page in range(100):
                out = self.fs.call_s3("list_multipart_uploads", Bucket=bucket, Prefix=prefix, **marker)
                for upload in out.get("Uploads", []) or []:
                    started = upload.get("Initiated")
                    if started is None or now - started.timestamp() <= MULTIPART_AGE:
                        continue
                    if ref_of(str(upload["Key"])[len(prefix) :]) is None:
                        continue  # not an object of this remote's layout: not ours to judge
                    self.fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                    aborted += 1
                if not out.get("IsTruncated"):
                    break
                marker = {"KeyMarker": out.get("NextKeyMarker", ""), "UploadIdMarker": out.get("NextUploadIdMarker", "")}
        except Exception:
            # Housekeeping only: a server without multipart listing, or credentials without the
            # right to list or abort uploads, must not stop a push.
            pass
        return aborted

    def invalidate(self) -> None:
        try:
            self.fs.invalidate_cache()
        except Exception:
            pass


def _etag(info: dict[str, Any], path: str) -> str:
    value = info.get("ETag") or info.get("etag")
    if not isinstance(value, str) or not value.strip('"'):
        raise RemoteError(f"{path}: the storage reports no ETag for it", "import it with `labvault get-url` instead")
    return value.strip('"')


class _Told:
    """Passes bytes on to a ``ByteCallback`` as they go, never more than the file holds: within one
    call, a progress report that goes back (parallel blocks, a retried request) adds nothing."""

    def __init__(self, callback: ByteCallback | None) -> None:
        self.callback = callback
        self.sent = 0

    def __call__(self, n: int) -> None:
        if self.callback is not None and n > 0:
            self.sent += n
            self.callback(n)

    def upto(self, value: int) -> None:
        """The transfer has reached ``value`` bytes (an absolute position)."""
        self(value - self.sent)

    def finish(self, size: int) -> None:
        self(size - self.sent)

    def fsspec(self) -> Any:
        """An fsspec callback reporting to this one (fsspec's no-op one without a callback)."""
        from fsspec.callbacks import DEFAULT_CALLBACK, Callback  # type: ignore[import-untyped]

        if self.callback is None:
            return DEFAULT_CALLBACK

        told = self

        class _Forward(Callback):  # type: ignore[misc]
            def call(self, *args: Any, **kwargs: Any) -> None:
                told.upto(int(self.value or 0))

        return _Forward()
