"""Reading and writing lab units and placements in the catalog database.

A unit is keyed by ``(kind, name, version, part)``; a placement by its location (a real path or
URL holds one unit). Per-tier, per-project and per-dataset totals are kept by the catalog's
triggers in ``lab_totals`` (read by ``labvault.tiers.totals``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from labvault.catalog.lab_schema import lab_file_stats, lab_placements, lab_units
from labvault.catalog.schema import splits, versions
from labvault.catalog.store import Catalog, now
from labvault.tiers.types import LabUnit, Placement, UnitName

LIVE_STATES = ("present", "verified")
FileStat = tuple[int, int, int, str]  # inode, size, mtime_ns, md5
# A folder's row in lab_file_stats: relpath "/" (the unit's root) or "SUB/" (a sub-folder), inode,
# size 0, mtime_ns, md5 "". No file's relpath ends in "/", so file readers skip these rows.
DIR_SUFFIX = "/"


@dataclass(frozen=True)
class Found:
    """A unit as a scan found it at ``location`` on ``tier``."""

    name: UnitName
    tier: str
    location: str
    content_hash: str
    size: int
    nfiles: int
    modified_at: datetime
    stats: dict[str, FileStat] | None  # None: unchanged since the stat cache was written


def _units(conn: sa.Connection, where: sa.ColumnElement[bool]) -> list[LabUnit]:
    rows = conn.execute(sa.select(lab_units).where(where).order_by(
        lab_units.c.kind, lab_units.c.name, lab_units.c.version, lab_units.c.part)).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    by_unit: dict[int, list[Placement]] = {}
    for i in range(0, len(ids), 500):
        for p in conn.execute(sa.select(lab_placements).where(lab_placements.c.unit_id.in_(ids[i:i + 500]))
                              .order_by(lab_placements.c.id)):
            by_unit.setdefault(p.unit_id, []).append(Placement(p.tier, p.location, p.state, p.verified_at))
    return [LabUnit(r.id, r.kind, r.name, r.version, r.part, r.content_hash, r.size, r.nfiles, r.created_at,
                    r.modified_at, r.last_access, tuple(by_unit.get(r.id, ()))) for r in rows]


def find_units(cat: Catalog, name: str, version: str | None = None) -> list[LabUnit]:
    """Units named ``name`` (of any kind and part), of one version when given."""
    cond = lab_units.c.name == name
    if version is not None:
        cond = sa.and_(cond, lab_units.c.version == version)
    with cat.read() as conn:
        return _units(conn, cond)


def unit_by_id(cat: Catalog, unit_id: int) -> LabUnit | None:
    with cat.read() as conn:
        found = _units(conn, lab_units.c.id == unit_id)
        return found[0] if found else None


def unit_at(cat: Catalog, location: str) -> LabUnit | None:
    """The unit with a placement at ``location``, if any."""
    with cat.read() as conn:
        uid = conn.execute(sa.select(lab_placements.c.unit_id).where(lab_placements.c.location == location)).scalar()
        if uid is None:
            return None
        found = _units(conn, lab_units.c.id == uid)
        return found[0] if found else None


def file_stats(cat: Catalog, placement_id: int) -> dict[str, FileStat]:
    """The stat cache of one placement: its files' rows (folder rows left out)."""
    with cat.read() as conn:
        rows = conn.execute(sa.select(lab_file_stats).where(lab_file_stats.c.placement_id == placement_id,
                                                            ~lab_file_stats.c.relpath.endswith(DIR_SUFFIX)))
        return {r.relpath: (r.inode, r.size, r.mtime_ns, r.md5) for r in rows}


@dataclass(frozen=True)
class Known:
    """A placement on a tier as the scan's quick check needs it: ids, state, the unit's key, and
    the stat-cache rows of its root (a file unit's file, or a folder unit's folders)."""

    placement_id: int
    unit_id: int
    state: str
    name: UnitName
    nfiles: int
    roots: dict[str, FileStat]


def tier_known(cat: Catalog, tier: str) -> dict[str, Known]:
    """``location -> Known`` for every placement on ``tier``: two reads (the placements with their
    units, and the root and folder rows of the stat cache), whatever the number of units."""
    p, u, s = lab_placements, lab_units, lab_file_stats
    q = (sa.select(p.c.location, p.c.id, p.c.unit_id, p.c.state, u.c.kind, u.c.name, u.c.version, u.c.part,
                   u.c.nfiles).select_from(p.join(u, u.c.id == p.c.unit_id)).where(p.c.tier == tier))
    roots = (sa.select(s.c.placement_id, s.c.relpath, s.c.inode, s.c.size, s.c.mtime_ns, s.c.md5)
             .select_from(s.join(p, p.c.id == s.c.placement_id))
             .where(p.c.tier == tier, sa.or_(s.c.relpath == "", s.c.relpath.endswith(DIR_SUFFIX))))
    with cat.read() as conn:
        by_pid: dict[int, dict[str, FileStat]] = {}
        for r in conn.execute(roots).all():  # fetched whole: one driver call, not one per row
            by_pid.setdefault(int(r[0]), {})[r[1]] = (int(r[2]), int(r[3]), int(r[4]), r[5])
        return {r[0]: Known(int(r[1]), int(r[2]), r[3], UnitName(r[4], r[5], r[6], r[7]), int(r[8]),
                            by_pid.get(int(r[1]), {})) for r in conn.execute(q).all()}


