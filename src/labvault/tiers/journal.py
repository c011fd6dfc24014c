"""The move journal (``lab_moves``): one row per unit move, written before anything is touched.

States, in order: ``planned`` (row written, nothing copied yet, or a partial copy at the temp
name), ``copied`` (the temp copy is complete and flushed), ``verified`` (its bytes hash to the
unit's content hash), ``switched`` (in the same transaction: the destination placement is
verified, the source placement is ``deleting``), ``done``. A move that cannot go on ends
``failed`` (with its one-line error; the source untouched), and one that recovery undid after a
crash ends ``rolled_back``. Only the move lock's holder writes rows that are not terminal.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import sqlalchemy as sa

from labvault.catalog.lab_schema import lab_moves
from labvault.catalog.store import Catalog, now

TERMINAL = ("done", "rolled_back", "failed")
BEFORE_SWITCH = ("planned", "copied", "verified")


@dataclass(frozen=True)
class MoveRow:
    id: int
    unit_id: int
    src_tier: str
    src_location: str
    dst_tier: str
    dst_location: str
    state: str
    reason: str | None
    bytes: int
    error: str | None


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


def plan_move(cat: Catalog, unit_id: int, src_tier: str, src_location: str, dst_tier: str, dst_location: str,
              reason: str | None, nbytes: int) -> int:
    """Write a ``planned`` row; returns its id."""
    t = now()

    def write(conn: sa.Connection) -> int:
        return int(conn.execute(sa.insert(lab_moves).values(
            unit_id=unit_id, src_tier=src_tier, src_location=src_location, dst_tier=dst_tier,
            dst_location=dst_location, state="planned", reason=reason, bytes=nbytes, owner=owner(),
            created_at=t, updated_at=t)).inserted_primary_key[0])  # type: ignore[index]

    return cat.write(write)


def set_state(conn: sa.Connection, move_id: int, state: str, error: str | None = None) -> None:
    values: dict[str, object] = {"state": state, "updated_at": now()}
    if error is not None:
        values["error"] = error[:2000]
    conn.execute(sa.update(lab_moves).where(lab_moves.c.id == move_id).values(**values))


def advance(cat: Catalog, move_id: int, state: str, error: str | None = None) -> None:
    """Set one row's state in its own transaction."""

    def write(conn: sa.Connection) -> None:
        set_state(conn, move_id, state, error)

    cat.write(write)


def _row(r: sa.Row[tuple[object, ...]]) -> MoveRow:
    m = r._mapping
    return MoveRow(int(m["id"]), int(m["unit_id"]), str(m["src_tier"]), str(m["src_location"]), str(m["dst_tier"]),
                   str(m["dst_location"]), str(m["state"]), m["reason"],  # type: ignore[arg-type]
                   int(m["bytes"]), m["error"])  # type: ignore[arg-type]


def open_moves(cat: Catalog) -> list[MoveRow]:
    """Rows not finished, rolled back or failed, oldest first (``ix_lab_moves_state``)."""
    with cat.read() as conn:
        rows = conn.execute(sa.select(lab_moves).where(lab_moves.c.state.notin_(TERMINAL)).order_by(lab_moves.c.id))
        return [_row(r) for r in rows]


def move_rows(cat: Catalog, unit_id: int | None = None) -> list[MoveRow]:
    """Every row (of one unit when given), oldest first."""
    q = sa.select(lab_moves).order_by(lab_moves.c.id)
    if unit_id is not None:
        q = q.where(lab_moves.c.unit_id == unit_id)
    with cat.read() as conn:
        return [_row(r) for r in conn.execute(q)]


def earlier_sources(cat: Catalog, unit_id: int, location: str) -> list[str]:
    """Source paths of the unit's finished moves that ended at ``location`` (where forwarding links
    to it may stand), and, recursively, of the moves that ended at those."""
    rows = move_rows(cat, unit_id)
    found: list[str] = []
    todo = [location]
    while todo:
        at = todo.pop()
        for r in rows:
            if r.state == "done" and r.dst_location == at and r.src_location not in found and r.src_location != location:
                found.append(r.src_location)
                todo.append(r.src_location)
    return found
