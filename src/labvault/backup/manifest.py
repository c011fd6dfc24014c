"""A snapshot's two documents on the target: the snapshot file and the manifest it names.

``snapshots/<id>.json`` (small, one per run)::

    {"format": 1, "id": "20261203T101500.123456Z-1f2e3d4c", "time": "2026-12-03T11:15:00.123456+01:00",
     "hostname": "gpu01", "policy": "daily", "sources": ["/mnt/nvme0/datasets"], "tags": [],
     "manifest": {"md5": "<oid>", "size": 1234},
     "files": 10, "dirs": 2, "symlinks": 0, "bytes": 123456, "objects_added": 1, "bytes_added": 300}

The manifest is an object of the target's store like any file (``files/md5/XX/REST``, named by
the md5 of its stored bytes): gzip (no name, mtime 0) of ``{"format": 1, "entries": [...]}``,
entries sorted by ``relpath``, each ``{"relpath", "type": "file"|"dir"|"symlink", "mode", "mtime_ns"}``
plus ``md5`` and ``size`` (files) or ``target`` (symlinks). An unchanged source gives the same
manifest bytes, hence the same object: a snapshot of an unchanged lab adds one small snapshot file.

Both are untrusted input when read back: every field is checked, and a relpath that is absolute,
empty, has ``.``/``..``/empty components or a NUL, appears twice, or lies below a file or symlink
entry is refused (a restore can never write outside its folder).
"""

from __future__ import annotations

import builtins
import datetime as dt
import gzip
import json
import os
import re
from dataclasses import dataclass
from typing import Any

from labvault.errors import CacheError

FORMAT = 1
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_ID = re.compile(r"^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[0-9a-f]{8}$")
TYPES = ("file", "dir", "symlink")


@dataclass
class Entry:
    """One item of a snapshot. ``relpath`` starts with the source's last component."""

    relpath: str
    type: str
    mode: int
    mtime_ns: int
    md5: str | None = None
    size: int = 0
    target: str | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"relpath": self.relpath, "type": self.type, "mode": self.mode, "mtime_ns": self.mtime_ns}
        if self.type == "file":
            d["md5"] = self.md5
            d["size"] = self.size
        elif self.type == "symlink":
            d["target"] = self.target
        return d


@dataclass(frozen=True)
class SnapshotDoc:
    id: str
    time: dt.datetime
    hostname: str
    policy: str
    sources: tuple[str, ...]
    tags: tuple[str, ...]
    manifest_md5: str
    manifest_size: int
    files: int
    dirs: int
    symlinks: int
    bytes: int
    objects_added: int
    bytes_added: int

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "id": self.id, "time": self.time.isoformat(), "hostname": self.hostname,
                "policy": self.policy, "sources": list(self.sources), "tags": list(self.tags),
                "manifest": {"md5": self.manifest_md5, "size": self.manifest_size},
                "files": self.files, "dirs": self.dirs, "symlinks": self.symlinks, "bytes": self.bytes,
                "objects_added": self.objects_added, "bytes_added": self.bytes_added}

    def encode(self) -> builtins.bytes:
        return (json.dumps(self.to_json(), indent=1) + "\n").encode("ascii")


def new_id(now: dt.datetime) -> str:
    """Time-sortable (UTC, to the microsecond) and random: ``20261203T101500.123456Z-1f2e3d4c``."""
    return f"{now.astimezone(dt.timezone.utc):%Y%m%dT%H%M%S.%f}Z-{os.urandom(4).hex()}"


def is_id(text: str) -> bool:
    return _ID.match(text) is not None


def encode_manifest(entries: list[Entry]) -> bytes:
    doc = {"format": FORMAT, "entries": [e.to_json() for e in sorted(entries, key=lambda e: e.relpath)]}
    raw = json.dumps(doc, separators=(",", ":")).encode("ascii")  # \uXXXX: any file name, even undecodable
    return gzip.compress(raw, compresslevel=6, mtime=0)


