"""Model test of ``versions.is_head`` (the mark the triggers of ``catalog.heads`` keep): after random
sequences of the writes that change which version of a name is the newest (registering versions,
deleting them as ``labvault catalog delete`` does, a version moved to another name or given another
``seq``, several in one statement, bulk registration, which inserts its versions unmarked and
marks their names once), exactly the version of highest ``seq`` of each dataset and model name is marked, on SQLite and PostgreSQL, as worked out here in Python from the rows; runs are never
marked. ``drift`` finds a tampered mark and ``rebuild`` repairs it; concurrent writers to one name on
PostgreSQL leave one mark."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault.catalog import bulk, delete, heads
from labvault.catalog.record import insert_version
from labvault.catalog.schema import entities, versions
from labvault.catalog.store import Catalog
from labvault.catalog.types import NewVersion

KINDS = ("dataset", "model", "run")
NAMES = ("raw", "clf", "exp", "team/x")

ops = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(KINDS), st.sampled_from(NAMES), st.integers(0, 3)),
    st.tuples(st.just("delete_version"), st.integers(0, 40)),
    st.tuples(st.just("delete_name"), st.sampled_from(KINDS), st.sampled_from(NAMES)),
    st.tuples(st.just("reseq"), st.integers(0, 40), st.integers(50, 60)),
    st.tuples(st.just("move"), st.integers(0, 40), st.sampled_from(NAMES)),
    st.tuples(st.just("delete_oldest_of_each"), st.sampled_from(KINDS)),
    st.tuples(st.just("bulk"), st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from(NAMES)), max_size=6)),
)


def _pick(conn: sa.Connection, i: int) -> tuple[int, int, str] | None:
    rows = conn.execute(sa.select(versions.c.id, versions.c.entity_id, versions.c.kind).order_by(versions.c.id)).all()
    return tuple(rows[i % len(rows)]) if rows else None  # type: ignore[return-value]


def _apply(conn: sa.Connection, op: tuple[object, ...]) -> None:
    what = op[0]
    if what == "bulk":  # what register_many does, inside this transaction
        bulk.insert_many(conn, [NewVersion(str(k), str(n)) for k, n in op[1]])  # type: ignore[attr-defined]
        return
    if what == "add":
        _, vkind, name, n = op
        for _ in range(int(n) + 1):  # type: ignore[call-overload]
            insert_version(conn, str(vkind), str(name))
        return
    if what == "delete_name":
        ekind = "experiment" if op[1] == "run" else str(op[1])
        named = conn.execute(sa.select(entities.c.id).where(entities.c.kind == ekind, entities.c.name == op[2])).first()
        if named is not None:
            conn.execute(sa.delete(entities).where(entities.c.id == named[0]))  # its versions go by cascade
        return
    if what == "delete_oldest_of_each":  # several rows, several names, one statement
        conn.execute(sa.delete(versions).where(versions.c.kind == op[1], versions.c.seq == 1))
        return
    row = _pick(conn, int(op[1]))  # type: ignore[call-overload]
    if row is None:
        return
    vid, eid, vkind = row
    if what == "delete_version":
        conn.execute(sa.delete(versions).where(versions.c.id == vid))
    elif what == "reseq":
        taken = conn.execute(sa.select(versions.c.id).where(versions.c.entity_id == eid,
                                                            versions.c.seq == op[2])).first()
        if taken is None:
            conn.execute(sa.update(versions).where(versions.c.id == vid).values(seq=op[2]))
    elif what == "move":
        ekind = "experiment" if vkind == "run" else vkind
        other = conn.execute(sa.select(entities.c.id).where(entities.c.kind == ekind,
                                                            entities.c.name == op[2])).first()
        if other is None:
            return
        mine = conn.execute(sa.select(versions.c.version, versions.c.seq, versions.c.content_hash)
                            .where(versions.c.id == vid)).one()
        clash = conn.execute(sa.select(versions.c.id).where(versions.c.entity_id == other[0], sa.or_(
            versions.c.version == mine[0], versions.c.seq == mine[1]))).first()
        if clash is None:
            conn.execute(sa.update(versions).where(versions.c.id == vid).values(entity_id=other[0]))


def _expected(conn: sa.Connection) -> set[int]:
    """The newest version of each dataset and model name, the plain way."""
    best: dict[int, tuple[int, int]] = {}
    for vid, eid, seq, vkind in conn.execute(sa.select(versions.c.id, versions.c.entity_id, versions.c.seq,
                                                       versions.c.kind)):
        if vkind != "run" and (eid not in best or seq > best[eid][0]):
            best[eid] = (seq, vid)
    return {vid for _seq, vid in best.values()}


def _marked(conn: sa.Connection) -> set[int]:
    rows = conn.execute(sa.select(versions.c.id, versions.c.is_head).where(versions.c.is_head.is_not(None))).all()
    assert all(mark in (1, heads.NOT_HEAD) for _vid, mark in rows)  # NULL and 0 both mean "not the newest"
    return {int(vid) for vid, mark in rows if mark == 1}


def _clear(cat: Catalog) -> None:
    cat.write(lambda conn: conn.execute(sa.delete(entities)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.lists(ops, min_size=1, max_size=4), min_size=1, max_size=10))
def test_the_mark_follows_every_write(cat: Catalog, steps: list[list[tuple[object, ...]]]) -> None:
    _clear(cat)
    for batch in steps:  # each batch is one transaction

        def write(conn: sa.Connection, batch: list[tuple[object, ...]] = batch) -> None:
            for op in batch:
                _apply(conn, op)

        cat.write(write)
        with cat.read() as conn:
            assert _marked(conn) == _expected(conn)
            assert heads.drift(conn) == []


def test_catalog_delete_moves_the_mark_to_the_version_before(cat: Catalog) -> None:
    _clear(cat)
    ids = cat.write(lambda conn: [insert_version(conn, "model", "clf")[0] for _ in range(3)])
    with cat.read() as conn:
        assert _marked(conn) == {ids[2]}
    delete.execute(cat, delete.plan(cat, "model", "clf@3"))
    with cat.read() as conn:
        assert _marked(conn) == {ids[1]}


def test_drift_finds_a_tampered_mark_and_rebuild_repairs_it(cat: Catalog) -> None:
    _clear(cat)
    ids = cat.write(lambda conn: [insert_version(conn, "dataset", "raw")[0] for _ in range(2)])
    cat.write(lambda conn: conn.execute(sa.update(versions).where(versions.c.id == ids[0]).values(is_head=1)))
    with cat.read() as conn:
        assert heads.drift(conn) == [f"version {ids[0]} is marked newest but is not"]
    cat.write(heads.rebuild)
    with cat.read() as conn:
        assert heads.drift(conn) == [] and _marked(conn) == {ids[1]}


def test_concurrent_writers_to_one_name_leave_one_mark(cat: Catalog) -> None:
    """Threads registering and deleting versions of one name at once (each its own transaction,
    retried on a clash): the mark ends on the newest version, on both databases."""
    _clear(cat)
    cat.write(lambda conn: insert_version(conn, "model", "clf"))
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(15):
                if (i + k) % 3 == 2:
                    def drop(conn: sa.Connection) -> None:
                        top = conn.execute(sa.select(versions.c.id).where(versions.c.kind == "model")
                                           .order_by(versions.c.seq.desc()).limit(1)).first()
                        if top is not None:
                            conn.execute(sa.delete(versions).where(versions.c.id == top[0]))
                    cat.write(drop)
                else:
                    cat.write(lambda conn: insert_version(conn, "model", "clf"))
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with cat.read() as conn:
        assert _marked(conn) == _expected(conn) != set()
        assert heads.drift(conn) == []


def test_an_insert_while_another_transaction_deletes_the_newest_leaves_one_mark(cat: Catalog) -> None:
    """One transaction deletes the newest version and, before it commits, another registers a
    new one (its seq counted from the rows it sees). On PostgreSQL the insert's trigger waits for
    the name's lock, then sees the mark the delete moved to the version before and takes it off;
    without that lock both versions stayed marked. SQLite runs one writer at a time."""
    _clear(cat)
    ids = cat.write(lambda conn: [insert_version(conn, "model", "clf")[0] for _ in range(3)])
    holder = cat.engine.connect().execution_options(lv_write=True)
    done: list[int] = []
    try:
        tx = holder.begin()
        holder.execute(sa.delete(versions).where(versions.c.id == ids[2]))
        t = threading.Thread(target=lambda: done.append(cat.write(lambda c: insert_version(c, "model", "clf"))[0]))
        t.start()
        t.join(1.0)  # it waits for the holder: on PostgreSQL in its trigger, on SQLite to begin
        tx.commit()
    finally:
        holder.close()
    t.join()
    with cat.read() as conn:
        assert _marked(conn) == _expected(conn) == set(done)
        assert heads.drift(conn) == []


def test_unmarking_finds_the_marked_version_by_index(cat: Catalog) -> None:
    """The triggers' un-marking statement reads a name's marked version through the partial index
    ``ix_versions_head_of``, not every version of the name (which made each insert O(versions of
    the name)). PostgreSQL's planner takes a sequential scan of a small table; with those off, the
    index must be what it picks (its predicate matches the statement's)."""
    _clear(cat)
    cat.write(lambda conn: [insert_version(conn, "model", "clf") for _ in range(3)])
    unmark = heads._mark("1")[0]
    with cat.read() as conn:
        if conn.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in conn.execute(sa.text("EXPLAIN QUERY PLAN " + unmark)))
        else:
            conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
            conn.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
            plan = " ".join(str(row[0]) for row in conn.execute(sa.text("EXPLAIN " + unmark)))
    assert "ix_versions_head_of" in plan, plan
