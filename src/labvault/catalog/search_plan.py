"""Which condition of a search the database reads first.

A search such as ``params.lr <= 1e-4 and metrics.accuracy > 0.99 and created > 2025-06-01`` over a
million runs is fast only when the database starts from the condition that few versions meet
(accuracy > 0.99: about 1%) and checks the others one version at a time, rather than collecting
every version with a small learning rate (half of them) first. SQLite cannot tell those apart
(its statistics know how many rows a key has, not how many fall in a range), and PostgreSQL's
guess for a key's range is an estimate over all keys at once.

So the conditions that name index rows (``metrics.KEY``, ``params.KEY``, a tag or an alias,
see ``filters.id_parts``) of a top-level ``and`` are counted first, each up to ``CAP`` rows of its
index (an index range read, a few milliseconds at most). The smallest becomes ``versions.id IN
(subquery)``, which both databases read first; every other becomes a correlated ``EXISTS``, a
primary-key lookup per version. When even the smallest reaches ``CAP`` and the search has a
limit, none leads: the database walks the versions newest first (the order of the results, by
the ``(kind, created_at)`` index) checking every condition, and stops at the limit. Conditions
under ``or``/``not`` and on the version's own columns keep their plain form. Every form selects
the same versions; only the order of work differs (tests/catalog/test_search_plan.py checks the
planned search against the plain one on random catalogs).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from labvault.catalog.filters import Node, compile_node, conjuncts, id_parts, ids_in_one, probe

CAP = 50_000


def count_capped(conn: sa.Connection, query: sa.Select[Any], cap: int) -> int:
    """The number of rows ``query`` returns, reading at most ``cap`` of them."""
    capped = query.limit(cap).subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(capped)).scalar_one())


def _count(conn: sa.Connection, parts: list[Any], cap: int) -> int:
    return sum(count_capped(conn, sa.select(table.c.version_id).where(cond), cap) for table, cond in parts)


def plan_condition(conn: sa.Connection, tree: Node, vkind: str, limit: int | None, cap: int = CAP) -> Any:
    """The condition of ``tree`` over versions of ``vkind``, shaped to start from its most
    selective index (see the module docstring)."""
    items = conjuncts(tree)
    sets = {i: p for i, p in ((i, id_parts(n, vkind)) for i, n in enumerate(items)) if p is not None}
    if not sets:
        return compile_node(tree, vkind)
    counts = {i: _count(conn, parts, cap) for i, parts in sets.items()}
    driver: int | None = min(counts, key=lambda i: counts[i])
    if limit is not None and driver is not None and counts[driver] >= cap:
        driver = None
    fence = conn.dialect.name == "postgresql"
    conds = []
    for i, node in enumerate(items):
        if i not in sets:
            conds.append(compile_node(node, vkind))
        elif i == driver:
            conds.append(ids_in_one(sets[i]))
        else:
            conds.append(probe(sets[i], fence))
    return sa.and_(*conds)
