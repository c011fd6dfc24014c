"""The batched access log against the obvious way: one flush per read. Both must leave the same
``lab_access`` totals per unit and source (reads summed, latest time) and the same ``last_access``
per unit, never moved back by an older read."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from labvault.catalog import store
from labvault.catalog.lab_schema import lab_access, lab_units
from labvault.tiers.access import AccessLog

T0 = datetime(2026, 1, 1)
UNITS = 4
reads = st.lists(st.tuples(st.integers(1, UNITS), st.sampled_from(["read", "checkout", "get"]),
                           st.integers(0, 10**9).map(lambda us: T0 + timedelta(microseconds=us))),
                 max_size=30)
stale = st.lists(st.one_of(st.none(), st.integers(0, 2 * 10**9).map(lambda us: T0 + timedelta(microseconds=us))),
                 min_size=UNITS, max_size=UNITS)


def _catalog(path: Path, last: list[datetime | None]) -> store.Catalog:
    cat = store.open_catalog(f"sqlite:///{path}")
    rows = [{"id": i + 1, "kind": "dataset", "name": f"d{i}", "version": "v1", "part": "", "content_hash": f"{i:032x}",
             "size": 1, "nfiles": 1, "version_id": None, "created_at": T0, "modified_at": T0,
             "last_access": last[i], "updated_at": T0} for i in range(UNITS)]
    cat.write(lambda conn: conn.execute(sa.insert(lab_units), rows))
    return cat


def _state(cat: store.Catalog) -> tuple[dict[tuple[int, str], tuple[int, datetime]], dict[int, datetime | None]]:
    with cat.read() as conn:
        totals = {(u, s): (int(n), at) for u, s, n, at in conn.execute(
            sa.select(lab_access.c.unit_id, lab_access.c.source, sa.func.sum(lab_access.c.reads),
                      sa.func.max(lab_access.c.at)).group_by(lab_access.c.unit_id, lab_access.c.source))}
        last = dict(conn.execute(sa.select(lab_units.c.id, lab_units.c.last_access)).all())
    return totals, last


@settings(max_examples=25, deadline=None)
@given(reads, stale)
def test_batched_reads_record_what_one_flush_per_read_records(
        log: list[tuple[int, str, datetime]], last: list[datetime | None]) -> None:
    with tempfile.TemporaryDirectory() as d:
        batched, direct = _catalog(Path(d) / "b.sqlite", last), _catalog(Path(d) / "d.sqlite", last)
        try:
            batch = AccessLog(batched)
            for uid, source, at in log:
                batch.record(uid, source, at)
                one = AccessLog(direct)
                one.record(uid, source, at)
                assert one.flush() == 1
            assert batch.flush() == len(log) and batch.pending == 0
            got, want = _state(batched), _state(direct)
            assert got == want
            for uid in range(1, UNITS + 1):  # moved forward to the latest read, never back
                times = [at for u, _, at in log if u == uid] + [t for t in [last[uid - 1]] if t is not None]
                assert got[1][uid] == (max(times) if times else None)
        finally:
            store.forget(f"sqlite:///{Path(d) / 'b.sqlite'}")
            store.forget(f"sqlite:///{Path(d) / 'd.sqlite'}")


def test_a_read_without_a_time_is_stamped_now() -> None:
    with tempfile.TemporaryDirectory() as d:
        cat = _catalog(Path(d) / "c.sqlite", [None] * UNITS)
        before = store.now()
        log = AccessLog(cat)
        log.record(2, "read")
        log.record(2, "read")
        assert log.flush() == 2
        totals, last = _state(cat)
        after = store.now()
        [(key, (n, at))] = totals.items()
        assert key == (2, "read") and n == 2 and before <= at <= after and last[2] == at
        store.forget(f"sqlite:///{Path(d) / 'c.sqlite'}")
