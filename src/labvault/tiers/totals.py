"""What ``monitor`` reads of ``lab_totals``: tier totals and the largest projects and datasets.

The sums are kept by the catalog's triggers (``labvault.catalog.lab_totals``, which says what they
trust and how ``monitor --verify`` checks them); every read here is an index range of that small
table (``ix_lab_totals_rank`` for the largest, the primary key for one group's tiers), plain SQL
on a ``SqlRows`` so that ``monitor`` needs no SQLAlchemy.
"""

from __future__ import annotations

from typing import Any

from labvault.catalog.plain import SqlRows

Group = tuple[str, int, int, int, dict[str, int]]  # name, bytes, units, objects, {tier: bytes}


def tier_totals(rows: SqlRows) -> dict[str, tuple[int, int, int, int]]:
    """``tier -> (bytes, objects, units, datasets)`` over live placements."""
    found = rows.all("SELECT tier, bytes, objects, units, datasets FROM lab_totals "
                     "WHERE grp_kind = 'tier' AND grp = ''")
    return {r[0]: (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in found}


def largest(rows: SqlRows, kind: str, top: int) -> tuple[list[Group], int]:
    """The ``top`` projects or datasets (``kind``) holding the most bytes on all tiers, and how many
    there are. Ties in bytes: projects by name in code-point order, datasets in the database's
    order of names (as the grouped queries these sums replace ranked them)."""
    where = "grp_kind = :kind AND tier = ''"
    count = int(rows.all(f"SELECT count(*) FROM lab_totals WHERE {where}", {"kind": kind})[0][0])
    if top <= 0 or count == 0:
        return [], count
    cols = f"SELECT grp, bytes, units, objects FROM lab_totals WHERE {where}"
    if kind == "dataset":
        best = rows.all(f"{cols} ORDER BY bytes DESC, grp LIMIT :n", {"kind": kind, "n": top})
    else:  # every row tied with the last one kept, then ranked here
        last = rows.all(f"SELECT bytes FROM lab_totals WHERE {where} ORDER BY bytes DESC LIMIT 1 OFFSET :n",
                        {"kind": kind, "n": min(top, count) - 1})[0][0]
        tied = rows.all(f"{cols} AND bytes >= :least", {"kind": kind, "least": last})
        best = sorted(tied, key=lambda r: (-int(r[1]), r[0]))[:top]
    names = {f"g{i}": r[0] for i, r in enumerate(best)}
    params: dict[str, Any] = {"kind": kind, **names}
    per_tier: dict[str, dict[str, int]] = {r[0]: {} for r in best}
    for grp, tier, nbytes in sorted(rows.all(
            f"SELECT grp, tier, bytes FROM lab_totals WHERE grp_kind = :kind AND grp IN "
            f"({', '.join(':' + k for k in names)}) AND tier <> ''", params), key=lambda r: (r[0], r[1])):
        per_tier[grp][tier] = int(nbytes)
    return [(r[0], int(r[1]), int(r[2]), int(r[3]), per_tier[r[0]]) for r in best], count
