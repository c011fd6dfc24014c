"""Backup targets in a cold storage class: archive restores before reading, minimum durations
before deleting.

* :func:`ensure_readable`: before ``restore``, ``drill`` or ``check --read-data`` reads objects
  from an S3 target in GLACIER or DEEP_ARCHIVE, each object is asked about (a HEAD) and the
  restore of those neither readable nor being restored is requested (``RestoreObject``). Without
  ``wait`` a pending restore is one line, exit 10 ("restore requested for N objects of snapshot S,
  ready in about H h"); with ``wait`` the objects are asked about again every ``poll_seconds``.
  Manifests and snapshot files are in the default class, so they are always readable.
* :func:`young`: an unused object that ``prune`` would delete before its class's minimum storage
  duration (since it was written: S3 ``LastModified``, GCS ``updated``, Azure ``last_modified``)
  is kept unless ``allow_early``; the plan counts them and the early-deletion fee (the storage
  still owed at the policy's ``price_per_gb_month``) avoided or paid. The class is the object's
  own on S3 (manifests are STANDARD: no minimum) and the configured class elsewhere (GCS and
  Azure objects take the bucket's default class). An object whose age cannot be told is young.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from labvault.backup.target import Target
from labvault.progress import NULL_PROGRESS, Progress
from labvault.remotes import archive
from labvault.remotes.classes import min_storage_days
from labvault.remotes.store import key_of

DAY = 86400.0


def archived(target: Target) -> bool:
    """Whether reading the target's objects may need a restore (S3 GLACIER or DEEP_ARCHIVE)."""
    return target.s3 and target.storage_class in archive.S3_ARCHIVED


def _head(target: Target, oid: str) -> dict[str, Any] | None:
    return archive.head(target.fs, *archive.split(target.root, key_of(oid)))


def pending(target: Target, oids: Iterable[str], what: str) -> tuple[str | None, int, int]:
    """Ask about each object, request the restores needed; (the pending line or None, ready, total).
    Missing objects count as ready here: reading them reports them missing."""
    objects = sorted(set(oids))
    ready = ongoing = requested = 0
    for oid in objects:
        info = _head(target, oid)
        now = "ready" if info is None else archive.state(info)
        if now == "ready":
            ready += 1
        elif now == "ongoing" or not archive.request_restore(target.fs, *archive.split(target.root, key_of(oid))):
            ongoing += 1
        else:
            requested += 1
    if ready == len(objects):
        return None, ready, len(objects)
    hours = archive.retrieval_hours(target.storage_class)
    if requested:
        line = (f"restore requested for {len(objects) - ready} objects of {what} from {target.storage_class}, "
                f"ready in about {hours:g} h")
    else:
        line = (f"restore of {what} already in progress ({ready} of {len(objects)} objects ready), "
                f"ready within about {hours:g} h of the request")
    return line, ready, len(objects)


def ensure_readable(target: Target, oids: Iterable[str], what: str, again: str, wait: bool = False,
                    timeout: float | None = None, poll_seconds: float = 300.0,
                    progress: Progress = NULL_PROGRESS) -> None:
    """Return once every object in ``oids`` can be read (see the module doc); ``again`` is the
    command that waits, named in the line."""
    if not archived(target):
        return
    wanted = sorted(set(oids))

    def poll() -> tuple[str | None, int, int]:
        line, ready, total = pending(target, wanted, what)
        return (None if line is None else f"{line}; run `{again} --wait` or try again later"), ready, total

    archive.wait_ready(poll, what, wait, timeout, poll_seconds, progress, f"`{again} --wait`")


def young(target: Target, objects: dict[str, int], now: datetime) -> dict[str, float]:
    """The objects (md5 -> size) still inside their class's minimum storage duration, with the
    days left (empty for a folder target or a class without one)."""
    if target.storage_class is None or min_storage_days(target.storage_class, target.scheme) <= 0:
        return {}
    out: dict[str, float] = {}
    for oid in sorted(objects):
        if target.s3:
            info = _head(target, oid)
            if info is None:
                continue
            sclass = str(info.get("StorageClass") or "STANDARD")
        else:
            try:
                info = target.fs.info(f"{target.root}/{key_of(oid)}")
            except FileNotFoundError:
                continue
            sclass = target.storage_class
        days = min_storage_days(sclass, target.scheme)
        if days <= 0:
            continue
        since = archive.stored_since(info)
        left = float(days) if since is None else days - (now - since).total_seconds() / DAY
        if left > 0:
            out[oid] = left
    return out
