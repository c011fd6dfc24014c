"""The catalog database in backups::

    from labvault import api

    api.backup_run("nightly")          # a policy with `catalog: true` copies the catalog into its snapshot
    api.catalog_restore_db("latest", "/srv/labvault/restored.sqlite", policy="nightly")
    api.catalog_restore_db("20261203T1015", "postgresql://lab@db/labvault_restored")

A snapshot holds the copy as ``catalog/catalog.sqlite`` (SQLite's online backup) or
``catalog/catalog.pgdump`` (``pg_dump --format=custom``); see ``labvault.catalog.dbcopy``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from labvault.api.backup import _find, catalog_dump_source
from labvault.backup.engine import OwnEngine
from labvault.backup.restore import restore_entries
from labvault.backup.snapshots import load_manifest, load_snapshot, resolve
from labvault.catalog import dbcopy
from labvault.catalog.store import masked, normalize_url
from labvault.errors import UsageError
from labvault.progress import NULL_PROGRESS, Progress
from labvault.tiers import load as _load

PathLike = str | os.PathLike[str]

__all__ = ["CatalogRestoreResult", "catalog_dump_source", "catalog_restore_db"]


@dataclass(frozen=True)
class CatalogRestoreResult:
    snapshot: str
    kind: str  # sqlite or postgresql
    to: str
    bytes: int
    replaced: bool


def catalog_restore_db(snapshot: str, to: str, policy: str | None = None, force: bool = False,
                       lab: PathLike | None = None, progress: Progress = NULL_PROGRESS) -> CatalogRestoreResult:
    """Restore the catalog copy held by ``snapshot`` to ``to``: a SQLite file path or ``sqlite:///``
    URL (written atomically; an existing file only with ``force``), or a PostgreSQL URL of an
    empty database (``pg_restore``). The copy's md5 is checked as it is fetched from the target."""
    config = _load.load_lab(lab)
    p = _find(config, snapshot, policy)
    engine = OwnEngine(p.target, dict(p.options))
    try:
        sid = resolve(engine.target, snapshot)
        entries = load_manifest(engine.target, load_snapshot(engine.target, sid))
        found = [e for e in entries if e.type == "file" and e.relpath in
                 (f"catalog/{dbcopy.SQLITE_NAME}", f"catalog/{dbcopy.PG_NAME}")]
        if not found:
            raise UsageError(f"snapshot {sid} holds no catalog database",
                             "back it up with a policy that has `catalog: true`")
        entry = found[0]
        kind = "sqlite" if entry.relpath.endswith(dbcopy.SQLITE_NAME) else "postgresql"
        to_sqlite = "://" not in to or to.startswith("sqlite:")
        if to_sqlite != (kind == "sqlite"):
            raise UsageError(f"snapshot {sid} holds a {kind} catalog; it cannot be restored into {masked(to)}",
                             "give a SQLite file for a SQLite copy, a postgresql:// URL for a PostgreSQL dump")
        with tempfile.TemporaryDirectory(prefix="labvault-catalog-restore-") as tmp:
            restore_entries(engine.target, sid, [entry], tmp, progress=progress, jobs=1)
            dump = os.path.join(tmp, entry.relpath)
            if kind == "sqlite":
                dest = dbcopy.sqlite_path(to) if to.startswith("sqlite:") else os.path.abspath(to)
                replaced = os.path.lexists(dest)
                dbcopy.restore_sqlite(dump, dest, force)
                return CatalogRestoreResult(sid, kind, dest, entry.size, replaced)
            dbcopy.restore_postgres(dump, to)
            return CatalogRestoreResult(sid, kind, masked(normalize_url(to)), entry.size, False)
    finally:
        engine.close()
