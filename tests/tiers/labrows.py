"""Lab state written straight into the catalog tables, with chosen times: what a scan, the access
log and a mover would have left, without waiting days for it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from labvault.catalog.lab_schema import lab_access, lab_file_stats, lab_placements, lab_units
from labvault.catalog.store import Catalog
from labvault.tiers.lab import LabConfig, Pins, Promotion, Rule, Tier

NOW = datetime(2026, 12, 1, 12, 0, 0)
KIB = 1024
MIB = 1024**2
GIB = 1024**3


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def three_tiers(rules: tuple[Rule, ...] = (), pins: Pins | None = None, promotion: Promotion | None = None,
                cold: Tier | None = None) -> LabConfig:
    """hot (0.15), warm (0.035) and a cold tier (0.007 by default; a bucket when given)."""
    tiers = (Tier("hot", path=Path("/lab/hot"), price_per_gb_month=0.15),
             Tier("warm", path=Path("/lab/warm"), price_per_gb_month=0.035),
             cold or Tier("cold", path=Path("/lab/cold"), price_per_gb_month=0.007))
    return LabConfig(source=None, tiers=tiers, rules=rules, pins=pins or Pins(),
                     promotion=promotion or Promotion(reads=0))


def add_unit(cat: Catalog, name: str, tier: str, size: int, *, kind: str = "dataset", version: str = "",
             part: str = "", nfiles: int = 1, created: float = 100.0, modified: float | None = None,
             read: float | None = None, placed: float | None = None, version_id: int | None = None,
             state: str = "present", also: tuple[tuple[str, float], ...] = (),
             file_sizes: tuple[int, ...] = ()) -> int:
    """A unit first seen ``created`` days ago, modified/read ``modified``/``read`` days ago, placed on
    ``tier`` ``placed`` days ago (default: when first seen); ``also``: more (tier, placed) copies.
    Returns the unit id."""
    def write(conn: sa.Connection) -> int:
        uid = int(conn.execute(sa.insert(lab_units).values(
            kind=kind, name=name, version=version, part=part, content_hash=f"{abs(hash(name)):032x}", size=size,
            nfiles=nfiles, version_id=version_id, created_at=days_ago(created),
            modified_at=days_ago(modified) if modified is not None else None,
            last_access=days_ago(read) if read is not None else None,
            updated_at=NOW)).inserted_primary_key[0])  # type: ignore[index]
        for i, (t, when) in enumerate(((tier, created if placed is None else placed), *also)):
            pid = int(conn.execute(sa.insert(lab_placements).values(
                unit_id=uid, tier=t, location=f"/lab/{t}/datasets/{name}-{version}-{part}-{i}", state=state,
                created_at=days_ago(when))).inserted_primary_key[0])  # type: ignore[index]
            if file_sizes:
                conn.execute(sa.insert(lab_file_stats), [
                    {"placement_id": pid, "relpath": f"f{j}", "inode": j, "size": s, "mtime_ns": 0, "md5": "0" * 32}
                    for j, s in enumerate(file_sizes)])
        return uid

    return cat.write(write)


def add_reads(cat: Catalog, unit_id: int, *ago: float) -> None:
    if not ago:
        return

    def write(conn: sa.Connection) -> None:
        conn.execute(sa.insert(lab_access), [{"unit_id": unit_id, "at": days_ago(a), "source": "read", "reads": 1}
                                             for a in ago])

    cat.write(write)


def clear(cat: Catalog) -> None:
    def write(conn: sa.Connection) -> None:
        for table in (lab_access, lab_file_stats, lab_placements, lab_units):
            conn.execute(sa.delete(table))

    cat.write(write)
