"""The lab's tiers as the last place to read a tracked file from.

A lab unit's content hash is an output's oid (a file's md5, or a folder's ``.dir`` oid): when the
cache and the remote both lack a file object, the live placements (present or verified) on folder
tiers of the units with the output's oid are asked, at the file's path inside the placement. The
catalog is opened only then. What is read is checked against the file's md5 like any other source.
A folder's manifest is not looked for on the tiers: it must come from the cache or the remote.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from labvault.errors import LabvaultError
from labvault.progress import Progress
from labvault.workspace.locate import Located

LIVE = ("present", "verified")


def tier_fallback(found: Located, progress: Progress) -> Callable[[str], list[str]] | None:
    out = found.output
    if out is None:
        return None
    inner = found.rel[len(out.rel) + 1 :] if found.rel != out.rel else ""
    by_oid: dict[str, list[str]] = {}
    for sub, oid in found.files:
        rel = "/".join(p for p in (inner, sub) if p)
        by_oid.setdefault(oid, []).append(rel)
    bases: list[str] | None = None

    def paths(oid: str) -> list[str]:
        nonlocal bases
        if bases is None:
            bases = _placements(out.oid, progress)
        return [os.path.join(b, rel) if rel else b for b in bases for rel in by_oid.get(oid, [])]

    return paths


def _placements(content_hash: str, progress: Progress) -> list[str]:
    import sqlalchemy.exc

    from labvault.api.access import _lab_file
    from labvault.api.lab import lab_catalog
    from labvault.tiers import load
    from labvault.tiers.units import unit_by_id, units_with_hashes

    found = _lab_file(None, progress)
    if found is None:
        return []
    try:
        cat = lab_catalog(load.load_lab(found))
        bases: list[str] = []
        for uid in units_with_hashes(cat, [content_hash]):
            unit = unit_by_id(cat, uid)
            for p in unit.placements if unit is not None else ():
                if p.state in LIVE and os.path.isabs(p.location):
                    bases.append(p.location)
        return bases
    except (LabvaultError, OSError, sqlalchemy.exc.SQLAlchemyError) as exc:
        line = exc.line() if isinstance(exc, LabvaultError) else str(exc).splitlines()[0]
        progress.message(f"warning: the lab's tiers were not searched: {line}")
        return []
