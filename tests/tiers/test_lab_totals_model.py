"""Model test of ``lab_totals`` (the sums the triggers keep): after random sequences of the writes
that change units and placements (scans recording and re-recording units, placements going
missing, moves switching tiers, states changing, units renamed, resized or deleted, several rows
in one statement), the table equals the sums worked out here in Python from the base rows, on
SQLite and PostgreSQL; ``drift`` finds a tampered row and ``rebuild`` repairs it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault.catalog import lab_totals
from labvault.catalog.lab_schema import lab_placements, lab_units
from labvault.catalog.lab_schema import lab_totals as totals_table
from labvault.catalog.store import Catalog
from labvault.tiers.monitor import project_of
from labvault.tiers.types import UnitName
from labvault.tiers.units import Found, mark_missing, record_found
from tests.tiers.labrows import clear

NAMES = ("imagenet_v2", "imagenet_v3", "bert", "_hidden", "a_b_c", "sent_reviews")
KINDS = ("dataset", "model", "experiment", "checkpoint")
TIERS = ("hot", "warm", "cold")
STATES = ("present", "verified", "missing", "copying", "deleting")
T0 = datetime(2026, 1, 1)

ops = st.one_of(
    st.tuples(st.just("scan"), st.sampled_from(KINDS), st.sampled_from(NAMES), st.sampled_from(["v1", "v2"]),
              st.sampled_from(TIERS), st.integers(0, 3), st.integers(0, 10**12), st.integers(0, 50)),
    st.tuples(st.just("missing"), st.integers(0, 30)),
    st.tuples(st.just("state"), st.integers(0, 30), st.sampled_from(STATES)),
    st.tuples(st.just("tier"), st.integers(0, 30), st.sampled_from(TIERS)),
    st.tuples(st.just("reassign"), st.integers(0, 30), st.integers(0, 30)),
    st.tuples(st.just("resize"), st.integers(0, 30), st.integers(0, 10**9), st.integers(0, 9)),
    st.tuples(st.just("rename"), st.integers(0, 30), st.sampled_from(NAMES), st.sampled_from(KINDS)),
    st.tuples(st.just("drop_placement"), st.integers(0, 30)),
    st.tuples(st.just("drop_unit"), st.integers(0, 30)),
    st.tuples(st.just("all_missing"), st.sampled_from(TIERS)),
)


def _pick(conn: sa.Connection, table: sa.Table, i: int) -> int | None:
    ids = conn.execute(sa.select(table.c.id).order_by(table.c.id)).scalars().all()
    return int(ids[i % len(ids)]) if ids else None


def _apply(conn: sa.Connection, op: tuple[object, ...]) -> None:
    p, u = lab_placements, lab_units
    kind = op[0]
    if kind == "scan":
        _, ukind, name, version, tier, slot, size, nfiles = op
        found = Found(UnitName(str(ukind), str(name), str(version), ""), str(tier), f"/lab/{tier}/{name}-{slot}",
                      f"{size:032x}", int(size), int(nfiles), T0, None)
        record_found(conn, found)
        return
    if kind == "all_missing":
        conn.execute(sa.update(p).where(p.c.tier == op[1]).values(state="missing"))
        return
    table = u if kind in ("resize", "rename", "drop_unit") else p
    row = _pick(conn, table, int(op[1]))  # type: ignore[call-overload]
    if row is None:
        return
    if kind == "missing":
        mark_missing(conn, [row])
    elif kind == "state":
        conn.execute(sa.update(p).where(p.c.id == row).values(state=op[2]))
    elif kind == "tier":
        conn.execute(sa.update(p).where(p.c.id == row).values(tier=op[2]))
    elif kind == "reassign":
        other = _pick(conn, u, int(op[2]))  # type: ignore[call-overload]
        conn.execute(sa.update(p).where(p.c.id == row).values(unit_id=other))
    elif kind == "resize":
        conn.execute(sa.update(u).where(u.c.id == row).values(size=op[2], nfiles=op[3]))
    elif kind == "rename":
        taken = conn.execute(sa.select(u.c.id).where(u.c.kind == op[3], u.c.name == op[2],
                                                     u.c.version.in_(["v1", "v2", "v9"]))).first()
        if taken is None:
            conn.execute(sa.update(u).where(u.c.id == row).values(name=op[2], kind=op[3], version="v9"))
    elif kind == "drop_placement":
        conn.execute(sa.delete(p).where(p.c.id == row))
    elif kind == "drop_unit":
        conn.execute(sa.delete(u).where(u.c.id == row))


def _expected(conn: sa.Connection) -> dict[tuple[str, str, str], tuple[int, int, int, int]]:
    """The sums from the base rows, the plain way."""
    out: dict[tuple[str, str, str], list[int]] = {}
    rows = conn.execute(sa.select(lab_units.c.kind, lab_units.c.name, lab_units.c.size, lab_units.c.nfiles,
                                  lab_placements.c.tier, lab_placements.c.state)
                        .select_from(lab_placements.join(lab_units, lab_units.c.id == lab_placements.c.unit_id)))
    for kind, name, size, nfiles, tier, state in rows:
        if state not in ("present", "verified"):
            continue
        keys = [("tier", "", tier), ("project", project_of(name), tier), ("project", project_of(name), "")]
        if kind == "dataset":
            keys += [("dataset", name, tier), ("dataset", name, "")]
        for key in keys:
            s = out.setdefault(key, [0, 0, 0, 0])
            s[0] += size
            s[1] += 1
            s[2] += nfiles
            s[3] += kind == "dataset"
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


def _kept(conn: sa.Connection) -> dict[tuple[str, str, str], tuple[int, int, int, int]]:
    t = totals_table
    return {(r[0], r[1], r[2]): (int(r[3]), int(r[4]), int(r[5]), int(r[6])) for r in conn.execute(
        sa.select(t.c.grp_kind, t.c.grp, t.c.tier, t.c.bytes, t.c.units, t.c.objects, t.c.datasets))}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.lists(ops, min_size=1, max_size=4), min_size=1, max_size=10))
def test_totals_follow_every_write(cat: Catalog, steps: list[list[tuple[object, ...]]]) -> None:
    clear(cat)
    for batch in steps:  # each batch is one transaction

        def write(conn: sa.Connection, batch: list[tuple[object, ...]] = batch) -> None:
            for op in batch:
                _apply(conn, op)

        cat.write(write)
        with cat.read() as conn:
            assert _kept(conn) == _expected(conn)
            assert lab_totals.drift(conn) == []


def test_drift_finds_a_tampered_row_and_rebuild_repairs_it(cat: Catalog) -> None:
    clear(cat)

    def write(conn: sa.Connection) -> None:
        for i, name in enumerate(("imagenet_v2", "bert")):
            record_found(conn, Found(UnitName("dataset", name, "v1", ""), "hot", f"/lab/hot/{name}", f"{i:032x}",
                                     100 * (i + 1), 3, T0, None))

    cat.write(write)
    cat.write(lambda conn: conn.execute(sa.update(totals_table).where(totals_table.c.grp_kind == "tier")
                                        .values(bytes=totals_table.c.bytes + 1)))
    cat.write(lambda conn: conn.execute(sa.delete(totals_table).where(totals_table.c.grp_kind == "dataset",
                                                                        totals_table.c.grp == "bert")))
    with cat.read() as conn:
        found = lab_totals.drift(conn)
    assert found == ["dataset/bert/: kept nothing, placements give 200 bytes, 1 units, 3 objects, 1 datasets",
                     "dataset/bert/hot: kept nothing, placements give 200 bytes, 1 units, 3 objects, 1 datasets",
                     "tier//hot: kept 301 bytes, 2 units, 6 objects, 2 datasets, placements give 300 bytes, 2 units, "
                     "6 objects, 2 datasets"]
    cat.write(lab_totals.rebuild)
    with cat.read() as conn:
        assert lab_totals.drift(conn) == []
        assert _kept(conn) == _expected(conn)