def _bad(what: str, why: str) -> CacheError:
    return CacheError(f"{what}: {why}", "the backup target holds a damaged or foreign file; run `labvault backup check`")


def _int(d: dict[str, Any], key: str, what: str) -> int:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise _bad(what, f"field {key!r} is not a whole number")
    return v


def _str(d: dict[str, Any], key: str, what: str) -> str:
    v = d.get(key)
    if not isinstance(v, str):
        raise _bad(what, f"field {key!r} is not a string")
    return v


def safe_relpath(rel: str) -> bool:
    if not rel or rel.startswith("/") or "\0" in rel:
        return False
    return all(part not in ("", ".", "..") for part in rel.split("/"))


def decode_manifest(data: bytes, what: str) -> list[Entry]:
    try:
        doc = json.loads(gzip.decompress(data))
    except (OSError, EOFError, ValueError) as exc:
        raise _bad(what, f"not a gzip'd JSON manifest ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("entries"), list):
        raise _bad(what, "not a labvault backup manifest of format 1")
    out: list[Entry] = []
    seen: dict[str, str] = {}
    for item in doc["entries"]:
        if not isinstance(item, dict):
            raise _bad(what, "an entry is not a mapping")
        rel = _str(item, "relpath", what)
        kind = _str(item, "type", what)
        if not safe_relpath(rel) or kind not in TYPES or rel in seen:
            raise _bad(what, f"unsafe, duplicate or unknown entry {rel!r}")
        e = Entry(rel, kind, _int(item, "mode", what) & 0o7777, _int(item, "mtime_ns", what))
        if kind == "file":
            e.md5 = _str(item, "md5", what)
            e.size = _int(item, "size", what)
            if not _MD5.match(e.md5):
                raise _bad(what, f"entry {rel!r} has a malformed md5")
        elif kind == "symlink":
            e.target = _str(item, "target", what)
            if not e.target or "\0" in e.target:
                raise _bad(what, f"symlink {rel!r} has no target")
        seen[rel] = kind
        out.append(e)
    for rel in seen:
        parent = rel.rsplit("/", 1)[0] if "/" in rel else None
        while parent is not None:
            if seen.get(parent, "dir") != "dir":
                raise _bad(what, f"entry {rel!r} lies below a {seen[parent]}")
            parent = parent.rsplit("/", 1)[0] if "/" in parent else None
    return out


def decode_snapshot(data: bytes, what: str) -> SnapshotDoc:
    try:
        d = json.loads(data)
    except ValueError as exc:
        raise _bad(what, f"not JSON ({exc})") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise _bad(what, "not a labvault snapshot of format 1")
    sid = _str(d, "id", what)
    if not is_id(sid):
        raise _bad(what, f"malformed snapshot id {sid!r}")
    try:
        time = dt.datetime.fromisoformat(_str(d, "time", what))
    except ValueError:
        raise _bad(what, "malformed time") from None
    if time.tzinfo is None:
        raise _bad(what, "time has no UTC offset")
    man = d.get("manifest")
    if not isinstance(man, dict) or not _MD5.match(str(man.get("md5", ""))):
        raise _bad(what, "no manifest named")
    sources = d.get("sources")
    tags = d.get("tags")
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise _bad(what, "sources is not a list of strings")
    if not isinstance(tags, list) or not all(isinstance(s, str) for s in tags):
        raise _bad(what, "tags is not a list of strings")
    return SnapshotDoc(
        id=sid, time=time, hostname=_str(d, "hostname", what), policy=_str(d, "policy", what),
        sources=tuple(sources), tags=tuple(tags), manifest_md5=man["md5"], manifest_size=_int(man, "size", what),
        files=_int(d, "files", what), dirs=_int(d, "dirs", what), symlinks=_int(d, "symlinks", what),
        bytes=_int(d, "bytes", what), objects_added=_int(d, "objects_added", what),
        bytes_added=_int(d, "bytes_added", what),
    )
