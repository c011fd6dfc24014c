"""Consistent copies of the catalog database, for backups, and restoring them.

* SQLite: SQLite's online backup API (``sqlite3.Connection.backup``, all pages in one step, so the
  copy is the database as of one read transaction while other processes keep writing), into a
  new file switched to ``journal_mode=DELETE`` (one self-contained file) and checked with
  ``PRAGMA integrity_check``: ``catalog.sqlite``.
* PostgreSQL: ``pg_dump --format=custom`` (one snapshot transaction): ``catalog.pgdump``. The
  connection settings go to pg_dump/pg_restore through ``PGHOST``, ``PGPORT``, ``PGUSER``,
  ``PGPASSWORD``, ``PGDATABASE`` in their environment, never on their command line.

Restoring: a SQLite file is written to a temp name beside its final one, fsynced and renamed
(refused over an existing file unless ``force``; then the backup API copies the pages into the
live database in one transaction, so its WAL and other connections stay consistent). A dump goes
through ``pg_restore --single-transaction --exit-on-error`` into an empty database only.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess

import sqlalchemy as sa

from labvault.errors import CatalogError, StorageError, UsageError, from_os_error
from labvault.fsutil import fsync_dir, tmp_name

SQLITE_NAME = "catalog.sqlite"
PG_NAME = "catalog.pgdump"


def pg_tool(name: str) -> str:
    """``pg_dump``/``pg_restore``: the newest under /usr/lib/postgresql (Debian's layout, as the
    test server is found), else on PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise StorageError(f"{name} is not installed: it is needed to copy a PostgreSQL catalog",
                           "install the PostgreSQL client (apt-get install -y postgresql-client)")
    return path


def _url(url: str) -> sa.URL:
    try:
        return sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise UsageError(f"bad catalog URL {url!r}", "use sqlite:///PATH or postgresql://USER@HOST/DB") from None


def is_sqlite(url: str) -> bool:
    return _url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> str:
    db = _url(url).database
    if not db or db == ":memory:":
        raise UsageError(f"catalog {url!r} is not a file", "give sqlite:///PATH")
    return os.path.abspath(os.path.expanduser(db))


def pg_env(url: str) -> dict[str, str]:
    """The environment for pg_dump/pg_restore: the URL's settings (password included) as PG* variables."""
    u = _url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, value in (("PGHOST", u.host), ("PGPORT", u.port), ("PGUSER", u.username),
                       ("PGPASSWORD", u.password), ("PGDATABASE", u.database)):
        if value is not None:
            env[key] = str(value)
    sslmode = u.query.get("sslmode")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = sslmode
    return env


def dump_catalog(url: str, folder: str) -> str:
    """Write a consistent copy of the catalog at ``url`` into ``folder``; the file's path."""
    if is_sqlite(url):
        src = sqlite_path(url)
        if not os.path.exists(src):
            raise CatalogError(f"the catalog database {src} does not exist", "check the lab's catalog_url")
        out = os.path.join(folder, SQLITE_NAME)
        copy_sqlite(src, out)
        return out
    out = os.path.join(folder, PG_NAME)
    _run([pg_tool("pg_dump"), "--format=custom", "--no-password", f"--file={out}"], pg_env(url), "pg_dump")
    return out


def copy_sqlite(src: str, dst: str) -> None:
    """The online backup of ``src`` into the new file ``dst`` (one step: one moment in time)."""
    try:
        source = sqlite3.connect(src, timeout=60)
        try:
            target = sqlite3.connect(dst)
            try:
                source.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")
                _check_sqlite(target, dst)
            finally:
                target.close()
        finally:
            source.close()
        fd = os.open(dst, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except sqlite3.Error as e:
        raise CatalogError(f"cannot copy the catalog database {src}: {e}") from e
    except OSError as e:
        raise from_os_error(e, "copying the catalog database") from e


def _check_sqlite(conn: sqlite3.Connection, name: str) -> None:
    row = conn.execute("PRAGMA integrity_check").fetchone()
    if not row or row[0] != "ok":
        raise CatalogError(f"{name} fails SQLite's integrity check: {row[0] if row else 'no answer'}")


def restore_sqlite(dump: str, dest: str, force: bool = False) -> None:
    """Put the SQLite copy ``dump`` at ``dest``: a new file atomically; over an existing one only
    with ``force`` (through the backup API, one transaction in the live database)."""
    try:
        with sqlite3.connect(dump) as check:
            _check_sqlite(check, dump)
        check.close()
    except sqlite3.DatabaseError as e:
        raise CatalogError(f"the catalog copy in the snapshot is not a SQLite database: {e}") from e
    if os.path.lexists(dest):
        if not force:
            raise UsageError(f"{dest} exists (a live catalog?); nothing was changed",
                             "give --to a new file, or --force to replace its contents")
        _into_live(dump, dest)
        return
    tmp = tmp_name(dest)
    try:
        shutil.copyfile(dump, tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, dest)
        fsync_dir(os.path.dirname(dest) or ".")
    except OSError as e:
        raise from_os_error(e, "writing the restored catalog") from e
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def _into_live(dump: str, dest: str) -> None:
    try:
        source = sqlite3.connect(dump)
        try:
            target = sqlite3.connect(dest, timeout=60)
            try:
                source.backup(target)
                _check_sqlite(target, dest)
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as e:
        raise CatalogError(f"cannot restore into {dest}: {e}") from e


def restore_postgres(dump: str, url: str) -> None:
    """``pg_restore`` the dump into the empty database at ``url`` (refused if it holds any table)."""
    engine = sa.create_engine(sa.engine.make_url(url).set(drivername="postgresql+psycopg"),
                              connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as conn:
            n = conn.execute(sa.text(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")).scalar_one()
    except sa.exc.OperationalError as e:
        raise CatalogError(f"cannot reach {_url(url).render_as_string(hide_password=True)}",
                           str(e.orig).strip().splitlines()[0] if e.orig else "check the URL") from e
    finally:
        engine.dispose()
    if n:
        raise UsageError(f"database {_url(url).database} is not empty ({n} tables); nothing was changed",
                         "restore into a new, empty database (createdb NAME)")
    _run([pg_tool("pg_restore"), "--no-password", "--exit-on-error", "--single-transaction", "--no-owner",
          f"--dbname={_url(url).database}", dump], pg_env(url), "pg_restore")


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    except OSError as e:
        raise from_os_error(e, f"running {what}") from e
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise CatalogError(f"{what} failed: {lines[0] if lines else f'exit {proc.returncode}'}",
                           "check the catalog URL and that the database is reachable")
