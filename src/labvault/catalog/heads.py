"""``versions.is_head``: the newest version of each dataset and model name, kept by triggers.

Lists of datasets and models show the latest version of each name, newest first. Without a mark,
a page of them found the latest version of every name of the kind (one index lookup per name:
2,500 for 2,500 models, 100,000 names would not fit) or walked every version checking "is there a
newer one". With ``is_head = 1`` on exactly the version of highest ``seq`` of each name (runs
excepted: every run is listed), a page is one range of the partial index ``ix_versions_heads``
``(kind, created_at, id) WHERE is_head = 1`` from the cursor on.

**The shortcut and how it is kept honest.** Row triggers on ``versions`` (insert, delete, update
of ``entity_id`` or ``seq``) recompute the mark of the names they touch, in the transaction of
every write, whichever code makes it: the head is the version of highest ``seq``; the others of
that name lose the mark. On PostgreSQL each trigger first locks the name's ``entities`` row
(``FOR NO KEY UPDATE``, which does not block the foreign-key checks of inserts), so two
transactions that change one name's versions recompute its mark one after the other, each
seeing the other's committed rows. The one exception (migration 0015): the insert trigger skips a
row inserted with ``is_head`` already set. Only the bulk writer (``catalog/bulk.py``) does that:
it inserts its versions as :data:`NOT_HEAD` (0, "not the newest", like NULL) and, before its
transaction commits, recomputes the marks of every name it touched in set-based statements
(:func:`settle`), in place of two row updates per version. What they trust: that nobody disables
triggers or sets ``is_head`` by hand. :func:`drift` compares the marks with the highest ``seq`` of
every name (what ``catalog/browse.py`` used to compute per page) and :func:`rebuild` resets them;
the model test ``tests/catalog/test_heads_model.py`` checks random write sequences, bulk
registrations among them, on both databases. Migration 0013 creates the triggers with this
module's SQL: a change here needs a new migration that recreates them. The un-marking statement
finds the marked version of a name through the partial index ``ix_versions_head_of`` (migration
0014), not by reading every version of the name: without it an insert cost O(versions of the
name), and a bulk registration 4x the time of the inserts alone (100,000 versions into 2,000
names: 17 s against 4.3 s before the triggers; 8.5 s with the index, 3.1 s with bulk marking).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from labvault.catalog import triggers

HEAD_ONE = "1"  # the mark, as a literal: SQLite uses a partial index only for a literal in the query
NOT_HEAD = 0  # "not the newest", as a bulk writer inserts its versions (the insert trigger skips them)
_CHUNK = 1000


def _top(entity: str) -> str:
    return f"(SELECT h.id FROM versions h WHERE h.entity_id = {entity} ORDER BY h.seq DESC LIMIT 1)"


def _mark(entity: str, settled: bool = True) -> list[str]:
    """Statements that leave the mark on exactly the newest version of ``entity``'s name
    (``settled=False``: revision 0013's, from before :data:`NOT_HEAD`)."""
    if not settled:
        return [
            f"UPDATE versions SET is_head = NULL WHERE entity_id = {entity} AND is_head IS NOT NULL "
            f"AND id <> {_top(entity)}",
            f"UPDATE versions SET is_head = 1 WHERE id = {_top(entity)} AND is_head IS NULL",
        ]
    return [
        f"UPDATE versions SET is_head = NULL WHERE entity_id = {entity} AND is_head = {HEAD_ONE} "
        f"AND id <> {_top(entity)}",
        f"UPDATE versions SET is_head = 1 WHERE id = {_top(entity)} AND COALESCE(is_head, 0) <> 1",
    ]


def _changed(dialect: str) -> str:
    op = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    return f"OLD.entity_id {op} NEW.entity_id OR OLD.seq {op} NEW.seq"


# name -> (timing and event, WHEN condition, entities whose mark is recomputed). ``settled``: the
# insert trigger skips a row inserted with a mark already set (revision 0015; revision 0013's
# recomputed every inserted row).
def _triggers(dialect: str, settled: bool = True) -> dict[str, tuple[str, str, list[str]]]:
    ins = "NEW.kind <> 'run' AND NEW.is_head IS NULL" if settled else "NEW.kind <> 'run'"
    return {
        "versions_head_ins": ("AFTER INSERT", ins, ["NEW.entity_id"]),
        "versions_head_del": ("AFTER DELETE", "OLD.kind <> 'run'", ["OLD.entity_id"]),
        "versions_head_upd": ("AFTER UPDATE OF entity_id, seq",
                              f"NEW.kind <> 'run' AND ({_changed(dialect)})", ["OLD.entity_id", "NEW.entity_id"]),
    }


def create_triggers_sql(dialect: str, settled: bool = True) -> list[str]:
    """The DDL creating the triggers (and on PostgreSQL their functions); ``settled=False``: those
    of revision 0013, which knew no :data:`NOT_HEAD`."""
    out = []
    for name, (when, cond, ents) in _triggers(dialect, settled).items():
        body = [s for e in ents for s in _mark(e, settled)]
        if dialect == "postgresql":  # the name's lock first (module docstring)
            body = [f"PERFORM 1 FROM entities WHERE id = {e} FOR NO KEY UPDATE" for e in ents] + body
        out += triggers.create_sql(dialect, name, when, "versions", cond, body)
    return out


def drop_triggers_sql(dialect: str) -> list[str]:
    return triggers.drop_sql(dialect, [(name, "versions") for name in _triggers(dialect)])


_TRUE_HEADS = ("SELECT v.id FROM versions v WHERE v.kind <> 'run' AND NOT EXISTS (SELECT 1 FROM versions n "
               "WHERE n.entity_id = v.entity_id AND n.seq > v.seq)")


def settle(conn: sa.Connection, entity_ids: Sequence[int]) -> None:
    """Recompute the mark of the names ``entity_ids`` in a few statements per thousand names, for a
    writer that inserted their new versions as :data:`NOT_HEAD` (which the insert trigger skips): the
    marks of those names are taken off, then each name's newest version is marked. Must run in the
    transaction of those inserts, before it commits."""
    ids = sorted({int(e) for e in entity_ids})
    for i in range(0, len(ids), _CHUNK):
        chunk = ", ".join(str(e) for e in ids[i:i + _CHUNK])
        conn.execute(sa.text(f"UPDATE versions SET is_head = NULL WHERE entity_id IN ({chunk}) "
                             f"AND is_head = {HEAD_ONE}"))
        conn.execute(sa.text(f"UPDATE versions SET is_head = 1 WHERE id IN (SELECT {_top('e.id')} FROM entities e "
                             f"WHERE e.id IN ({chunk}))"))


def fill_sql() -> str:
    """Mark the newest version of every name (on a column of NULLs)."""
    return f"UPDATE versions SET is_head = 1 WHERE id IN ({_TRUE_HEADS})"


def drift(conn: sa.Connection) -> list[str]:
    """Versions whose mark differs from "the highest seq of its name" (empty: none)."""
    marked = set(conn.execute(sa.text(f"SELECT id FROM versions WHERE is_head = {HEAD_ONE}")).scalars())
    true = set(conn.execute(sa.text(_TRUE_HEADS)).scalars())
    return ([f"version {i} is marked newest but is not" for i in sorted(marked - true)]
            + [f"version {i} is the newest of its name but not marked" for i in sorted(true - marked)])


def rebuild(conn: sa.Connection) -> None:
    """Reset every mark from the versions themselves (in the caller's transaction)."""
    conn.execute(sa.text("UPDATE versions SET is_head = NULL WHERE is_head IS NOT NULL"))
    conn.execute(sa.text(fill_sql()))
