"""``column ~ 'pattern'`` of the search language: ``*`` any run of characters, ``?`` one character,
everything else literal, and case-sensitive on every backend.

PostgreSQL's ``LIKE`` is case-sensitive, SQLite's is not (for ASCII letters), so on SQLite the
pattern becomes a ``GLOB`` (case-sensitive, ``*`` and ``?`` as here; a literal ``[`` is written
``[[]``) and elsewhere a ``LIKE`` with ``%`` and ``_`` escaped.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement


class GlobMatch(ColumnElement[bool]):
    """``column`` matches the glob ``pattern`` (see the module docstring)."""

    type = sa.Boolean()
    inherit_cache = True

    def __init__(self, column: Any, pattern: str) -> None:
        self.column = column
        self.pattern = pattern


def like_pattern(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


@compiles(GlobMatch)
def _like(element: GlobMatch, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column.like(like_pattern(element.pattern), escape="\\"), **kw))


@compiles(GlobMatch, "sqlite")
def _glob(element: GlobMatch, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column.op("GLOB")(element.pattern.replace("[", "[[]")), **kw))
