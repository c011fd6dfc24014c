"""Reading snapshots back from a target: by id or unique prefix, with their manifests."""

from __future__ import annotations

from labvault.backup.manifest import Entry, SnapshotDoc, decode_manifest, decode_snapshot
from labvault.backup.target import Target
from labvault.core.hashing import md5_bytes
from labvault.errors import CacheError, UsageError


def resolve(target: Target, ref: str, ids: list[str] | None = None) -> str:
    """The snapshot id ``ref`` names: an id, a unique prefix of one, or ``latest``."""
    ids = target.snapshot_ids() if ids is None else ids
    if ref == "latest":
        if not ids:
            raise UsageError(f"no snapshots on {target.describe()}", "make one with `labvault backup run`")
        return ids[-1]
    matches = [i for i in ids if i.startswith(ref)] if ref else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UsageError(f"no snapshot {ref!r} on {target.describe()}", "list them with `labvault backup list`")
    raise UsageError(f"{ref!r} names {len(matches)} snapshots", "give more of the id (see `labvault backup list`)")


def load_snapshot(target: Target, sid: str) -> SnapshotDoc:
    try:
        data = target.read_snapshot_bytes(sid)
    except FileNotFoundError:
        raise UsageError(f"snapshot {sid} is gone from {target.describe()}", "list them with `labvault backup list`") from None
    return decode_snapshot(data, f"snapshot {sid}")


def load_manifest(target: Target, doc: SnapshotDoc) -> list[Entry]:
    """The snapshot's entries; CacheError (exit 3) when the manifest object is missing or damaged."""
    try:
        data = target.read_object(doc.manifest_md5)
    except FileNotFoundError:
        raise CacheError(f"the manifest of snapshot {doc.id} ({doc.manifest_md5}) is missing from the target",
                         "run `labvault backup check`; the snapshot cannot be restored") from None
    if md5_bytes(data) != doc.manifest_md5:
        raise CacheError(f"the manifest of snapshot {doc.id} ({doc.manifest_md5}) is corrupt on the target",
                         "run `labvault backup check`; the snapshot cannot be restored")
    return decode_manifest(data, f"manifest of snapshot {doc.id}")