def record_found(conn: sa.Connection, f: Found) -> str:
    """Record one scanned unit; returns "new", "changed", "placed", "same" or "conflict: WHY"."""
    t = now()
    n = f.name
    key = sa.and_(lab_units.c.kind == n.kind, lab_units.c.name == n.name, lab_units.c.version == n.version,
                  lab_units.c.part == n.part)
    unit = conn.execute(sa.select(lab_units.c.id, lab_units.c.content_hash).where(key)).first()
    placed = conn.execute(sa.select(lab_placements.c.id, lab_placements.c.unit_id, lab_placements.c.state)
                          .where(lab_placements.c.location == f.location)).first()
    outcome = "same"
    if unit is None:
        uid = int(conn.execute(sa.insert(lab_units).values(
            kind=n.kind, name=n.name, version=n.version, part=n.part, content_hash=f.content_hash, size=f.size,
            nfiles=f.nfiles, version_id=_catalog_version(conn, f.content_hash, n.kind), created_at=t,
            modified_at=f.modified_at, updated_at=t)).inserted_primary_key[0])  # type: ignore[index]
        outcome = "new"
    else:
        uid = int(unit.id)
        if unit.content_hash != f.content_hash:
            others = conn.execute(sa.select(lab_placements.c.location).where(
                lab_placements.c.unit_id == uid, lab_placements.c.location != f.location,
                lab_placements.c.state != "missing")).scalars().first()
            if others is not None:
                return f"conflict: {n.ref()} at {others} has other content; rename one of them"
            conn.execute(sa.update(lab_units).where(lab_units.c.id == uid).values(
                content_hash=f.content_hash, size=f.size, nfiles=f.nfiles, modified_at=f.modified_at,
                version_id=_catalog_version(conn, f.content_hash, n.kind), updated_at=t))
            outcome = "changed"
    if placed is None:
        pid = int(conn.execute(sa.insert(lab_placements).values(
            unit_id=uid, tier=f.tier, location=f.location, state="present", created_at=t)).inserted_primary_key[0])  # type: ignore[index]
        outcome = "placed" if outcome == "same" else outcome
    else:
        pid = int(placed.id)
        keep_verified = placed.unit_id == uid and placed.state == "verified" and outcome == "same"
        if placed.unit_id != uid or placed.state != ("verified" if keep_verified else "present"):
            values: dict[str, object] = {"unit_id": uid, "tier": f.tier, "state": "present"}
            if keep_verified:
                values["state"] = "verified"
            else:
                values["verified_at"] = None
            conn.execute(sa.update(lab_placements).where(lab_placements.c.id == pid).values(**values))
            outcome = "placed" if outcome == "same" else outcome
    if f.stats is not None:
        _replace_stats(conn, pid, f.stats.items())
    return outcome


def _replace_stats(conn: sa.Connection, pid: int, stats: Iterable[tuple[str, FileStat]]) -> None:
    conn.execute(sa.delete(lab_file_stats).where(lab_file_stats.c.placement_id == pid))
    rows = [{"placement_id": pid, "relpath": rel, "inode": s[0], "size": s[1], "mtime_ns": s[2], "md5": s[3]}
            for rel, s in stats]
    for i in range(0, len(rows), 5000):
        conn.execute(sa.insert(lab_file_stats), rows[i:i + 5000])


def _catalog_version(conn: sa.Connection, content_hash: str, kind: str) -> int | None:
    """The catalog version of the same kind holding this content (datasets and models only)."""
    if kind not in ("dataset", "model"):
        return None
    row = conn.execute(sa.select(versions.c.id).where(versions.c.content_hash == content_hash,
                                                      versions.c.kind == kind).order_by(versions.c.id.desc())).first()
    if row is None and kind == "dataset":  # one split file of a dataset version
        row = conn.execute(sa.select(splits.c.version_id).where(splits.c.content_hash == content_hash)
                           .order_by(splits.c.version_id.desc())).first()
    return int(row[0]) if row else None


def mark_missing(conn: sa.Connection, placement_ids: list[int]) -> None:
    for i in range(0, len(placement_ids), 500):
        conn.execute(sa.update(lab_placements).where(lab_placements.c.id.in_(placement_ids[i:i + 500]))
                     .values(state="missing", verified_at=None))



def units_with_hashes(cat: Catalog, hashes: Iterable[str]) -> list[int]:
    """Ids of the units whose content hash is one of ``hashes`` (``ix_lab_units_hash``)."""
    wanted = sorted(set(hashes))
    found: list[int] = []
    with cat.read() as conn:
        for i in range(0, len(wanted), 500):
            found.extend(int(x) for x in conn.execute(sa.select(lab_units.c.id).where(
                lab_units.c.content_hash.in_(wanted[i:i + 500]))).scalars())
    return found
