"""``where``: which tiers hold a unit, found by ``NAME[@VERSION]`` or by a path.

A path is looked up as given and with symlinks resolved (a moved unit's old path forwards to its
new one), then each parent in turn, so a file inside a dataset folder names that dataset. A path
nothing holds any more is followed through the move journal (a unit moved to a bucket tier
leaves nothing at its old path).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import sqlalchemy as sa

from labvault.catalog.lab_schema import lab_moves
from labvault.catalog.store import Catalog
from labvault.errors import CatalogError, UnknownNameError
from labvault.tiers.types import LabUnit
from labvault.tiers.units import find_units, unit_at


@dataclass(frozen=True)
class WhereResult:
    query: str
    units: tuple[LabUnit, ...]


def looks_like_path(target: str) -> bool:
    return os.sep in target or target.startswith(".") or os.path.lexists(target)


def where(cat: Catalog, target: str) -> WhereResult:
    if looks_like_path(target):
        unit = _by_path(cat, target)
        if unit is None:
            raise CatalogError(f"no lab unit holds {target}",
                               "register the tiers' content with `labvault lab scan`, or check the path")
        return WhereResult(target, (unit,))
    name, _, version = target.partition("@")
    units = find_units(cat, name, version or None)
    if not units:
        what = f"{name}@{version}" if version else name
        raise UnknownNameError(f"no lab unit named {what}",
                           "run `labvault lab scan` to register the tiers' content, or check the name")
    return WhereResult(target, tuple(units))


def _by_path(cat: Catalog, target: str) -> LabUnit | None:
    unit = _by_path_now(cat, target)
    if unit is None:
        unit = _by_old_path(cat, os.path.abspath(target))
    return unit


def _by_old_path(cat: Catalog, path: str) -> LabUnit | None:
    """A path a unit was moved away from without a link left (to a bucket tier, or with
    ``symlink_old_path: false``): the journal's newest finished move from it, followed on."""
    for _hop in range(64):
        with cat.read() as conn:
            row = conn.execute(sa.select(lab_moves.c.dst_location).where(
                lab_moves.c.src_location == path, lab_moves.c.state == "done").order_by(lab_moves.c.id.desc())).first()
        if row is None:
            return None
        path = str(row.dst_location)
        unit = unit_at(cat, path)
        if unit is not None:
            return unit
    return None


def _by_path_now(cat: Catalog, target: str) -> LabUnit | None:
    tried: set[str] = set()
    for start in (os.path.abspath(target), os.path.realpath(target)):
        path = start
        while path not in tried:
            tried.add(path)
            unit = unit_at(cat, path)
            if unit is not None:
                return unit
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
    return None
