"""The labvault manifest of a restic snapshot: per-file md5 and size, which restic does not record.

It is kept in the restic repository itself, as a second snapshot made with ``restic backup
--stdin --stdin-filename labvault-manifest.json`` and the tags ``labvault-manifest`` and
``labvault-for:<snapshot id>`` (a "sidecar"): encrypted and checked by restic like the data, on any
backend restic supports, and forgotten together with its snapshot. Its content (JSON)::

    {"format": 1, "snapshot": "<full id>", "policy": "daily", "sources": {"data": "/real/path/data"},
     "files": {"data/a.txt": ["<md5>", 6], ...}, "unverifiable": ["data/changing.log"],
     "summary": {"files": 7, "bytes": 123, "data_blobs": 3, "data_added": 4567}}

How the md5s are known to be those of the bytes restic stored: labvault hashes the files first
(the backup stat cache vouches for unchanged ones), restic backs them up, then ``restic ls`` of the
new snapshot gives each file's size and mtime as restic read them; a file whose size or mtime
differs from what labvault hashed changed in between and is listed as ``unverifiable`` (reported
by the run; restore ``--verify`` says so instead of claiming a check). A snapshot whose run was
killed before its sidecar was written has no manifest: it can be restored, not verified.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from labvault.backup.manifest import safe_relpath
from labvault.errors import CacheError

FORMAT = 1
TAG = "labvault-manifest"
FOR = "labvault-for:"
POLICY = "labvault-policy:"
FILENAME = "labvault-manifest.json"
_MD5 = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class ResticManifest:
    snapshot: str
    policy: str
    sources: dict[str, str]  # first relpath component -> real absolute path restic was given
    files: dict[str, tuple[str, int]] = field(default_factory=dict)  # relpath -> (md5, size)
    unverifiable: list[str] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)

    def encode(self) -> bytes:
        d = {"format": FORMAT, "snapshot": self.snapshot, "policy": self.policy, "sources": self.sources,
             "files": {k: [m, s] for k, (m, s) in sorted(self.files.items())},
             "unverifiable": sorted(self.unverifiable), "summary": self.summary}
        return json.dumps(d, sort_keys=True).encode()

    def restic_path(self, relpath: str) -> str:
        """The path restic stored ``relpath`` at (its source's real path, then the rest)."""
        head, _, rest = relpath.partition("/")
        base = self.sources[head]
        return f"{base}/{rest}" if rest else base

    def relpath(self, restic_path: str) -> str | None:
        for head, base in self.sources.items():
            if restic_path == base:
                return head
            if restic_path.startswith(base.rstrip("/") + "/"):
                return head + restic_path[len(base.rstrip("/")):]
        return None


def _bad(sid: str, why: str) -> CacheError:
    return CacheError(f"the labvault manifest of restic snapshot {sid[:8]} is damaged ({why})",
                      "restore without --verify, or make a new snapshot with `labvault backup run`")


def decode(data: bytes, sid: str) -> ResticManifest:
    """Untrusted input: every field is checked; relpaths as in labvault's own manifests."""
    try:
        d = json.loads(data)
    except ValueError:
        raise _bad(sid, "not JSON") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT or d.get("snapshot") != sid:
        raise _bad(sid, "wrong format or snapshot id")
    sources, files, unv, summary = d.get("sources"), d.get("files"), d.get("unverifiable"), d.get("summary")
    if not isinstance(sources, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and safe_relpath(k) and "/" not in k and v.startswith("/")
            for k, v in sources.items()):
        raise _bad(sid, "sources")
    if not isinstance(files, dict) or not isinstance(unv, list) or not isinstance(summary, dict):
        raise _bad(sid, "missing fields")
    m = ResticManifest(sid, str(d.get("policy", "")), dict(sources))
    for rel, v in files.items():
        if (not isinstance(rel, str) or not safe_relpath(rel) or rel.split("/", 1)[0] not in sources
                or not isinstance(v, list) or len(v) != 2 or not isinstance(v[0], str) or not _MD5.match(v[0])
                or not isinstance(v[1], int) or isinstance(v[1], bool) or v[1] < 0):
            raise _bad(sid, f"entry {str(rel)[:80]!r}")
        m.files[rel] = (v[0], v[1])
    m.unverifiable = [u for u in unv if isinstance(u, str)]
    m.summary = {str(k): int(v) for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool)}
    return m


def rfc3339_ns(text: str) -> int:
    """restic's time (``2026-12-03T13:50:49.590254133Z`` or with an offset) as ns since the epoch."""
    import datetime as dt

    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)", text)
    if not m:
        raise ValueError(text)
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    base = dt.datetime.fromisoformat(m.group(1) + tz)
    frac = int((m.group(2) or "0").ljust(9, "0"))
    return int(base.timestamp()) * 1_000_000_000 + frac


def snapshot_tags(tags: list[str]) -> tuple[str | None, str | None, tuple[str, ...]]:
    """(policy, manifest-for id, the user's own tags) from a restic snapshot's tags."""
    policy = next((t[len(POLICY):] for t in tags if t.startswith(POLICY)), None)
    for_id = next((t[len(FOR):] for t in tags if t.startswith(FOR)), None) if TAG in tags else None
    own = tuple(t for t in tags if not t.startswith((POLICY, FOR)) and t != TAG)
    return policy, for_id, own


def as_json_obj(d: Any) -> dict[str, Any]:
    return d if isinstance(d, dict) else {}
