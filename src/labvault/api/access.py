"""Reads recorded in the lab's access log: by ``checkout`` and ``pull``, and by any reader through
:func:`record_read`::

    from labvault import api

    api.record_read("/mnt/ssd0/datasets/imagenet_v2_train.tar")   # or "imagenet@v2"

A read is recorded when a lab is configured (a lab config file is found) and the lab's catalog has
units whose content hash is an output's oid. It never fails the command that read: any problem
(config, catalog unreachable) costs at most one warning line and no record. Without a lab config
the cost is the config lookup's file-exists checks; the outputs, pointers and catalog are not
touched. Recording is batched: one transaction per command, after its work
(``labvault.tiers.access.AccessLog``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from labvault.errors import LabvaultError
from labvault.progress import NULL_PROGRESS, Progress
from labvault.tiers import load as _load

if TYPE_CHECKING:
    from labvault.catalog.store import Catalog
    from labvault.workspace.checkout import CheckoutResult
    from labvault.workspace.index import Tracked
    from labvault.workspace.repo import Repo

PathLike = str | os.PathLike[str]

__all__ = ["record_checkout", "record_read", "record_read_hashes"]


def record_read(target: str, source: str = "read", lab: PathLike | None = None, catalog_url: str | None = None,
                progress: Progress = NULL_PROGRESS) -> int:
    """Record one read of the unit at (or containing) path ``target``, or of the units named
    ``NAME[@VERSION]``; returns how many units were recorded (0: no lab, or no such unit)."""
    found = _lab_file(lab, progress)
    if found is None:
        return 0

    def units(cat: Catalog) -> list[int]:
        from labvault.catalog.store import CatalogUnavailable
        from labvault.errors import CatalogError
        from labvault.tiers.where import where

        try:
            return [u.id for u in where(cat, target).units]
        except CatalogUnavailable:
            raise
        except CatalogError:  # no unit there or of that name: a read of something else
            return []

    return _record(found, catalog_url, source, units, progress)


def record_read_hashes(hashes: Iterable[str], source: str = "read", progress: Progress = NULL_PROGRESS) -> int:
    """Record one read of each lab unit whose content hash is one of ``hashes`` (a tracked
    output's oid: ``labvault.open``/``get`` record the output they read from). Returns how many
    units were recorded; never fails the read."""
    wanted = set(hashes)
    found = _lab_file(None, progress) if wanted else None
    if found is None:
        return 0

    def units(cat: Catalog) -> list[int]:
        from labvault.tiers.units import units_with_hashes

        return units_with_hashes(cat, wanted)

    return _record(found, None, source, units, progress)


def record_checkout(repo: Repo, result: CheckoutResult, source: str, extra: Iterable[Tracked] = ()) -> int:
    """Record a read of each lab unit whose content a checkout (or pull) just wrote into the
    workspace: the outputs with files added or modified. Returns how many units were recorded."""
    if not (result.added or result.modified):
        return 0
    found = _lab_file(None, repo.progress)
    if found is None:
        return 0

    def units(cat: Catalog) -> list[int]:
        from labvault.tiers.units import units_with_hashes
        from labvault.workspace.index import workspace_outputs

        oids = {t.rel: t.out.oid for t in [*workspace_outputs(repo), *extra] if t.out.oid}
        hashes = {oids[rel] for rel in _written_outputs([*result.added, *result.modified], oids)}
        return units_with_hashes(cat, hashes) if hashes else []

    return _record(found, None, source, units, repo.progress)


def _written_outputs(paths: list[str], outputs: Iterable[str]) -> set[str]:
    """The outputs that ``paths`` (an output's path, or a file inside it) belong to. Paths come
    grouped by output, so the last match is tried first (a prefix test per path)."""
    known = set(outputs)
    written: set[str] = set()
    last = None
    for p in paths:
        if last is not None and p.startswith(last) and (len(p) == len(last) or p[len(last)] == "/"):
            continue
        last = None
        probe = p
        while probe:
            if probe in known:
                last = probe
                written.add(probe)
                break
            probe = probe.rpartition("/")[0]
    return written


def _lab_file(lab: PathLike | None, progress: Progress) -> Path | None:
    try:
        return _load.find_lab_file(lab)
    except LabvaultError as exc:
        progress.message(f"warning: reads not recorded in the lab's access log: {exc.line()}")
        return None


def _record(found: Path, catalog_url: str | None, source: str, units: Callable[[Catalog], list[int]],
            progress: Progress) -> int:
    import sqlalchemy.exc

    from labvault.api.lab import lab_catalog
    from labvault.tiers.access import AccessLog

    try:
        cat = lab_catalog(_load.load_lab(found), catalog_url)
        ids = units(cat)
        if not ids:
            return 0
        log = AccessLog(cat)
        for uid in ids:
            log.record(uid, source)
        log.flush()
        return len(ids)
    except (LabvaultError, OSError, sqlalchemy.exc.SQLAlchemyError) as exc:
        line = exc.line() if isinstance(exc, LabvaultError) else str(exc).splitlines()[0]
        progress.message(f"warning: reads not recorded in the lab's access log: {line}")
        return 0
