"""The objects of a bucket tier (``files/md5/XX/REST``): send one with the tier's storage class
and have the store check its bytes, confirm one is there intact, fetch one, delete one.

S3 (the uploads of ``labvault.remotes.archive``): each request carries ``Content-MD5``, so S3
itself refuses a body that does not hash to what was read from the source; the object is written
with ``StorageClass`` set to the tier's class. An object counts as present when a HEAD shows the
expected size, the tier's class, and the ETag S3 computes for such an upload: that ETag is S3's
own digest of the stored bytes. Objects whose ETag is not of that form (another client's part
size, SSE-KMS) are sent again.

GCS and Azure (no per-object class set here: objects take the bucket's default class, see
docs/design.md): the object is sent through the remotes layer, then its size is checked and its
md5 taken from the store's metadata (GCS ``md5Hash``); where the store keeps none, the object is
read back and hashed.
"""

from __future__ import annotations

import base64
import os
import tempfile
from typing import Any

from labvault.remotes import archive
from labvault.remotes.base import Backend
from labvault.remotes.registry import open_backend
from labvault.tiers.bucket import object_key
from labvault.tiers.lab import Tier


def open_tier(tier: Tier) -> Backend:
    return open_backend(str(tier.url))


class TierObjects:
    """Object operations on one bucket tier."""

    def __init__(self, tier: Tier, backend: Backend | None = None) -> None:
        self.tier = tier
        self.backend = backend or open_tier(tier)
        self.fs: Any
        self.fs, self.root = archive.filesystem(self.backend)
        self.s3 = tier.scheme == "s3" and archive.is_s3(self.fs)
        self.storage_class = tier.storage_class.upper() if tier.storage_class and self.s3 else None

    def bucket_key(self, key: str) -> tuple[str, str]:
        bucket, _, path = f"{self.root}/{key}".partition("/")
        return bucket, path

    def head(self, md5: str) -> dict[str, Any] | None:
        """S3 HEAD of the object (None when absent)."""
        return archive.head(self.fs, *self.bucket_key(object_key(md5)))

    def intact(self, md5: str, size: int, local: str | None = None) -> bool:
        """Whether the object is on the tier with this size and these bytes (see the module doc)."""
        if self.s3:
            info = self.head(md5)
            if info is None or int(info.get("ContentLength", -1)) != size:
                return False
            if self.storage_class and str(info.get("StorageClass") or "STANDARD").upper() != self.storage_class:
                return False
            return str(info.get("ETag", "")).strip('"') in archive.etags(md5, size, local)
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
        archive.put(self.fs, *self.bucket_key(object_key(md5)), local, size, self.storage_class)

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
