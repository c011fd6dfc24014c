"""Archive restores: objects in S3 GLACIER or DEEP_ARCHIVE must be restored before they can be read.

:func:`readiness` asks S3 about each object of a unit (a HEAD: ``StorageClass`` and the
``x-amz-restore`` header) and, when asked to, requests the restore of those not yet restored and
with no request in progress (``RestoreObject`` with ``Days`` and the ``Standard`` retrieval
tier). States per object: *ready* (not archived, or ``ongoing-request="false"``: a restored copy
can be read), *ongoing* (``ongoing-request="true"``, or S3 answered
``RestoreAlreadyInProgress``), *requested* (this call asked). Nothing is cached: every call asks.

GCS Archive objects are readable directly (only retrieval fees), so there is nothing to restore.
Azure Archive: labvault does not set blob tiers (objects take the account's default), so it has
nothing to rehydrate; a blob archived by a lifecycle policy fails to download with one line.
"""

from __future__ import annotations

from dataclasses import dataclass

from labvault.errors import RestorePendingError
from labvault.remotes import archive
from labvault.remotes.archive import RESTORE_DAYS, S3_ARCHIVED
from labvault.remotes.classes import canonical_class
from labvault.tiers.bucket import Manifest, object_key
from labvault.tiers.lab import Tier
from labvault.tiers.objects import TierObjects

__all__ = ["Readiness", "RestorePendingError", "hours", "needs_restore", "pending_line", "readiness"]


@dataclass(frozen=True)
class Readiness:
    total: int
    ready: int
    ongoing: int
    requested: int

    @property
    def all_ready(self) -> bool:
        return self.ready == self.total


def needs_restore(tier: Tier) -> bool:
    """Whether reading from ``tier`` may need a restore (an S3 archive class)."""
    return (tier.scheme == "s3" and tier.storage_class is not None
            and canonical_class(tier.storage_class, "s3") in S3_ARCHIVED)


def hours(tier: Tier) -> float:
    if tier.retrieval_hours > 0:
        return tier.retrieval_hours
    return archive.retrieval_hours(canonical_class(tier.storage_class or "", "s3"))


def readiness(store: TierObjects, manifest: Manifest, request: bool, days: int = RESTORE_DAYS) -> Readiness:
    """Ask S3 about each object of ``manifest``; with ``request``, ask for the restore of those
    neither readable nor being restored."""
    objects = sorted(manifest.objects())
    ready = ongoing = requested = 0
    for md5 in objects:
        info = store.head(md5)
        if info is None:
            raise FileNotFoundError(store.backend.describe(object_key(md5)))
        now = archive.state(info)
        if now == "ready":
            ready += 1
        elif now == "ongoing":
            ongoing += 1
        elif not request:
            continue
        elif archive.request_restore(store.fs, *store.bucket_key(object_key(md5)), days):
            requested += 1
        else:
            ongoing += 1
    return Readiness(len(objects), ready, ongoing, requested)


def pending_line(name: str, tier: Tier, r: Readiness) -> str:
    """The one line said when a unit cannot be read yet."""
    h = hours(tier)
    if r.requested:
        head = f"restore requested for {name} ({r.total - r.ready} objects), ready in about {h:g} h"
    else:
        head = (f"restore of {name} already in progress ({r.ready} of {r.total} objects ready), "
                f"ready within about {h:g} h of the request")
    return f"{head}; run `labvault promote {name} --wait` or try again later"
