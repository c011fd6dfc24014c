"""``lab scan``: register the units found in the tiers' areas, hashing each file's content once.

A unit is an entry directly in an area folder (``datasets/``, ``models/``, ``experiments/``,
``checkpoints/``, ``archive/``) of a folder tier: a file, or a folder taken whole. Its content hash
is DVC's: a file's md5, or a folder's ``.dir`` oid (the md5 of its manifest plus ``.dir``), so a
unit added to a repo has the same hash. Symlinks are not followed (the mover leaves one at a
moved unit's old path); hidden entries and labvault temp files are skipped.

The stat cache (``lab_file_stats``): a file whose inode, size and mtime match its row is not read
again. A file modified less than 50 ms before the scan is not cached (an edit within the same
timestamp tick could go unseen). Placements under a scanned area that are gone become ``missing``.
A placement a move is retiring (``deleting``), and one a move in flight is about to rename into
place, are left to the mover: a scan running beside a move cannot bring back the source it is
deleting nor mark its destination missing.

The quick check (``trust_folders``, what ``lifecycle plan`` runs): a folder unit whose every folder
(its root and each sub-folder the last full check saw, rows ``"/"`` and ``"SUB/"`` of the stat
cache) still has the recorded inode and mtime, and whose placement is live under the same name, is
taken as unchanged without listing its files: a file added, removed or renamed (a write through a
temp name and a rename included) anywhere in it changes the mtime of the folder holding it. What it
trusts: that files in lab units are not rewritten in place under the same name; ``lab scan``
always lists and lstats every file, and the mover hashes the bytes it copies against the catalog's
hash, so a unit changed in place fails its move rather than moving stale. A file unit's check is
its own lstat against its row, as in the full scan.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from labvault.catalog.store import Catalog
from labvault.core.hashing import md5_file
from labvault.core.tree import Tree
from labvault.errors import from_os_error
from labvault.fsutil import is_tmp_name
from labvault.tiers.journal import open_moves
from labvault.tiers.lab import LabConfig, Tier
from labvault.tiers.types import ScanResult, UnitName
from labvault.tiers.units import (
    DIR_SUFFIX,
    LIVE_STATES,
    FileStat,
    Found,
    Known,
    file_stats,
    mark_missing,
    record_found,
    tier_known,
)

Namer = Callable[[str, str, bool], UnitName]
AREA_KINDS = {"datasets": "dataset", "models": "model", "experiments": "experiment",
              "checkpoints": "checkpoint", "archive": "dataset"}
RACY_NS = 50_000_000
BATCH = 200


def folder_namer(area: str, entry: str, is_dir: bool) -> UnitName:
    """The plain naming: the area tells the kind, the entry's name is the unit's name."""
    return UnitName(AREA_KINDS.get(area, "dataset"), entry)


class _Counts:
    def __init__(self) -> None:
        self.hashed = 0
        self.hashed_bytes = 0
        self.cached = 0


def scan_lab(cat: Catalog, lab: LabConfig, namer: Namer = folder_namer, tiers: list[str] | None = None,
             trust_folders: bool = False) -> ScanResult:
    """Scan every folder tier (or those named) and record what it holds in the catalog;
    ``trust_folders``: the quick check of folder units (module doc) instead of a look at every file."""
    counts = _Counts()
    outcomes: dict[str, int] = {}
    skipped: list[str] = []
    missing = 0
    started_ns = time.time_ns()
    arriving = {row.dst_location for row in open_moves(cat)}  # switched, still at their temp names
    for tier in lab.tiers:
        if tier.path is None or (tiers is not None and tier.name not in tiers):
            continue
        areas = [a for a in tier.areas if (tier.path / a).is_dir()]
        if not areas:
            continue  # nothing to list, and no placement under an area to mark missing
        known = tier_known(cat, tier.name)
        seen: set[str] = set()
        batch: list[Found] = []
        scanned_areas: list[str] = []
        for area in areas:
            folder = tier.path / area
            scanned_areas.append(str(folder) + os.sep)
            for entry in sorted(_entries(folder, skipped), key=lambda e: e.name):
                location = os.path.join(str(folder), entry.name)
                seen.add(location)
                prior = known.get(location)
                if prior is not None and prior.state == "deleting":
                    continue  # a move is retiring it: the mover owns that placement until it is gone
                is_dir = entry.is_dir(follow_symlinks=False)
                name = namer(area, entry.name, is_dir)
                if trust_folders and is_dir and prior is not None and _folders_unchanged(prior, name, location):
                    outcomes["same"] = outcomes.get("same", 0) + 1
                    counts.cached += prior.nfiles
                    continue
                cached = _cached_stats(cat, prior, is_dir)
                found = _measure(entry, name, tier, location, cached, counts, started_ns, skipped)
                if found is not None:
                    batch.append(found)
                if len(batch) >= BATCH:
                    _flush(cat, batch, outcomes, skipped)
        _flush(cat, batch, outcomes, skipped)
        gone = [k.placement_id for loc, k in known.items()
                if loc not in seen and k.state not in ("missing", "deleting") and loc not in arriving
                and any(loc.startswith(a) for a in scanned_areas)]
        if gone:
            _mark(cat, gone)
            missing += len(gone)
    return ScanResult(
        units=sum(outcomes.values()), new_units=outcomes.get("new", 0), changed_units=outcomes.get("changed", 0),
        new_placements=outcomes.get("placed", 0) + outcomes.get("new", 0), missing_placements=missing,
        hashed_files=counts.hashed, hashed_bytes=counts.hashed_bytes, cached_files=counts.cached,
        skipped=tuple(skipped))


def _folders_unchanged(prior: Known, name: UnitName, location: str) -> bool:
    """The quick check: a live placement of the same unit whose recorded folders (root and
    sub-folders) all keep their inode and mtime."""
    if prior.state not in LIVE_STATES or prior.name != name or DIR_SUFFIX not in prior.roots:
        return False
    for rel, (ino, _size, mtime_ns, _md5) in prior.roots.items():
        if not rel.endswith(DIR_SUFFIX):
            return False  # a file's row at the root: the unit was a file
        path = location if rel == DIR_SUFFIX else os.path.join(location, rel[:-1])
        try:
            st = os.lstat(path)
        except OSError:
            return False
        if not stat.S_ISDIR(st.st_mode) or st.st_ino != ino or st.st_mtime_ns != mtime_ns:
            return False
    return True


def _cached_stats(cat: Catalog, prior: Known | None, is_dir: bool) -> dict[str, FileStat]:
    """The stat cache of a known placement's files: a file unit's one row came with the tier's
    read; a folder's rows are read now (folder rows left out)."""
    if prior is None:
        return {}
    if not is_dir:
        return {"": prior.roots[""]} if "" in prior.roots else {}
    folders = {rel: row for rel, row in prior.roots.items() if rel.endswith(DIR_SUFFIX)}
    return {**file_stats(cat, prior.placement_id), **folders}


