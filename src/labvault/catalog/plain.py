"""What a catalog reader needs before (or instead of) SQLAlchemy: the default URL, URL spelling,
the schema's newest revision, the current time as stored, and a read-only stdlib connection.

``labvault monitor`` reads an SQLite catalog through :func:`sqlite_rows` (``sqlite3`` alone): the
SQLAlchemy engine costs about 0.2 s of start-up, more than the whole report. Anything else, a
PostgreSQL catalog or one whose schema is older than :data:`HEAD` (it must be migrated first),
goes through ``Catalog.sql_rows`` instead, which answers the same SQL.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Protocol

HEAD = "0015"  # the newest migration (labvault.catalog.migrations); checked by tests/catalog/test_migrations.py
SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's DateTime stores a time in SQLite


def default_url() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return "sqlite:///" + os.path.join(base, "labvault", "catalog.sqlite")


def normalize_url(url: str) -> str:
    url = url.strip()
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def now() -> datetime:
    """The current time as naive UTC, the form every timestamp column holds."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class SqlRows(Protocol):
    """Plain SQL with ``:name`` parameters, in one read transaction."""

    dialect: str

    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]: ...

    def stamp(self, at: datetime) -> Any:
        """``at`` as a parameter compared with a stored timestamp."""

    def time(self, value: Any) -> datetime:
        """A stored timestamp as a naive UTC datetime."""


class SqliteRows:
    """:class:`SqlRows` on a stdlib ``sqlite3`` connection."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, dict(params or {})).fetchall()

    def stamp(self, at: datetime) -> Any:
        return sqlite_stamp(at)

    def time(self, value: Any) -> datetime:
        return parse_time(value)


def sqlite_stamp(at: datetime) -> str:
    return at.strftime(SQLITE_STAMP)


def parse_time(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[no-any-return]


def sqlite_path(url: str) -> str | None:
    """The file of a plain ``sqlite:///PATH`` URL; None for anything else (PostgreSQL, options,
    an in-memory database, a ``%`` that SQLAlchemy would read as an escape)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url or "%" in url:
        return None
    path = url[len(prefix):]
    return os.path.expanduser(path) if path and path != ":memory:" else None


def _uri_path(path: str) -> str:
    """``path`` (without ``%`` or ``?``) in an SQLite ``file:`` URI: ``#`` would end it."""
    return path.replace("#", "%23")


@contextmanager
def sqlite_rows(url: str) -> Iterator[SqliteRows | None]:
    """A read transaction on the SQLite catalog at ``url`` through ``sqlite3`` alone, or None when
    that cannot serve: not a plain SQLite file URL, no such file (it must be created), a schema
    that is not at :data:`HEAD` (it must be migrated), or an unreadable database. Nothing is
    written: the file is opened read-write only because a WAL database needs it to read."""
    path = sqlite_path(normalize_url(url))
    if path is None or not os.path.isfile(path):
        yield None
        return
    try:
        conn = sqlite3.connect(f"file:{_uri_path(os.path.abspath(path))}?mode=rw", uri=True, timeout=60,
                               isolation_level=None)
    except sqlite3.Error:
        yield None
        return
    try:
        try:
            conn.execute("BEGIN")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:
            row = None
        yield SqliteRows(conn) if row is not None and row[0] == HEAD else None
    finally:
        conn.close()
