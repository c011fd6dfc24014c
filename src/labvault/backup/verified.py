"""Verification records of labvault's own engine, on the target beside the snapshots.

``<target>/verified/<snapshot id>.json`` (``{"snapshot", "at", "how"}``, ``how`` one of ``drill``,
``restore``, ``check``) is written when a drill of that snapshot passed, a restore ``--verify`` of
the whole snapshot passed, or a ``check --read-data`` of the whole target passed. The record lives
on the target so that it travels with the snapshots it vouches for; ``forget`` reads it
(``keep_verified``) and deletes it with its snapshot. A record whose snapshot is gone means
nothing (a record never makes a snapshot appear). The restic engine keeps the same records as
sidecar snapshots (``restic_repo``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile

from labvault.backup.manifest import is_id
from labvault.backup.target import Target

PREFIX = "verified"


def _key(sid: str) -> str:
    return f"{PREFIX}/{sid}.json"


def record(target: Target, ids: list[str], how: str) -> None:
    stamp = dt.datetime.now(dt.timezone.utc).isoformat()
    with tempfile.TemporaryDirectory(prefix="labvault-backup-") as tmp:
        for sid in ids:
            local = os.path.join(tmp, "v.json")
            with open(local, "w") as f:
                json.dump({"snapshot": sid, "at": stamp, "how": how}, f)
            target.backend.put_file(local, _key(sid))


def verified_ids(target: Target) -> set[str]:
    try:
        keys = [k for k, _ in target.backend.walk(PREFIX)]
    except FileNotFoundError:
        return set()
    ids = {k.rsplit("/", 1)[-1][: -len(".json")] for k in keys if k.endswith(".json")}
    return {i for i in ids if is_id(i)}


def forget(target: Target, sid: str) -> None:
    try:
        target.backend.delete(_key(sid))
    except FileNotFoundError:
        pass
