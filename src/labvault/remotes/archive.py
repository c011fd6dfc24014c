"""Objects in a storage class, shared by bucket tiers and backup targets: S3 uploads with a class
and ``Content-MD5``, the ETag S3 gives such uploads, archive restores, and an object's age.

S3: each request carries ``Content-MD5`` (one PUT up to :data:`PART` bytes, else a multipart
upload with each part's md5), so S3 itself refuses a body that does not hash to what was read
(``BadDigest``); the object gets ``StorageClass`` when one is given. Objects in GLACIER or
DEEP_ARCHIVE must be restored before a GET succeeds (``InvalidObjectState``): a HEAD's
``x-amz-restore`` header says whether a restore is in progress (``ongoing-request="true"``) or
done (``ongoing-request="false"``), and ``RestoreObject`` (``Days``, ``Standard`` retrieval)
asks for one. Nothing is cached: every call asks S3.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from labvault.errors import RemoteError, RestorePendingError
from labvault.progress import Progress
from labvault.remotes.base import Backend

PART = 64 << 20
S3_ARCHIVED = frozenset({"GLACIER", "DEEP_ARCHIVE"})
RESTORE_DAYS = 7
HOURS = {"GLACIER": 5.0, "DEEP_ARCHIVE": 12.0}  # S3's Standard retrieval: 3-5 h, within 12 h


def filesystem(backend: Backend) -> tuple[Any, str]:
    """The fsspec file system under ``backend`` (None for a folder) and the backend's root path."""
    inner = getattr(backend, "inner", backend)
    return getattr(inner, "fs", None), str(getattr(inner, "root", ""))


def is_s3(fs: Any) -> bool:
    return fs is not None and hasattr(fs, "call_s3")


def split(root: str, key: str) -> tuple[str, str]:
    """(bucket, key in the bucket) of ``key`` under the backend root ``root``."""
    bucket, _, path = f"{root}/{key}".partition("/")
    return bucket, path


def head(fs: Any, bucket: str, key: str) -> dict[str, Any] | None:
    """S3 HEAD of the object (None when absent)."""
    try:
        out: dict[str, Any] = fs.call_s3("head_object", Bucket=bucket, Key=key)
    except FileNotFoundError:
        return None
    return out


def put(fs: Any, bucket: str, key: str, local: str, size: int, storage_class: str | None,
        advance: Callable[[int], None] | None = None) -> None:
    """Send the file ``local`` of ``size`` bytes to S3, checked by S3 against each body's md5 and
    by labvault against the ETag S3 answers (see :func:`_check_stored`): a server that does not
    check ``Content-MD5`` cannot keep other bytes either. ``advance(n)``: after each PUT or part."""
    extra = {"StorageClass": storage_class} if storage_class else {}
    url = f"s3://{bucket}/{key}"
    if size <= PART:
        with open(local, "rb") as f:
            body = f.read()
        digest = hashlib.md5(body, usedforsecurity=False)
        out = _send(fs, url, local, "put_object", Bucket=bucket, Key=key, Body=body, ContentMD5=_b64(digest),
                    **extra)
        try:
            _check_stored(out, digest.hexdigest(), url, local)
        except RemoteError:
            fs.call_s3("delete_object", Bucket=bucket, Key=key)
            raise
        if advance is not None:
            advance(len(body))
        return
    up = fs.call_s3("create_multipart_upload", Bucket=bucket, Key=key, **extra)
    try:
        parts = []
        with open(local, "rb") as f:
            n = 1
            while body := f.read(PART):
                digest = hashlib.md5(body, usedforsecurity=False)
                out = _send(fs, url, local, "upload_part", Bucket=bucket, Key=key, UploadId=up["UploadId"],
                            PartNumber=n, Body=body, ContentMD5=_b64(digest))
                _check_stored(out, digest.hexdigest(), url, local)
                parts.append({"PartNumber": n, "ETag": out["ETag"]})
                n += 1
                if advance is not None:
                    advance(len(body))
        fs.call_s3("complete_multipart_upload", Bucket=bucket, Key=key, UploadId=up["UploadId"],
                   MultipartUpload={"Parts": parts})
    except BaseException:
        try:
            fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=up["UploadId"])
        except Exception:
            pass
        raise


def damaged_upload(url: str, local: str) -> RemoteError:
    """The error of an upload the storage stored with other bytes than ``local`` holds."""
    return RemoteError(f"{url} arrived with other bytes than {local} holds (the md5 the storage computed "
                       "differs); it was not kept", "retry; if it happens again, the storage or a proxy on the way "
                       "alters uploads")


