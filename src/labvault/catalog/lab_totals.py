"""``lab_totals``: the live placements summed per tier, per project and per dataset, kept by triggers.

``monitor`` reports bytes, units and objects per tier, the largest projects and datasets and how
many there are. Grouping a million-object catalog's placements for that costs a few tenths of a
second; reading these sums costs a few index ranges. A placement is *live* in state ``present``
or ``verified``; it adds its unit's ``size`` (bytes), 1 (units), ``nfiles`` (objects) and 1 to
``datasets`` when the unit is a dataset, to five rows keyed ``(grp_kind, grp, tier)``:

    ('tier', '', TIER)            the tier's totals
    ('project', PROJECT, TIER)    the project's bytes on that tier; PROJECT is the unit's name up to
    ('project', PROJECT, '')      its first ``_`` (``tiers.monitor.project_of``), and all tiers
    ('dataset', NAME, TIER)       datasets only: the dataset's (all versions and parts) per tier
    ('dataset', NAME, '')         and over all tiers

A row whose ``units`` fall to 0 is deleted, so counting rows counts projects and datasets.

**The shortcut and how it is kept honest.** The sums are maintained by row triggers on
``lab_placements`` (insert, delete, update of unit, tier or state) and ``lab_units`` (update of
kind, name, size or nfiles; a deleted unit first deletes its placements, which subtracts them):
the database runs them in the transaction of every write, whichever code makes it, so no writer
can forget them. What they trust: that nobody disables triggers or edits ``lab_totals`` by hand.
:func:`drift` recomputes the sums from the base tables (:func:`recompute_sql`, the same expansion
over every live placement) and lists the rows that differ; ``labvault monitor --verify`` runs it
and rebuilds the table when it finds any (:func:`rebuild`). Migration 0012 creates the triggers
with this module's SQL: a change here needs a new migration that recreates them.
"""

from __future__ import annotations

import sqlalchemy as sa

from labvault.catalog import triggers

LIVE = "('present', 'verified')"
Key = tuple[str, str, str]  # grp_kind, grp, tier
Sums = tuple[int, int, int, int]  # bytes, units, objects, datasets
_COLS = "grp_kind, grp, tier, bytes, units, objects, datasets"


def project_sql(dialect: str, name: str) -> str:
    """SQL for a unit's project: ``name`` up to its first ``_`` (all of it when there is none or it
    starts with ``_``)."""
    at = f"strpos({name}, '_')" if dialect == "postgresql" else f"instr({name}, '_')"
    return f"CASE WHEN {at} > 1 THEN substr({name}, 1, {at} - 1) ELSE {name} END"


def _grouped(dialect: str, source: str) -> str:
    """The rows ``source`` adds to ``lab_totals``, grouped by key. ``source`` is a query yielding
    ``kind, name, size, nfiles, tier, s`` (``s`` +1 to add a live placement, -1 to take it away)."""
    proj = project_sql(dialect, "c.name")
    sums = "c.s * c.size, c.s, c.s * c.nfiles, CASE WHEN c.kind = 'dataset' THEN c.s ELSE 0 END"
    ds = "WHERE c.kind = 'dataset'"
    parts = [f"SELECT 'tier' AS grp_kind, '' AS grp, c.tier AS tier, c.s * c.size AS b, c.s AS n, "
             f"c.s * c.nfiles AS o, CASE WHEN c.kind = 'dataset' THEN c.s ELSE 0 END AS d FROM ({source}) c",
             f"SELECT 'project', {proj}, c.tier, {sums} FROM ({source}) c",
             f"SELECT 'project', {proj}, '', {sums} FROM ({source}) c",
             f"SELECT 'dataset', c.name, c.tier, {sums} FROM ({source}) c {ds}",
             f"SELECT 'dataset', c.name, '', {sums} FROM ({source}) c {ds}"]
    return ("SELECT g.grp_kind, g.grp, g.tier, sum(g.b), sum(g.n), sum(g.o), sum(g.d) FROM ("
            + " UNION ALL ".join(parts) + ") g WHERE true GROUP BY g.grp_kind, g.grp, g.tier")


def recompute_sql(dialect: str) -> str:
    """Every ``lab_totals`` row as the base tables give it."""
    live = ("SELECT u.kind AS kind, u.name AS name, u.size AS size, u.nfiles AS nfiles, p.tier AS tier, 1 AS s "
            f"FROM lab_placements p JOIN lab_units u ON u.id = p.unit_id WHERE p.state IN {LIVE}")
    return _grouped(dialect, live)


_ADD = ("ON CONFLICT (grp_kind, grp, tier) DO UPDATE SET bytes = lab_totals.bytes + excluded.bytes, "
        "units = lab_totals.units + excluded.units, objects = lab_totals.objects + excluded.objects, "
        "datasets = lab_totals.datasets + excluded.datasets")


def _apply(dialect: str, source: str) -> list[str]:
    """Add ``source``'s rows (grouped: several rows may share a key) to the sums, then delete the
    rows it emptied."""
    return [f"INSERT INTO lab_totals ({_COLS}) {_grouped(dialect, source)} {_ADD}", _emptied(dialect, source)]


