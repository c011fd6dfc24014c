"""The rows of ``cache_spills``: the spill journal and the list of a cache's objects on a tier.

Every function takes the cache's key (the real path of its folder) and a tier name; lists of oids
are read and written in chunks (the database's bound-parameter limits).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import sqlalchemy as sa

from labvault.catalog.spill_schema import cache_spills
from labvault.catalog.store import Catalog, now

CHUNK = 500
T = cache_spills.c


def chunks(oids: Iterable[str]) -> Iterator[list[str]]:
    items = sorted(set(oids))
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def states(cat: Catalog, cache: str, tier: str, oids: Iterable[str] | None = None) -> dict[str, str]:
    """oid -> state of the cache's rows on ``tier`` (all of them when ``oids`` is None)."""
    q = sa.select(T.oid, T.state).where(T.cache == cache, T.tier == tier)
    found: dict[str, str] = {}
    with cat.read() as conn:
        if oids is None:
            found.update((str(o), str(s)) for o, s in conn.execute(q))
        else:
            for part in chunks(oids):
                found.update((str(o), str(s)) for o, s in conn.execute(q.where(T.oid.in_(part))))
    return found


def journal(cat: Catalog, cache: str, repo: str, tier: str, items: dict[str, int]) -> dict[str, str]:
    """Write a ``copying`` row for each object of ``items`` (oid -> size) that has no row yet, in
    one transaction; returns the states the others already had."""
    t = now()

    def write(conn: sa.Connection) -> dict[str, str]:
        had: dict[str, str] = {}
        for part in chunks(items):
            q = sa.select(T.oid, T.state).where(T.cache == cache, T.tier == tier, T.oid.in_(part))
            had.update((str(o), str(s)) for o, s in conn.execute(q))
        new = [{"cache": cache, "repo": repo, "tier": tier, "oid": oid, "size": size, "state": "copying",
                "spilled_at": t} for oid, size in items.items() if oid not in had]
        if new:
            conn.execute(sa.insert(cache_spills), new)
        return had

    return cat.write(write)


def set_spilled(cat: Catalog, cache: str, tier: str, oids: Iterable[str]) -> None:
    """The tier's copies of ``oids`` are verified: their rows become ``spilled`` (one transaction)."""
    t = now()

    def write(conn: sa.Connection) -> None:
        for part in chunks(oids):
            conn.execute(sa.update(cache_spills).where(T.cache == cache, T.tier == tier, T.oid.in_(part))
                         .values(state="spilled", spilled_at=t))

    cat.write(write)


def drop(cat: Catalog, cache: str, tier: str, oids: Iterable[str]) -> None:
    def write(conn: sa.Connection) -> None:
        for part in chunks(oids):
            conn.execute(sa.delete(cache_spills).where(T.cache == cache, T.tier == tier, T.oid.in_(part)))

    cat.write(write)


def spilled_on(cat: Catalog, cache: str, tiers: Iterable[str], oids: Iterable[str]) -> dict[str, str]:
    """oid -> tier for the objects of ``oids`` with a ``spilled`` row of this cache on one of ``tiers``."""
    names = sorted(set(tiers))
    found: dict[str, str] = {}
    with cat.read() as conn:
        for part in chunks(oids):
            q = sa.select(T.oid, T.tier).where(T.cache == cache, T.tier.in_(names), T.state == "spilled",
                                               T.oid.in_(part))
            found.update((str(o), str(t)) for o, t in conn.execute(q))
    return found


def named_elsewhere(cat: Catalog, cache: str, tier: str, oids: Iterable[str]) -> set[str]:
    """The objects of ``oids`` that a row of another cache names on the same tier (any state)."""
    found: set[str] = set()
    with cat.read() as conn:
        for part in chunks(oids):
            q = sa.select(T.oid).where(T.tier == tier, T.cache != cache, T.oid.in_(part))
            found.update(str(o) for o in conn.execute(q).scalars())
    return found