def _mark(cat: Catalog, ids: list[int]) -> None:
    def write(conn: sa.Connection) -> None:
        mark_missing(conn, ids)

    cat.write(write)


def _entries(folder: Path, skipped: list[str]) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            out = []
            for e in it:
                if e.name.startswith(".") or is_tmp_name(e.name):
                    continue
                if e.is_symlink():
                    continue  # a moved unit's forwarding link, or something outside the lab
                out.append(e)
            return out
    except OSError as e:
        raise from_os_error(e, "listing") from e


def _flush(cat: Catalog, batch: list[Found], outcomes: dict[str, int], skipped: list[str]) -> None:
    if not batch:
        return

    def write(conn: sa.Connection) -> list[str]:
        return [record_found(conn, f) for f in batch]

    for f, outcome in zip(batch, cat.write(write), strict=False):
        if outcome.startswith("conflict"):
            skipped.append(f"{f.location}: {outcome}")
        else:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    batch.clear()


def _measure(entry: os.DirEntry[str], name: UnitName, tier: Tier, location: str, cached: dict[str, FileStat],
             counts: _Counts, started_ns: int, skipped: list[str]) -> Found | None:
    """Hash what the stat cache cannot vouch for; ``cached`` holds the placement's file rows and,
    for a folder, its folder rows (``"/"``, ``"SUB/"``), which are rewritten when they changed."""
    is_dir = entry.is_dir(follow_symlinks=False)
    dirs: list[tuple[str, os.stat_result]] = []
    try:
        files = _list_files(location, skipped, dirs) if is_dir else [("", entry.stat(follow_symlinks=False))]
    except OSError as e:
        skipped.append(f"{location}: cannot read ({e.strerror})")
        return None
    oids: dict[str, str] = {}
    stats: dict[str, FileStat] = {}
    changed = {rel for rel in cached if not rel.endswith(DIR_SUFFIX)} != {rel for rel, _ in files}
    for rel, st in files:
        sig = (st.st_ino, st.st_size, st.st_mtime_ns)
        hit = cached.get(rel)
        if hit is not None and hit[:3] == sig:
            oids[rel] = hit[3]
            counts.cached += 1
        else:
            path = os.path.join(location, rel) if rel else location
            try:
                oids[rel] = md5_file(path)
            except OSError as e:
                skipped.append(f"{path}: cannot read ({e.strerror})")
                return None
            counts.hashed += 1
            counts.hashed_bytes += st.st_size
            changed = True
        if st.st_mtime_ns < started_ns - RACY_NS:
            stats[rel] = (*sig, oids[rel])
        else:
            changed = True  # not cached: hashed again next time
    folders = _folder_rows(dirs, started_ns)
    if folders != {rel: row for rel, row in cached.items() if rel.endswith(DIR_SUFFIX)}:
        changed = True
    stats.update(folders)
    content_hash = Tree.from_pairs(oids.items()).oid() if is_dir else oids[""]
    newest = max((st.st_mtime_ns for _, st in files), default=time.time_ns())
    return Found(name, tier.name, location, content_hash, sum(st.st_size for _, st in files), len(files),
                 datetime.fromtimestamp(newest / 1e9, timezone.utc).replace(tzinfo=None),
                 stats if changed else None)


