"""What a restic repository holds, as the restic engine sees it: labvault's snapshots and their sidecars.

A snapshot made by ``backup run`` carries the tag ``labvault-policy:<name>`` (plus the policy's
tags). Two kinds of sidecar snapshots (tiny, ``--stdin``) are linked to it by ``labvault-for:<id>``
tags: the manifest (``labvault-manifest``, ``restic_manifest.py``) and verification records
(``labvault-verified``, one sidecar may name several snapshots, e.g. after ``check --read-data``).
Sidecars are never shown as snapshots, never planned by retention, and forgotten with the last
snapshot they name. Sidecar tags also carry the run's totals (``labvault-files:N``,
``labvault-bytes:N``, ``labvault-blobs:N``, ``labvault-added:N``) so that ``list`` needs one call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from labvault.backup.restic_cli import Restic
from labvault.backup.restic_manifest import (
    FILENAME,
    FOR,
    POLICY,
    TAG,
    ResticManifest,
    decode,
    rfc3339_ns,
)
from labvault.errors import CacheError, UsageError

VERIFIED = "labvault-verified"
TOTALS = ("files", "bytes", "blobs", "added")


@dataclass
class Snap:
    id: str
    time: str
    hostname: str
    paths: tuple[str, ...]
    tags: tuple[str, ...]  # the user's own
    policy: str | None
    manifest: str | None = None  # id of its manifest sidecar
    totals: dict[str, int] = field(default_factory=dict)
    verified: list[str] = field(default_factory=list)  # ids of verification sidecars naming it

    @property
    def when(self) -> dt.datetime:
        ns = rfc3339_ns(self.time)
        t = self.time
        off = dt.timezone.utc if t.endswith("Z") else dt.datetime.fromisoformat("2000-01-01T00:00:00" + t[-6:]).tzinfo
        return dt.datetime.fromtimestamp(ns / 1e9, off)


@dataclass
class Listing:
    snaps: list[Snap]  # labvault's and other snapshots, oldest first; no sidecars
    sidecars: dict[str, list[str]]  # sidecar id -> the snapshot ids it names


def _str_list(v: Any) -> list[str]:
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


def listing(restic: Restic) -> Listing:
    out = restic.call(["snapshots", "--json"], "listing snapshots")
    import json

    try:
        raw = json.loads(out.stdout or "[]")
    except ValueError:
        raw = []
    snaps: dict[str, Snap] = {}
    sidecars: dict[str, tuple[list[str], bool, dict[str, int]]] = {}
    for d in raw if isinstance(raw, list) else []:
        if not isinstance(d, dict) or not isinstance(d.get("id"), str) or not isinstance(d.get("time"), str):
            continue
        tags = _str_list(d.get("tags"))
        fors = [t[len(FOR):] for t in tags if t.startswith(FOR)]
        if TAG in tags or VERIFIED in tags:
            totals = {}
            for t in tags:
                name, _, num = t.removeprefix("labvault-").partition(":")
                if t.startswith("labvault-") and name in TOTALS and num.isdigit():
                    totals[name] = int(num)
            sidecars[d["id"]] = (fors, TAG in tags, totals)
            continue
        policy = next((t[len(POLICY):] for t in tags if t.startswith(POLICY)), None)
        own = tuple(t for t in tags if not t.startswith(POLICY))
        snaps[d["id"]] = Snap(d["id"], d["time"], str(d.get("hostname", "")), tuple(_str_list(d.get("paths"))),
                              own, policy)
    for sid, (fors, is_manifest, totals) in sidecars.items():
        for f in fors:
            s = snaps.get(f)
            if s is None:
                continue
            if is_manifest:
                s.manifest, s.totals = sid, totals
            else:
                s.verified.append(sid)
    ordered = sorted(snaps.values(), key=lambda s: (rfc3339_ns(s.time), s.id))
    return Listing(ordered, {k: v[0] for k, v in sidecars.items()})


def resolve(restic: Restic, lst: Listing, ref: str) -> Snap:
    mine = [s for s in lst.snaps if s.policy is not None] or lst.snaps
    if ref == "latest":
        if not mine:
            raise UsageError(f"no snapshots in {restic.describe()}", "make one with `labvault backup run`")
        return mine[-1]
    hits = [s for s in lst.snaps if ref and s.id.startswith(ref)]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise UsageError(f"no snapshot {ref!r} in {restic.describe()}", "list them with `labvault backup list`")
    raise UsageError(f"{ref!r} names {len(hits)} snapshots", "give more of the id (see `labvault backup list`)")


def manifest(restic: Restic, snap: Snap) -> ResticManifest | None:
    """The snapshot's labvault manifest, or None when it has none (a killed run, or not made by labvault)."""
    if snap.manifest is None:
        return None
    out = restic.call(["dump", snap.manifest, "/" + FILENAME], f"reading the manifest of {snap.id[:8]}")
    return decode(out.stdout.encode("utf-8", "surrogateescape"), snap.id)


def need_manifest(restic: Restic, snap: Snap) -> ResticManifest:
    m = manifest(restic, snap)
    if m is None:
        raise CacheError(f"restic snapshot {snap.id[:8]} has no labvault manifest (its run was interrupted, or "
                         "another tool made it), so its files cannot be compared with recorded md5s",
                         "restore it without --verify, or make a new snapshot with `labvault backup run`")
    return m


def bare_manifest(snap: Snap) -> ResticManifest:
    """Path mapping only (no md5s), from the snapshot's own paths."""
    import os

    return ResticManifest(snap.id, snap.policy or "", {os.path.basename(p.rstrip("/")) or p: p for p in snap.paths})


def record_verified(restic: Restic, ids: list[str], how: str) -> None:
    """One sidecar naming every snapshot in ``ids`` as verified (``how``: drill, restore, check)."""
    if not ids:
        return
    args = ["backup", "--json", "--stdin", "--stdin-filename", "labvault-verified.json", "--tag", VERIFIED,
            "--tag", f"labvault-how:{how}"]
    for sid in ids:
        args += ["--tag", FOR + sid]
    stamp = dt.datetime.now(dt.timezone.utc).isoformat()
    restic.call(args, "recording a verification", stdin=f'{{"how": "{how}", "at": "{stamp}"}}'.encode())
