"""``queries.load_entries`` (a page's entries in three queries: versions, one UNION ALL of
everything hanging off them, locations) against a plain reading, one table and one version at a
time, on random catalogs with splits, metrics, params, tags, aliases, lineage and locations; both
backends."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault.catalog.queries import iso, load_entries, param_value
from labvault.catalog.schema import (
    aliases,
    edges,
    entities,
    locations,
    metrics,
    params,
    splits,
    tags,
    versions,
)
from labvault.catalog.store import Catalog
from labvault.catalog.types import Entry, Location

AT = datetime(2026, 1, 2, 3, 4, 5)
WORDS = st.sampled_from(["train", "test", "Val", "a", "b", "prod", "x_1"])
HASHES = st.sampled_from(["h1", "h2", "h3", "h4"])
version_spec = st.fixed_dictionaries({
    "kind": st.sampled_from(["dataset", "model", "run"]),
    "hash": st.none() | HASHES,
    "splits": st.dictionaries(WORDS, st.tuples(HASHES, st.none() | st.integers(0, 10**12)), max_size=3),
    "metrics": st.dictionaries(WORDS, st.floats(-1e9, 1e9), max_size=3),
    "params": st.dictionaries(WORDS, st.sampled_from([("0.1", 0.1), ("32", 32.0), ("adam", None), ("[1, 2]", None),
                                                      ("true", None)]), max_size=3),
    "tags": st.sets(WORDS, max_size=3),
    "alias": st.none() | WORDS,
    "card": st.none() | st.dictionaries(WORDS, st.integers(), max_size=2),
})
catalogs = st.tuples(st.lists(version_spec, min_size=1, max_size=8),
                     st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=8),
                     st.dictionaries(HASHES, st.sets(st.sampled_from(["r1", "r2"]), min_size=1), max_size=3))


def _fill(conn: sa.Connection, specs: list[dict[str, Any]], links: list[tuple[int, int]],
          stored: dict[str, set[str]]) -> list[int]:
    for t in (locations, edges, splits, metrics, params, tags, aliases, versions, entities):
        conn.execute(sa.delete(t))
    ids = []
    for i, s in enumerate(specs):
        ekind = "experiment" if s["kind"] == "run" else s["kind"]
        eid = conn.execute(sa.insert(entities).values(kind=ekind, name=f"n{i}", created_at=AT)).inserted_primary_key[0]
        vid = int(conn.execute(sa.insert(versions).values(
            entity_id=eid, kind=s["kind"], version=f"v{i}", seq=1, content_hash=s["hash"], card=s["card"],
            started_at=AT if i % 2 else None, created_at=AT + timedelta(seconds=i))).inserted_primary_key[0])
        ids.append(vid)
        for name, (h, size) in s["splits"].items():
            conn.execute(sa.insert(splits).values(version_id=vid, split=name, content_hash=h, path=f"p/{name}",
                                                  size=size, nfiles=1, recorded_at=AT))
        for key, value in s["metrics"].items():
            conn.execute(sa.insert(metrics).values(version_id=vid, key=key, value=value, kind=s["kind"]))
        for key, (text, num) in s["params"].items():
            conn.execute(sa.insert(params).values(version_id=vid, key=key, value_text=text, value_num=num))
        for tag in s["tags"]:
            conn.execute(sa.insert(tags).values(version_id=vid, tag=tag, created_at=AT))
        if s["alias"]:
            conn.execute(sa.insert(aliases).values(entity_id=eid, alias=s["alias"], version_id=vid, updated_at=AT))
    for a, b in {(a % len(ids), b % len(ids)) for a, b in links if a % len(ids) != b % len(ids)}:
        conn.execute(sa.insert(edges).values(src_id=ids[a], dst_id=ids[b], relation="input"))
    for h, remotes in stored.items():
        for r in remotes:
            conn.execute(sa.insert(locations).values(content_hash=h, remote=r, url=f"{r}://{h}", recorded_at=AT))
    return ids


def _plain(conn: sa.Connection, vid: int) -> Entry:
    """One version read the slow, obvious way: a query per table."""
    r = conn.execute(sa.select(versions, entities.c.name).join(entities, entities.c.id == versions.c.entity_id)
                     .where(versions.c.id == vid)).one()
    parts = {s.split: {"path": s.path, "content_hash": s.content_hash, "size": s.size, "nfiles": s.nfiles}
             for s in conn.execute(sa.select(splits).where(splits.c.version_id == vid).order_by(splits.c.split))}

    def lineage(mine: Any, theirs: Any) -> tuple[str, ...]:
        found = []
        for other in conn.execute(sa.select(theirs).where(mine == vid)).scalars():
            o = conn.execute(sa.select(versions.c.kind, versions.c.version, entities.c.name)
                             .join(entities, entities.c.id == versions.c.entity_id).where(versions.c.id == other)).one()
            found.append(f"{o.kind}:{o.name}@{o.version}")
        return tuple(sorted(found))

    stored = []
    for h in dict.fromkeys([r.content_hash or "", *(p["content_hash"] for p in parts.values())]):
        stored += [Location(x.remote, x.url, x.tier) for x in conn.execute(
            sa.select(locations).where(locations.c.content_hash == h).order_by(locations.c.remote))]
    return Entry(
        kind=r.kind, name=r.name, version=r.version, id=vid, created=iso(r.created_at) or "",
        content_hash=r.content_hash, path=r.path, size=r.size, nfiles=r.nfiles, nsamples=r.nsamples,
        description=r.description, card=dict(r.card or {}), architecture=r.architecture, framework=r.framework,
        status=r.status, stage=r.stage, git_rev=r.git_rev, started=iso(r.started_at), ended=iso(r.ended_at),
        metrics={m.key: m.value for m in conn.execute(
            sa.select(metrics).where(metrics.c.version_id == vid).order_by(metrics.c.key))},
        params={p.key: param_value(p.value_text, p.value_num) for p in conn.execute(
            sa.select(params).where(params.c.version_id == vid).order_by(params.c.key))},
        tags=tuple(sorted(conn.execute(sa.select(tags.c.tag).where(tags.c.version_id == vid)).scalars())),
        aliases=tuple(sorted(conn.execute(sa.select(aliases.c.alias).where(aliases.c.version_id == vid)).scalars())),
        locations=tuple(dict.fromkeys(stored)), inputs=lineage(edges.c.dst_id, edges.c.src_id),
        outputs=lineage(edges.c.src_id, edges.c.dst_id), splits=parts, meta=dict(r.meta or {}),
    )


def test_load_entries_is_the_plain_reading(cat: Catalog) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(spec=catalogs, order=st.randoms(use_true_random=False))
    def check(spec: tuple[list[dict[str, Any]], list[tuple[int, int]], dict[str, set[str]]], order: Any) -> None:
        with cat.engine.begin() as conn:
            ids = _fill(conn, *spec)
        asked = [*ids, max(ids) + 1000]  # a version that is not there is left out
        order.shuffle(asked)
        with cat.read() as conn:
            fast = load_entries(conn, asked)
            plain = [_plain(conn, vid) for vid in asked if vid in ids]
        assert fast == plain
        assert [list(e.splits) for e in fast] == [list(e.splits) for e in plain]  # the splits' order too

    check()