def _apply_one(dialect: str, row: str, sign: int, cleanup: bool) -> list[str]:
    """Add placement ``row`` (NEW or OLD) times ``sign``: one upsert per key, the cheap form for a
    single placement (a scan recording a hundred thousand units runs this a hundred thousand
    times). ``cleanup``: then delete the rows it emptied (a sum that only grew has none)."""
    one = f"FROM lab_units u WHERE u.id = {row}.unit_id AND {row}.state IN {LIVE}"
    sums = f"{sign} * u.size, {sign}, {sign} * u.nfiles, CASE WHEN u.kind = 'dataset' THEN {sign} ELSE 0 END"
    proj = project_sql(dialect, "u.name")
    keys = [(f"'tier', '', {row}.tier", ""), (f"'project', {proj}, {row}.tier", ""), (f"'project', {proj}, ''", ""),
            (f"'dataset', u.name, {row}.tier", " AND u.kind = 'dataset'"), ("'dataset', u.name, ''", " AND u.kind = 'dataset'")]
    out = [f"INSERT INTO lab_totals ({_COLS}) SELECT {key}, {sums} {one}{only} {_ADD}" for key, only in keys]
    return out + ([_emptied(dialect, _placement(row, sign))] if cleanup else [])


def _emptied(dialect: str, source: str) -> str:
    proj = project_sql(dialect, "c.name")
    return (f"DELETE FROM lab_totals WHERE units = 0 AND ((grp_kind = 'tier' AND grp = '') "
            f"OR (grp_kind = 'project' AND grp IN (SELECT {proj} FROM ({source}) c)) "
            f"OR (grp_kind = 'dataset' AND grp IN (SELECT c.name FROM ({source}) c)))")


def _placement(row: str, sign: int) -> str:
    return (f"SELECT u.kind AS kind, u.name AS name, u.size AS size, u.nfiles AS nfiles, {row}.tier AS tier, "
            f"{sign} AS s FROM lab_units u WHERE u.id = {row}.unit_id AND {row}.state IN {LIVE}")


def _unit(row: str, sign: int) -> str:
    return (f"SELECT {row}.kind AS kind, {row}.name AS name, {row}.size AS size, {row}.nfiles AS nfiles, "
            f"p.tier AS tier, {sign} AS s FROM lab_placements p WHERE p.unit_id = {row}.id AND p.state IN {LIVE}")


def _changed(dialect: str, cols: tuple[str, ...]) -> str:
    op = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    return " OR ".join(f"OLD.{c} {op} NEW.{c}" for c in cols)


# name -> (timing and event, table, WHEN condition or "", statements)
def _triggers(dialect: str) -> dict[str, tuple[str, str, str, list[str]]]:
    moved = _changed(dialect, ("unit_id", "tier", "state"))
    resized = _changed(dialect, ("kind", "name", "size", "nfiles"))
    return {
        "lab_totals_pins": ("AFTER INSERT", "lab_placements", f"NEW.state IN {LIVE}",
                            _apply_one(dialect, "NEW", 1, cleanup=False)),
        "lab_totals_pdel": ("AFTER DELETE", "lab_placements", f"OLD.state IN {LIVE}",
                            _apply_one(dialect, "OLD", -1, cleanup=True)),
        "lab_totals_pupd": ("AFTER UPDATE OF unit_id, tier, state", "lab_placements", moved,
                            _apply_one(dialect, "OLD", -1, cleanup=True) + _apply_one(dialect, "NEW", 1, cleanup=False)),
        "lab_totals_uupd": ("AFTER UPDATE OF kind, name, size, nfiles", "lab_units", resized,
                            _apply(dialect, f"{_unit('OLD', -1)} UNION ALL {_unit('NEW', 1)}")),
        # Before the unit goes: its placements' delete trigger still finds the unit to subtract.
        "lab_totals_udel": ("BEFORE DELETE", "lab_units", "",
                            ["DELETE FROM lab_placements WHERE unit_id = OLD.id"]),
    }


def create_triggers_sql(dialect: str) -> list[str]:
    """The DDL creating the triggers (and on PostgreSQL their functions)."""
    return [ddl for name, (when, table, cond, body) in _triggers(dialect).items()
            for ddl in triggers.create_sql(dialect, name, when, table, cond, body)]


def drop_triggers_sql(dialect: str) -> list[str]:
    return triggers.drop_sql(dialect, [(name, table) for name, (_w, table, _c, _b) in _triggers(dialect).items()])


def fill_sql(dialect: str) -> str:
    """Fill an empty ``lab_totals`` from the base tables."""
    return f"INSERT INTO lab_totals ({_COLS}) {recompute_sql(dialect)}"


def _rows(conn: sa.Connection, sql: str) -> dict[Key, Sums]:
    return {(r[0], r[1], r[2]): (int(r[3]), int(r[4]), int(r[5]), int(r[6])) for r in conn.execute(sa.text(sql))}


def drift(conn: sa.Connection) -> list[str]:
    """How ``lab_totals`` differs from the sums of the base tables, one line per row (empty: none)."""
    dialect = conn.dialect.name
    kept = _rows(conn, f"SELECT {_COLS} FROM lab_totals")
    true = {k: v for k, v in _rows(conn, recompute_sql(dialect)).items() if v[1] != 0}
    out = []
    for key in sorted(set(kept) | set(true)):
        if kept.get(key) != true.get(key):
            out.append(f"{'/'.join(key)}: kept {_fmt(kept.get(key))}, placements give {_fmt(true.get(key))}")
    return out


def _fmt(sums: Sums | None) -> str:
    if sums is None:
        return "nothing"
    return "{} bytes, {} units, {} objects, {} datasets".format(*sums)


def rebuild(conn: sa.Connection) -> None:
    """Replace every ``lab_totals`` row by the base tables' sums (in the caller's transaction)."""
    conn.execute(sa.text("DELETE FROM lab_totals"))
    conn.execute(sa.text(fill_sql(conn.dialect.name)))

