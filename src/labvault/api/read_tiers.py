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

from labvault.core.odb import ObjectStore
from labvault.errors import LabvaultError
from labvault.progress import Progress
from labvault.workspace.locate import Located
from labvault.workspace.repo import Repo

LIVE = ("present", "verified")


def tier_fallback(found: Located, progress: Progress, repo: Repo | None = None) -> Callable[[str], list[str]] | None:
    """Local paths to try for a file object the cache and the remote lack: the spill tiers of
    ``repo``'s cache (their ``files/md5`` stores, named by the repo's config: no catalog), then the
    lab units' placements."""
    spill = spill_stores(repo) if repo is not None else []
    out = found.output
    if out is None:
        return (lambda oid: [s.oid_path(oid) for s in spill]) if spill else None
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
        spilled = [s.oid_path(oid) for s in spill]
        return spilled + [os.path.join(b, rel) if rel else b for b in bases for rel in by_oid.get(oid, [])]

    return paths


def spill_stores(repo: Repo) -> list[ObjectStore]:
    """The object stores of the tiers the repo's cache spilled to: each is the remote named after
    the tier, registered with the tier's folder as its url (``.dvc/config``)."""
    from labvault.api.spill_setup import spill_tiers
    from labvault.workspace.remotes import remote_url

    stores: list[ObjectStore] = []
    for name in spill_tiers(repo):
        try:
            _, url = remote_url(repo, name)
        except LabvaultError:
            continue
        if "://" not in url:
            stores.append(ObjectStore(url))
    return stores


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
