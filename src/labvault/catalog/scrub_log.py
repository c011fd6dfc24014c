"""What was verified when (revision 0008): ``verify_records``, one row per (scope, item).

A run of ``labvault verify --remote/--tier`` writes one row per object it read (or found missing),
replacing that object's previous row, so the table says when each object was last proven intact;
``labvault verify --status`` reads it back for coverage figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from labvault.catalog.scrub_schema import verify_records
from labvault.catalog.store import Catalog

_BATCH = 500


@dataclass(frozen=True)
class Record:
    item: str
    size: int
    verified_at: datetime
    ok: bool
    problem: str | None
    detail: str | None


def record(cat: Catalog, scope: str, rows: Sequence[Record]) -> None:
    """Upsert ``rows`` (the newest result per item wins), in batches of one transaction each."""
    for i in range(0, len(rows), _BATCH):
        batch: list[dict[str, object]] = [{"scope": scope, "item": r.item, "size": r.size, "verified_at": r.verified_at, "ok": r.ok,
                  "problem": r.problem, "detail": r.detail} for r in rows[i:i + _BATCH]]

        def write(conn: sa.Connection, batch: list[dict[str, object]] = batch) -> None:
            if conn.dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as pg_insert

                ins = pg_insert(verify_records)
            else:
                from sqlalchemy.dialects.sqlite import insert as sqlite_insert

                ins = sqlite_insert(verify_records)  # type: ignore[assignment]
            stmt = ins.on_conflict_do_update(
                index_elements=["scope", "item"],
                set_={k: ins.excluded[k] for k in ("size", "verified_at", "ok", "problem", "detail")})
            conn.execute(stmt, batch)

        cat.write(write)


def records(cat: Catalog, scope: str) -> dict[str, Record]:
    """Every row of ``scope``, by item."""
    q = sa.select(verify_records).where(verify_records.c.scope == scope)
    with cat.read() as conn:
        return {r.item: Record(r.item, r.size, r.verified_at, r.ok, r.problem, r.detail) for r in conn.execute(q)}
