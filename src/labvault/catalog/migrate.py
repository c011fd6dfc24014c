"""Create or upgrade a catalog database to the newest schema, with Alembic run from code.

Several processes may open a fresh catalog at once: the upgrade runs under a lock (a file lock
beside an SQLite database, an advisory lock on PostgreSQL), and each process re-reads the revision
after taking it, so exactly one of them migrates.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from labvault.catalog.plain import HEAD

if TYPE_CHECKING:  # imported when a migration runs: Alembic costs ~0.15 s at every start otherwise
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x1A5A017  # any constant: the advisory lock that serializes catalog upgrades


def current_revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(sa.text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row else None


def _script() -> tuple[AlembicConfig, ScriptDirectory]:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg, ScriptDirectory.from_config(cfg)


def upgrade(conn: sa.Connection, target: str = "head") -> None:
    """Apply every revision up to ``target`` in one transaction on ``conn`` (not yet in one)."""
    from alembic.runtime.environment import EnvironmentContext

    cfg, script = _script()

    def steps(rev: Any, context: Any) -> Any:
        return script._upgrade_revs(target, rev)

    with EnvironmentContext(cfg, script, fn=steps, destination_rev=target) as env:
        env.configure(connection=conn, target_metadata=None)
        with env.begin_transaction():
            env.run_migrations()


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def ensure_schema(engine: sa.Engine, sqlite_path: Path | None) -> None:
    """Bring the database at ``engine`` to HEAD unless it is there already (one cheap query)."""
    with engine.connect() as conn:
        if current_revision(conn) == HEAD:
            return
    if sqlite_path is not None:
        with _file_lock(sqlite_path.with_name(sqlite_path.name + ".migrate-lock")):
            _upgrade_locked(engine)
        return
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
        conn.commit()
        try:
            if current_revision(conn) != HEAD:
                conn.commit()
                upgrade(conn)
        finally:
            conn.rollback()
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
            conn.commit()


def _upgrade_locked(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        if current_revision(conn) == HEAD:
            return
        conn.rollback()
        upgrade(conn.execution_options(lv_write=True))