def _folder_rows(dirs: list[tuple[str, os.stat_result]], started_ns: int) -> dict[str, FileStat]:
    """The folder rows of the quick check: all of the unit's folders, or none when one of them
    changed within the racy window (a change in the same timestamp tick could go unseen)."""
    if any(st.st_mtime_ns >= started_ns - RACY_NS for _, st in dirs):
        return {}
    return {rel + DIR_SUFFIX: (st.st_ino, 0, st.st_mtime_ns, "") for rel, st in dirs}


def _list_files(root: str, skipped: list[str],
                dirs: list[tuple[str, os.stat_result]]) -> list[tuple[str, os.stat_result]]:
    """Every regular file under ``root`` as (posix relpath, lstat), symlinks and specials skipped;
    ``dirs`` gets every folder's (relpath, "" for the root; lstat taken before it was listed)."""
    out: list[tuple[str, os.stat_result]] = []
    dirs.append(("", os.lstat(root)))
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        with os.scandir(os.path.join(root, rel_dir) if rel_dir else root) as it:
            for e in it:
                rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
                st = e.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    stack.append(rel)
                    dirs.append((rel, st))
                elif stat.S_ISREG(st.st_mode):
                    out.append((rel, st))
                elif stat.S_ISLNK(st.st_mode):
                    skipped.append(f"{os.path.join(root, rel)}: a symlink inside a unit, not followed")
    return out
