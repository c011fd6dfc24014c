"""``backup check`` on a restic repository: restic's findings traced to what they belong to.

``restic check`` (0.14) prints one line per problem, naming the pack file or blob by its 64-hex
id: ``pack ID: does not exist`` (missing), ``pack ID: unexpected file size`` (truncated),
``Pack ID does not match, want ID, got ...`` or ``pack ID contains N errors`` (corrupt, with
``--read-data``), ``... blob ID ...`` (a blob missing from the index or damaged). Retry notices
(``returned error, retrying``) are not findings. A pack's blobs are read from the repository
index (``restic cat index``: it still lists a missing or truncated pack, whose header ``restic
find --pack`` would need), then ``restic find --blob IDS --json`` (data) and ``--tree IDS`` (folders)
give every (snapshot, path) each blob belongs to. Paths are given as in labvault's manifests (the source's last component, then the rest);
a hit in one of labvault's sidecar snapshots (a manifest or verification record) is reported as
``(manifest)`` of the snapshot it describes. A finding restic cannot trace keeps its line.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from labvault.backup.restic_cli import Restic
from labvault.backup.restic_repo import Listing
from labvault.backup.types import BadObject

_ID = r"([0-9a-f]{64})"
_PACK = re.compile(rf"\b(?:pack|want)\s+{_ID}", re.IGNORECASE)
_BLOB = re.compile(rf"\bblob\s+{_ID}", re.IGNORECASE)
_ANY = re.compile(rf"\b{_ID}\b")
_WORDS = ("error", "does not match", "not found", "missing", "does not exist", "unexpected file size",
          "failed to download")
_RANK = {"missing": 3, "wrong_size": 2, "corrupt": 1}
MAX_TRACED = 100_000  # blobs looked up per check (and kind); beyond that, findings may keep their line only
CHUNK = 500  # blob ids per `restic find`


@dataclass
class Finding:
    kind: str  # pack or blob
    id: str
    problem: str  # missing, wrong_size, corrupt
    line: str


def _problem(low: str) -> str:
    if "does not exist" in low or "no such file" in low or "not found" in low or "missing" in low:
        return "missing"
    if "unexpected file size" in low:
        return "wrong_size"
    return "corrupt"


def findings(text: str) -> tuple[list[Finding], list[str]]:
    """restic check's output -> the packs and blobs it names (one each, its worst problem first
    seen) and the error lines that name neither."""
    found: dict[tuple[str, str], Finding] = {}
    other: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        low = line.lower()
        if not line or "no errors were found" in low or "retrying after" in low or low.startswith("fatal:"):
            continue
        if not any(w in low for w in _WORDS):
            continue
        m = _PACK.search(line)
        kind, ident = ("pack", m.group(1)) if m else ("", "")
        if not m and (b := _BLOB.search(line)):
            kind, ident = "blob", b.group(1)
        if not kind and (a := _ANY.search(line)):
            kind, ident = "pack", a.group(1)
        if not kind:
            other.append(line[:300])
            continue
        problem = _problem(low)
        old = found.get((kind, ident))
        if old is None or _RANK[problem] > _RANK[old.problem]:
            found[(kind, ident)] = Finding(kind, ident, problem, line[:300])
    return list(found.values()), other


def _relpath(paths: tuple[str, ...], restic_path: str) -> str:
    """``restic_path`` as labvault names it: the source's last component, then the rest."""
    for base in paths:
        b = base.rstrip("/")
        if restic_path == b or restic_path.startswith(b + "/"):
            return posixpath.basename(b) + restic_path[len(b):]
    return restic_path


def _json(text: str) -> Any:
    try:
        return json.loads(text or "null")
    except ValueError:
        return None


def pack_blobs(restic: Restic) -> dict[str, list[tuple[str, str]]]:
    """pack id -> its (blob id, type) from the repository's index (``restic cat index``), which
    still knows a pack that is missing or truncated."""
    out: dict[str, list[tuple[str, str]]] = {}
    for index in restic.call(["list", "index"], "listing the index").stdout.split():
        doc = _json(restic.call(["cat", "index", index], "reading the index").stdout)
        for pack in doc.get("packs", []) if isinstance(doc, dict) else []:
            if isinstance(pack, dict) and isinstance(pack.get("id"), str):
                out.setdefault(pack["id"], []).extend(
                    (b["id"], str(b.get("type"))) for b in pack.get("blobs", [])
                    if isinstance(b, dict) and isinstance(b.get("id"), str))
    return out


def _owners(restic: Restic, lst: Listing, kind: str, ids: list[str]) -> dict[str, set[tuple[str, str]]]:
    """blob id -> the (snapshot, relpath) of every file (``kind`` blob) or folder (tree) holding it."""
    snaps = {s.id: s for s in lst.snaps}
    out: dict[str, set[tuple[str, str]]] = {}
    for start in range(0, len(ids), CHUNK):
        got = restic.call(["find", f"--{kind}", *ids[start:start + CHUNK], "--json"],
                          "finding what the damaged data belongs to", ok_codes=(0, 1))
        hits = _json(got.stdout)
        for h in hits if isinstance(hits, list) else []:
            if not isinstance(h, dict) or not all(isinstance(h.get(k), str) for k in ("id", "snapshot", "path")):
                continue
            sid, found = h["snapshot"], out.setdefault(h["id"], set())
            if sid in snaps:
                found.add((sid, _relpath(snaps[sid].paths, h["path"])))
            else:  # a sidecar: the manifest or verification record of the snapshots it names
                found.update((s, "(manifest)") for s in lst.sidecars.get(sid, [sid]))
    return out


def traced(restic: Restic, lst: Listing, text: str) -> list[BadObject]:
    """The bad packs and blobs of restic check's output, each with what it belongs to."""
    found, other = findings(text)
    found.sort(key=lambda f: (f.kind, f.id))
    packs = pack_blobs(restic) if any(f.kind == "pack" for f in found) else {}
    blobs = {f.id: packs.get(f.id, []) if f.kind == "pack" else [(f.id, "data"), (f.id, "tree")]
             for f in found}
    owners: dict[str, set[tuple[str, str]]] = {}
    for kind, restic_kind in (("data", "blob"), ("tree", "tree")):
        ids = sorted({b for pairs in blobs.values() for b, t in pairs if t == kind})[:MAX_TRACED]
        if ids:
            for b, who in _owners(restic, lst, restic_kind, ids).items():
                owners.setdefault(b, set()).update(who)
    bad = []
    for f in found:
        who = set().union(*(owners.get(b, set()) for b, _t in blobs[f.id])) if blobs[f.id] else set()
        bad.append(BadObject(f.id, f.problem, 0, None, tuple(sorted(who)) or (("", f.line),)))
    bad.extend(BadObject("", "restic", 0, None, (("", line),)) for line in other)
    return bad
