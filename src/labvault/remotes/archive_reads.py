"""Reading objects that sit in an S3 archive class (GLACIER, DEEP_ARCHIVE) from a remote.

S3 refuses a GET of such an object (``InvalidObjectState``) until a restore made a readable copy.
Every reader of a remote (``labvault.open``/``read``, ``get``, ``pull``/``fetch``,
``StreamingDataset``) goes through :func:`restore_or_pending` when that happens: one HEAD reads the
``x-amz-restore`` header; with no restore in progress, the restore is requested
(:func:`labvault.remotes.archive.request_restore`, the call tiers and backups use). Either way the
read stops with :class:`ArchivedObject` (a ``RestorePendingError``, exit 10) and one line:
"restore requested for URL (CLASS), ready in about N h", or "restore of URL (CLASS) already in
progress" while a request is pending (a second read never sends a second request). Nothing is
remembered locally: S3's header is the only state.

GCS archive classes (NEARLINE, COLDLINE, ARCHIVE) are readable at once (retrieval fees only).
Azure's Archive tier needs a rehydration (Set Blob Tier back to Hot or Cool, with a rehydrate
priority); labvault does not issue it: Azurite, the emulator the tests run against, does not model
rehydration (setting an archived blob back to Hot takes effect at once, with no
``rehydrate-pending-to-hot`` archive status), so no rehydration path could be tested.
"""

from __future__ import annotations

from typing import Any

from labvault.errors import RestorePendingError
from labvault.remotes import archive


def is_archived_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) is S3's refusal to read an archived object."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if "InvalidObjectState" in f"{type(seen).__name__} {seen!r}":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def unreadable(fs: Any, path: str, details: dict[str, Any]) -> bool:
    """Whether an S3 object (``details``: the HEAD s3fs made on open) is archived with no restored
    copy; asks S3 again only when the class is an archive one."""
    if str(details.get("StorageClass") or "").upper() not in archive.S3_ARCHIVED:
        return False
    info = archive.head(fs, *path.split("/", 1))
    return info is not None and archive.state(info) != "ready"


class ArchivedObject(RestorePendingError):
    """A read refused because the object is archived; says whether this read requested the restore."""

    def __init__(self, what: str, sclass: str, hours: float, requested: bool) -> None:
        self.what, self.sclass, self.hours, self.requested = what, sclass, hours, requested
        if requested:
            head = f"restore requested for {what} ({sclass}), ready in about {hours:g} h"
        else:
            head = f"restore of {what} ({sclass}) already in progress, ready within about {hours:g} h of the request"
        super().__init__(head, "try again later")


def combined(errors: list[ArchivedObject]) -> RestorePendingError:
    """One error for a transfer that met several archived objects (each got its request)."""
    if len(errors) == 1:
        return errors[0]
    asked = sum(e.requested for e in errors)
    hours = max(e.hours for e in errors)
    return RestorePendingError(
        f"{len(errors)} archived objects: restore requested for {asked}, already in progress for "
        f"{len(errors) - asked} (first: {errors[0].what}), ready in about {hours:g} h", "try again later")


def restore_or_pending(fs: Any, path: str, what: str) -> ArchivedObject:
    """Called after a read of ``path`` ("bucket/key") was refused as archived: request the restore
    unless one is in progress, and return the error to raise (``what`` names the object)."""
    bucket, key = path.split("/", 1)
    info = archive.head(fs, bucket, key) or {}
    sclass = str(info.get("StorageClass") or "GLACIER").upper()
    asked = archive.state(info) == "archived" and archive.request_restore(fs, bucket, key)
    return ArchivedObject(what, sclass, archive.retrieval_hours(sclass), asked)
