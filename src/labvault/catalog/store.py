"""Opening a catalog: the database URL, the engine, transactions, and errors a person can act on.

The default is one SQLite file, ``$XDG_DATA_HOME/labvault/catalog.sqlite`` (WAL journal, a busy
timeout, writers serialized with ``BEGIN IMMEDIATE``: safe for several processes at once).
``LABVAULT_CATALOG_URL`` or ``labvault.catalog_url`` selects PostgreSQL
(``postgresql+psycopg://user@host/db``), which behaves the same.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event, exc

from labvault.catalog.migrate import ensure_schema
from labvault.catalog.plain import (
    SqlRows,
    default_url,
    normalize_url,
    now,
    parse_time,
    sqlite_stamp,
)
from labvault.errors import CatalogError

T = TypeVar("T")
__all__ = ["Catalog", "CatalogUnavailable", "default_url", "forget", "masked", "normalize_url", "now",
           "open_catalog"]

_CACHE: dict[str, Catalog] = {}
_CACHE_LOCK = threading.Lock()


class CatalogUnavailable(CatalogError):
    """The database could not be reached or used (connection, lock, disk): the same change may
    succeed later, unlike a change the database refused."""


def masked(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return url


def _enable_wal(cur: Any, patience: float = 60.0) -> None:
    """Switch the database file to WAL once; several processes may race to do it on first use.

    SQLite answers a journal-mode change that clashes with another connection's lock with
    "database is locked" at once, without waiting on busy_timeout, so wait here instead.
    """
    deadline = time.monotonic() + patience
    delay = 0.005
    while True:
        try:
            row = cur.execute("PRAGMA journal_mode").fetchone()
            if row and str(row[0]).lower() == "wal":
                return
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            text = str(e).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def _sqlite_engine(url: sa.URL) -> tuple[sa.Engine, Path | None]:
    path: Path | None = None
    if url.database and url.database != ":memory:":
        path = Path(url.database).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CatalogError(f"cannot create the catalog folder {path.parent}: {e.strerror}") from e
        url = url.set(database=str(path))
    engine = sa.create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # labvault issues BEGIN itself (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 60000")
        if path is not None:
            _enable_wal(cur)
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get("lv_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine, path


def _make_engine(url_text: str) -> tuple[sa.Engine, Path | None]:
    try:
        url = sa.engine.make_url(url_text)
    except exc.ArgumentError as e:
        raise CatalogError(
            f"bad catalog URL {url_text!r}",
            "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
        ) from e
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if url.get_backend_name() != "postgresql":
        raise CatalogError(
            f"unsupported catalog database {url.get_backend_name()!r}", "use SQLite or PostgreSQL"
        )
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 10}, pool_pre_ping=True)
    except ModuleNotFoundError as e:
        raise CatalogError(
            "the PostgreSQL driver is not installed", "pip install 'labvault[postgres]'"
        ) from e
    return engine, None


class Catalog:
    """An open catalog database. Get one with ``open_catalog()``; it is safe to share in a process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine, self.sqlite_path = _make_engine(url)
        self.dialect = self.engine.dialect.name
        try:
            ensure_schema(self.engine, self.sqlite_path)
        except exc.OperationalError as e:
            self.engine.dispose()
            raise CatalogUnavailable(
                f"cannot reach the catalog database {masked(url)}",
                f"{_first_line(e)}; check LABVAULT_CATALOG_URL or labvault.catalog_url",
            ) from e

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except exc.OperationalError as e:
            raise CatalogUnavailable(f"catalog database error: {_first_line(e)}") from e

    def write(self, fn: Callable[[sa.Connection], T]) -> T:
        """Run ``fn`` in one write transaction; retry it when the database reports a transient clash."""
        for attempt in range(8):
            try:
                with self.engine.connect() as conn:
                    conn = conn.execution_options(lv_write=True)
                    with conn.begin():
                        return fn(conn)
            except (exc.OperationalError, exc.IntegrityError) as e:
                if attempt == 7 or not _transient(e):
                    if isinstance(e, exc.IntegrityError):
                        raise CatalogError(f"conflicting catalog change: {_first_line(e)}") from e
                    if _refused(e):
                        raise CatalogError(f"the catalog database refused a value: {_first_line(e)}") from e
                    raise CatalogUnavailable(f"catalog database error: {_first_line(e)}") from e
                time.sleep(0.02 * (attempt + 1))
            except exc.DataError as e:
                raise CatalogError(f"the catalog database refused a value: {_first_line(e)}") from e
        raise AssertionError("unreachable")

    @contextmanager
    def sql_rows(self) -> Iterator[SqlRows]:
        """Plain SQL (``:name`` parameters) in one read transaction: what
        ``labvault.catalog.plain.sqlite_rows`` answers without SQLAlchemy."""
        with self.read() as conn:
            yield _EngineRows(conn)

    def close(self) -> None:
        self.engine.dispose()


class _EngineRows:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect.name

    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._conn.execute(sa.text(sql), dict(params or {}))]

    def stamp(self, at: datetime) -> Any:
        return sqlite_stamp(at) if self.dialect == "sqlite" else at

    def time(self, value: Any) -> datetime:
        return parse_time(value)


def _first_line(e: BaseException) -> str:
    text = str(getattr(e, "orig", None) or e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _refused(e: exc.DBAPIError) -> bool:
    """PostgreSQL refused the data itself (data exception, a value over a limit): retrying the
    same change later cannot succeed, unlike a lost connection."""
    code = getattr(e.orig, "sqlstate", None) or ""
    return code[:2] in ("22", "54")


def _transient(e: exc.DBAPIError) -> bool:
    code = getattr(e.orig, "sqlstate", None)
    if code in ("40001", "40P01", "23505"):  # serialization failure, deadlock, a lost insert race
        return True
    text = str(e.orig).lower()
    return "database is locked" in text or "database table is locked" in text


def open_catalog(url: str | None = None) -> Catalog:
    """The catalog at ``url`` (default: the SQLite file in the user's data folder), created or
    upgraded to the newest schema on first use. Catalogs are cached per process."""
    key = normalize_url(url or default_url())
    with _CACHE_LOCK:
        cat = _CACHE.get(key)
        if cat is None:
            cat = Catalog(key)
            _CACHE[key] = cat
        return cat


def forget(url: str | None = None) -> None:
    """Close cached catalogs (all, or the one at ``url``); the next open reconnects."""
    with _CACHE_LOCK:
        keys = [normalize_url(url)] if url else list(_CACHE)
        for key in keys:
            cat = _CACHE.pop(key, None)
            if cat is not None:
                cat.close()


def _after_fork() -> None:
    for cat in _CACHE.values():
        cat.engine.dispose(close=False)
    _CACHE.clear()


os.register_at_fork(after_in_child=_after_fork)