def _send(fs: Any, url: str, local: str, op: str, **kwargs: Any) -> dict[str, Any]:
    """One S3 request with a body; S3's refusal of the body's ``Content-MD5`` is a damaged upload."""
    try:
        out: dict[str, Any] = fs.call_s3(op, **kwargs)
        return out
    except Exception as exc:
        if any(code in str(exc) for code in ("BadDigest", "InvalidDigest")):
            raise damaged_upload(url, local) from None
        raise


def _check_stored(out: dict[str, Any], md5: str, url: str, local: str) -> None:
    """Raise unless the ETag S3 answered for one PUT or part is the md5 of the body sent. Compared
    only for objects stored unencrypted: under encryption some S3 implementations give another
    ETag (SSE-KMS and SSE-C on S3 itself; any server-side encryption on some compatible stores),
    and every one of those checks ``Content-MD5``. An ETag that is not 32 hex digits is not
    compared either."""
    if out.get("SSECustomerAlgorithm") or out.get("ServerSideEncryption"):
        return
    etag = str(out.get("ETag", "")).strip('"').lower()
    if len(etag) == 32 and all(c in "0123456789abcdef" for c in etag) and etag != md5:
        raise damaged_upload(url, local)


def etags(md5: str, size: int, local: str | None) -> set[str]:
    """The ETags S3 gives an object of these bytes sent by :func:`put` (the md5 for one PUT,
    ``md5(part md5s)-N`` for N parts of :data:`PART` bytes)."""
    if size <= PART:
        return {md5}
    if local is None:
        return set()
    digests = b""
    n = 0
    with open(local, "rb") as f:
        while block := f.read(PART):
            digests += hashlib.md5(block).digest()
            n += 1
    return {f"{hashlib.md5(digests).hexdigest()}-{n}"}


def state(info: dict[str, Any]) -> str:
    """``ready`` (not archived, or a restored copy can be read), ``ongoing`` (a restore is in
    progress) or ``archived`` (nothing asked yet), from an S3 HEAD."""
    sclass = str(info.get("StorageClass") or "STANDARD").upper()
    header = str(info.get("Restore") or "")
    if sclass not in S3_ARCHIVED or 'ongoing-request="false"' in header:
        return "ready"
    return "ongoing" if 'ongoing-request="true"' in header else "archived"


def request_restore(fs: Any, bucket: str, key: str, days: int = RESTORE_DAYS) -> bool:
    """Ask S3 to restore the object for ``days``; False when it says one is in progress already."""
    try:
        fs.call_s3("restore_object", Bucket=bucket, Key=key,
                   RestoreRequest={"Days": days, "GlacierJobParameters": {"Tier": "Standard"}})
    except Exception as exc:
        if "RestoreAlreadyInProgress" in f"{exc!r}{getattr(exc, '__cause__', '')!r}":
            return False
        raise
    return True


def retrieval_hours(storage_class: str | None) -> float:
    return HOURS.get((storage_class or "").upper(), 5.0)


def stored_since(info: dict[str, Any]) -> datetime | None:
    """When the object was written (its storage class's billing clock), from an fsspec ``info``
    or S3 HEAD: S3 ``LastModified``, GCS ``updated``, Azure ``last_modified``; None when unknown."""
    for key in ("LastModified", "updated", "last_modified", "mtime"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if isinstance(value, str) and value:
            try:
                t = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
    return None


def wait_ready(poll: Callable[[], tuple[str | None, int, int]], name: str, wait: bool, timeout: float | None,
               poll_seconds: float, progress: Progress, again: str,
               sleep: Callable[[float], None] = time.sleep) -> None:
    """Return once ``poll()`` (which requests what restores are needed) says every object can be
    read: it gives (the one line saying what is pending, or None; objects ready; objects). Without
    ``wait`` a pending restore raises :class:`RestorePendingError` (exit 10) with that line; with
    it, ``poll`` is called again every ``poll_seconds`` until ``timeout``."""
    started = time.monotonic()
    said = False
    while True:
        line, ready, total = poll()
        if line is None:
            return
        if not wait:
            raise RestorePendingError(line)
        if not said:
            progress.message(line.split(";")[0])
            said = True
        progress.message(f"waiting for the restore of {name}: {ready} of {total} objects ready")
        waited = time.monotonic() - started
        if timeout is not None and waited >= timeout:
            raise RestorePendingError(f"restore of {name} not finished after {waited:.0f} s "
                                      f"({ready} of {total} objects ready)", f"run {again} again later")
        sleep(poll_seconds if timeout is None else max(0.0, min(poll_seconds, timeout - waited)))


def _b64(digest: Any) -> str:
    return base64.b64encode(digest.digest()).decode()
