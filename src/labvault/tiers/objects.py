"""The objects of a bucket tier (``files/md5/XX/REST``): send one with the tier's storage class
and have the store check its bytes, confirm one is there intact, fetch one, delete one.

S3: each request carries ``Content-MD5`` (one PUT up to :data:`PART` bytes, else a multipart
upload with each part's md5), so S3 itself refuses a body that does not hash to what was read
from the source (``BadDigest``); the object is written with ``StorageClass`` set to the tier's
class. An object counts as present when a HEAD shows the expected size, the tier's class, and
the ETag S3 computes for such an upload (the md5 for one PUT, ``md5(part md5s)-N`` for N parts of
:data:`PART` bytes): that ETag is S3's own digest of the stored bytes. Objects whose ETag is not of
that form (another client's part size, SSE-KMS) are sent again.

GCS and Azure (no per-object class set here: objects take the bucket's default class, see
docs/design.md): the object is sent through the remotes layer, then its size is checked and its
md5 taken from the store's metadata (GCS ``md5Hash``); where the store keeps none, the object is
read back and hashed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from typing import Any

from labvault.remotes.base import Backend
from labvault.remotes.registry import open_backend
from labvault.tiers.bucket import object_key
from labvault.tiers.lab import Tier

PART = 64 << 20


def open_tier(tier: Tier) -> Backend:
    return open_backend(str(tier.url))


def _inner(backend: Backend) -> Any:
    return getattr(backend, "inner", backend)


class TierObjects:
    """Object operations on one bucket tier."""

    def __init__(self, tier: Tier, backend: Backend | None = None) -> None:
        self.tier = tier
        self.backend = backend or open_tier(tier)
        inner = _inner(self.backend)
        self.fs: Any = getattr(inner, "fs", None)
        self.root: str = getattr(inner, "root", "")
        self.s3 = tier.scheme == "s3" and self.fs is not None and hasattr(self.fs, "call_s3")
        self.storage_class = tier.storage_class.upper() if tier.storage_class and self.s3 else None

    def bucket_key(self, key: str) -> tuple[str, str]:
        bucket, _, path = f"{self.root}/{key}".partition("/")
        return bucket, path

    def head(self, md5: str) -> dict[str, Any] | None:
        """S3 HEAD of the object (None when absent)."""
        bucket, key = self.bucket_key(object_key(md5))
        try:
            out: dict[str, Any] = self.fs.call_s3("head_object", Bucket=bucket, Key=key)
        except FileNotFoundError:
            return None
        return out

    def intact(self, md5: str, size: int, local: str | None = None) -> bool:
        """Whether the object is on the tier with this size and these bytes (see the module doc)."""
        if self.s3:
            info = self.head(md5)
            if info is None or int(info.get("ContentLength", -1)) != size:
                return False
            if self.storage_class and str(info.get("StorageClass") or "STANDARD").upper() != self.storage_class:
                return False
            return str(info.get("ETag", "")).strip('"') in _etags(md5, size, local)
        key = object_key(md5)
        try:
            if self.backend.size(key) != size:
                return False
        except FileNotFoundError:
            return False
        stored = self._stored_md5(key)
        if stored is not None:
            return stored == md5
        return self._read_back(key) == md5

    def present(self, md5: str, size: int) -> bool:
        """Whether an object of that size is there (recovery's check: its bytes were verified
        before the switch)."""
        try:
            return self.backend.size(object_key(md5)) == size
        except FileNotFoundError:
            return False

    def put(self, local: str, md5: str, size: int) -> None:
        """Send ``local`` (whose md5 is ``md5``) unless it is there intact already."""
        if self.intact(md5, size, local):
            return
        if not self.s3:
            self.backend.put_file(local, object_key(md5))
            return
        bucket, key = self.bucket_key(object_key(md5))
        extra = {"StorageClass": self.storage_class} if self.storage_class else {}
        if size <= PART:
            with open(local, "rb") as f:
                body = f.read()
            self.fs.call_s3("put_object", Bucket=bucket, Key=key, Body=body, ContentMD5=_b64(body), **extra)
            return
        up = self.fs.call_s3("create_multipart_upload", Bucket=bucket, Key=key, **extra)
        try:
            parts = []
            with open(local, "rb") as f:
                n = 1
                while body := f.read(PART):
                    out = self.fs.call_s3("upload_part", Bucket=bucket, Key=key, UploadId=up["UploadId"],
                                          PartNumber=n, Body=body, ContentMD5=_b64(body))
                    parts.append({"PartNumber": n, "ETag": out["ETag"]})
                    n += 1
            self.fs.call_s3("complete_multipart_upload", Bucket=bucket, Key=key, UploadId=up["UploadId"],
                            MultipartUpload={"Parts": parts})
        except BaseException:
            try:
                self.fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=up["UploadId"])
            except Exception:
                pass
            raise

    def get(self, md5: str, local: str) -> tuple[str, int]:
        """Download the object to the new file ``local``; (md5, size) of what was written."""
        return self.backend.get_hashed(object_key(md5), local)

    def delete(self, md5: str) -> None:
        self.backend.delete(object_key(md5))

    def _stored_md5(self, key: str) -> str | None:
        if self.fs is None:
            return None
        try:
            info = self.fs.info(f"{self.root}/{key}")
        except Exception:
            return None
        value = info.get("md5Hash")
        if isinstance(value, str) and value:
            return base64.b64decode(value).hex()
        content = info.get("content_settings") or {}
        raw = content.get("content_md5") if isinstance(content, dict) else None
        return bytes(raw).hex() if raw else None

    def _read_back(self, key: str) -> str | None:
        fd, tmp = tempfile.mkstemp(prefix=".lvobj-", suffix=".lvtmp")
        os.close(fd)
        os.unlink(tmp)
        try:
            return self.backend.get_hashed(key, tmp)[0]
        except FileNotFoundError:
            return None
        finally:
            if os.path.lexists(tmp):
                os.chmod(tmp, 0o600)
                os.unlink(tmp)


def _b64(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def _etags(md5: str, size: int, local: str | None) -> set[str]:
    """The ETags S3 gives an object of these bytes sent as this module sends it."""
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

