"""Immutable raw data: ``protect`` makes a tracked output or a lab dataset read-only, and
``lift_protection`` (``labvault unprotect``) undoes it::

    from labvault import api

    r = api.protect("data/raw/reviews")           # or a lab dataset: api.protect("imagenet@v2")
    print(r.paths, r.immutable)                    # immutable: chattr +i applied (None: not tried)
    api.protected()                                # what the catalog records as protected
    api.lift_protection("data/raw/reviews")

Protecting clears every write bit (``labvault.core.readonly``), tries the immutable flag, writes
the marker into the output's ``.dvc`` file (``labvault.workspace.protected``) for a repository
output, and records one ``protections`` row per path in the catalog. A repository's protected
output then shows as protected in ``status``; ``add``/``commit`` refuse new content for it unless
``new_version=True``; ``card_check`` refuses it without a provenance card. ``dry_run`` checks
everything and changes nothing. See docs/design.md, "Protection and access control".
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, replace

from labvault.api.data_targets import CatalogFor, Resolved, catalog_for, resolve_data
from labvault.catalog.protections import (
    Protection,
    forget_protection,
    protection_list,
    record_protection,
)
from labvault.catalog.store import Catalog, now
from labvault.core import readonly
from labvault.errors import from_os_error
from labvault.workspace.protected import is_protected, set_marker

PathLike = str | os.PathLike[str]

__all__ = ["ProtectResult", "Protection", "lift_protection", "protect", "protected", "who"]


@dataclass(frozen=True)
class ProtectResult:
    """One protected (or unprotected) path: ``changed`` False when it already was so;
    ``immutable``: the flag is set (True), could not be (False, with ``immutable_problem``), or
    was not attempted or cleared (None)."""

    target: str
    kind: str
    path: str
    changed: bool
    files: int
    dirs: int
    immutable: bool | None
    immutable_problem: str | None
    dry_run: bool


def who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.geteuid())


def _recorded(cat_rows: list[Protection], path: str) -> Protection | None:
    return next((p for p in cat_rows if p.path == path), None)


def protect(targets: list[str], dry_run: bool = False, repo: PathLike | None = None, lab: PathLike | None = None,
            catalog_url: str | None = None) -> list[ProtectResult]:
    """Make ``targets`` (tracked outputs, or lab datasets by name or path) read-only and record it.
    Every target is resolved before anything changes."""
    cat = catalog_for(lab, catalog_url)
    chosen = [res for t in targets for res in resolve_data(t, lab, lambda: cat, repo)]
    rows = protection_list(cat, [c.path for c in chosen])
    results: list[ProtectResult] = []
    for res in chosen:
        marked = res.tracked is not None and is_protected(res.tracked.pointer)
        writable = bool(readonly.writable_entries(res.path))
        already = (marked or res.kind == "lab") and _recorded(rows, res.path) is not None and not writable
        if dry_run:
            results.append(ProtectResult(res.target, res.kind, res.path, not already, 0, 0, None, None, True))
            continue
        results.append(_protect_one(cat, res, already))
    return results


def _protect_one(cat: Catalog, res: Resolved, already: bool) -> ProtectResult:
    try:
        if res.repo is not None and res.tracked is not None:
            with res.repo.locked():
                set_marker(res.tracked.pointer, True)
                applied = readonly.make_read_only(res.path)
        else:
            applied = readonly.make_read_only(res.path)
    except OSError as exc:
        raise from_os_error(exc, "protecting") from exc
    record_protection(cat, Protection(res.path, res.kind, res.target, res.content_hash, bool(applied.immutable),
                                      now(), who()))
    return ProtectResult(res.target, res.kind, res.path, not already, applied.files, applied.dirs,
                         applied.immutable, applied.immutable_problem, False)


def lift_protection(targets: list[str], dry_run: bool = False, repo: PathLike | None = None,
                    lab: PathLike | None = None, catalog_url: str | None = None) -> list[ProtectResult]:
    """Undo :func:`protect`: clear the immutable flag, give the owner write permission back,
    remove the marker and the catalog row. Targets that were not protected are left alone
    (``changed`` False)."""
    cat = CatalogFor(lab, catalog_url)
    chosen = [res for t in targets for res in resolve_data(t, lab, cat, repo)]
    results: list[ProtectResult] = []
    for res in chosen:
        marked = res.tracked is not None and is_protected(res.tracked.pointer)
        # A repository output is protected by its marker: the catalog is opened only for those.
        recorded = (marked or res.kind == "lab") and bool(protection_list(cat(), [res.path]))
        flagged = readonly.is_immutable(res.path)
        if not (marked or recorded or flagged):
            results.append(ProtectResult(res.target, res.kind, res.path, False, 0, 0, None, None, dry_run))
            continue
        if dry_run:
            results.append(ProtectResult(res.target, res.kind, res.path, True, 0, 0, None, None, True))
            continue
        try:
            if res.repo is not None and res.tracked is not None:
                with res.repo.locked():
                    applied = readonly.make_writable(res.path)
                    set_marker(res.tracked.pointer, False)
            else:
                applied = readonly.make_writable(res.path)
        except OSError as exc:
            raise from_os_error(exc, "unprotecting") from exc
        if marked or recorded:
            forget_protection(cat(), res.path)
        results.append(ProtectResult(res.target, res.kind, res.path, True, applied.files, applied.dirs, None, None,
                                     False))
    return results


def protected(lab: PathLike | None = None, catalog_url: str | None = None) -> list[Protection]:
    """Every path the catalog records as protected."""
    return protection_list(catalog_for(lab, catalog_url))



def note_new_versions(paths_and_hashes: list[tuple[str, str]], lab: PathLike | None = None,
                      catalog_url: str | None = None) -> int:
    """After ``add``/``commit --new-version``: the protections rows of these paths get the new
    content hash. Returns how many rows changed."""
    if not paths_and_hashes:
        return 0
    cat = catalog_for(lab, catalog_url)
    rows = {p.path: p for p in protection_list(cat, [path for path, _ in paths_and_hashes])}
    changed = 0
    for path, oid in paths_and_hashes:
        row = rows.get(path)
        if row is not None and row.content_hash != oid:
            record_protection(cat, replace(row, content_hash=oid, at=now(), by=who()))
            changed += 1
    return changed
