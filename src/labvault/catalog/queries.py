"""Reading versions: get one by ref, list them, search them with a filter expression."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from labvault.catalog.filters import parse
from labvault.catalog.links import ref_text, side_rows
from labvault.catalog.refs import kinds, resolve
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
from labvault.catalog.search_plan import plan_condition
from labvault.catalog.store import Catalog
from labvault.catalog.types import BoundedEntry, Entry, ExperimentInfo, Location
from labvault.errors import CatalogError, UnknownNameError

CHUNK = 500


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else None


def param_value(text: str, num: float | None) -> Any:
    if num is not None or text in ("true", "false", "null") or text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    return [list(ids[i:i + CHUNK]) for i in range(0, len(ids), CHUNK)]


# The statements of ``load_entries``, built once: each call only binds its list of ids (``:ids``,
# expanded to one parameter per id), so SQLAlchemy neither rebuilds them nor recomputes their
# cache keys per page. Everything hanging off a version (splits, metrics, params, tags, aliases,
# inputs, outputs) comes back in one UNION ALL of rows ``(src, vid, t1, t2, t3, n1, n2, n3)``:
# one round trip to the database instead of seven.
_IDS: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True)
_other = sa.alias(versions, "other")
_other_entity = sa.alias(entities, "other_entity")
_VERSIONS = (sa.select(versions, entities.c.name).join(entities, entities.c.id == versions.c.entity_id)
             .where(versions.c.id.in_(_IDS)))
SPLIT, METRIC, PARAM, TAG, ALIAS, INPUT, OUTPUT = range(7)


def _child(src: int, vid: Any, t1: Any, t2: Any = None, t3: Any = None, n1: Any = None, n2: Any = None,
           n3: Any = None) -> sa.Select[Any]:
    def typed(value: Any, kind: Any) -> Any:
        return sa.cast(sa.null(), kind) if value is None else value

    return sa.select(sa.literal_column(str(src), sa.Integer).label("src"), vid.label("vid"), typed(t1, sa.Text).label("t1"),
                     typed(t2, sa.Text).label("t2"), typed(t3, sa.Text).label("t3"), typed(n1, sa.Float).label("n1"),
                     typed(n2, sa.BigInteger).label("n2"), typed(n3, sa.BigInteger).label("n3"))


def _lineage(src: int, mine: Any, theirs: Any) -> sa.Select[Any]:
    return (_child(src, mine, _other.c.kind, _other_entity.c.name, _other.c.version)
            .select_from(edges.join(_other, _other.c.id == theirs)
                         .join(_other_entity, _other_entity.c.id == _other.c.entity_id))
            .where(mine.in_(_IDS)))


_OWN = (
    _child(SPLIT, splits.c.version_id, splits.c.split, splits.c.content_hash, splits.c.path, None, splits.c.size,
           splits.c.nfiles).where(splits.c.version_id.in_(_IDS)),
    _child(METRIC, metrics.c.version_id, metrics.c.key, n1=metrics.c.value).where(metrics.c.version_id.in_(_IDS)),
    _child(PARAM, params.c.version_id, params.c.key, params.c.value_text, n1=params.c.value_num)
    .where(params.c.version_id.in_(_IDS)),
    _child(TAG, tags.c.version_id, tags.c.tag).where(tags.c.version_id.in_(_IDS)),
    _child(ALIAS, aliases.c.version_id, aliases.c.alias).where(aliases.c.version_id.in_(_IDS)),
)
_ORDER: tuple[Any, ...] = (sa.literal_column("src"), sa.literal_column("t1"))  # splits in name order, as before
_CHILDREN = sa.union_all(*_OWN, _lineage(INPUT, edges.c.dst_id, edges.c.src_id),
                         _lineage(OUTPUT, edges.c.src_id, edges.c.dst_id)).order_by(*_ORDER)
_BOUNDED: dict[tuple[str, int], sa.CompoundSelect[Any]] = {}


def _bounded_children(dialect: str, cap: int) -> sa.CompoundSelect[Any]:
    """``_CHILDREN`` with each side's first ``cap`` refs (``links.side_rows``), the side's total in
    ``n2`` (a row of nulls but the total for a version with none), built once per database kind and cap."""
    found = _BOUNDED.get((dialect, cap))
    if found is None:
        sides = []
        for src, side in ((INPUT, "inputs"), (OUTPUT, "outputs")):
            rows = side_rows(side, cap, dialect)
            sides.append(_child(src, rows.c.vid, rows.c.kind, rows.c.name, rows.c.version, n2=rows.c.total))
        found = _BOUNDED.setdefault((dialect, cap), sa.union_all(*_OWN, *sides).order_by(*_ORDER))
    return found


_LOCATIONS = (sa.select(locations.c.content_hash, locations.c.remote, locations.c.url, locations.c.tier)
              .where(locations.c.content_hash.in_(sa.bindparam("hashes", expanding=True)))
              .order_by(locations.c.remote))


def load_entries(conn: sa.Connection, ids: Sequence[int], link_cap: int | None = None) -> list[Entry]:
    """Entries for version ``ids``, in that order, with metrics, params, labels, locations, edges:
    a fixed number of queries per ``CHUNK`` ids, none per entry. With ``link_cap``, each is a
    ``BoundedEntry``: at most ``link_cap`` inputs and outputs, and their totals (``catalog.links``)."""
    if not ids:
        return []
    rows: dict[int, Any] = {}
    mets: dict[int, dict[str, float]] = defaultdict(dict)
    pars: dict[int, dict[str, Any]] = defaultdict(dict)
    tagmap: dict[int, list[str]] = defaultdict(list)
    aliasmap: dict[int, list[str]] = defaultdict(list)
    ins: dict[int, list[str]] = defaultdict(list)
    outs: dict[int, list[str]] = defaultdict(list)
    parts: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    part_hashes: dict[int, list[str]] = defaultdict(list)
    hashes: set[str] = set()
    totals: dict[int, dict[int, int]] = {INPUT: {}, OUTPUT: {}}
    for chunk in _chunks(ids):
        bound = {"ids": chunk}
        for r in conn.execute(_VERSIONS, bound).all():  # one fetch, not one call per row
            rows[int(r.id)] = r
            if r.content_hash:
                hashes.add(r.content_hash)
        children = _CHILDREN if link_cap is None else _bounded_children(conn.dialect.name, link_cap)
        for src, vid, t1, t2, t3, n1, n2, n3 in conn.execute(children, bound).all():
            if src == SPLIT:
                parts[vid][t1] = {"path": t3, "content_hash": t2, "size": n2, "nfiles": n3}
                part_hashes[vid].append(t2)
                hashes.add(t2)
            elif src == METRIC:
                mets[vid][t1] = n1
            elif src == PARAM:
                pars[vid][t1] = param_value(t2, n1)
            elif src == TAG:
                tagmap[vid].append(t1)
            elif src == ALIAS:
                aliasmap[vid].append(t1)
            else:
                if n2 is not None:  # bounded: the side's total rides along
                    totals[src][vid] = n2
                if t1 is not None:
                    (ins if src == INPUT else outs)[vid].append(ref_text(t1, t2, t3))
    locs: dict[str, list[Location]] = defaultdict(list)
    hash_list = sorted(hashes)
    for i in range(0, len(hash_list), CHUNK):
        for h, remote, url, tier in conn.execute(_LOCATIONS, {"hashes": hash_list[i:i + CHUNK]}).all():
            locs[h].append(Location(remote, url, tier))
    out = []
    for vid in ids:
        if vid not in rows:
            continue
        r = rows[vid]
        stored = [loc for h in dict.fromkeys([r.content_hash or "", *part_hashes[vid]]) for loc in locs.get(h, ())]
        made, extra = (Entry, {}) if link_cap is None else (BoundedEntry, {
            "inputs_total": totals[INPUT].get(vid, 0), "outputs_total": totals[OUTPUT].get(vid, 0)})
        out.append(made(
            kind=r.kind, name=r.name, version=r.version, id=vid, created=iso(r.created_at) or "",
            content_hash=r.content_hash, path=r.path, size=r.size, nfiles=r.nfiles, nsamples=r.nsamples,
            description=r.description, card=dict(r.card or {}), architecture=r.architecture,
            framework=r.framework, status=r.status, stage=r.stage, git_rev=r.git_rev,
            started=iso(r.started_at), ended=iso(r.ended_at), metrics=dict(sorted(mets[vid].items())),
            params=dict(sorted(pars[vid].items())), tags=tuple(sorted(tagmap[vid])),
            aliases=tuple(sorted(aliasmap[vid])), locations=tuple(dict.fromkeys(stored)),
            inputs=tuple(sorted(ins[vid])), outputs=tuple(sorted(outs[vid])), splits=parts.get(vid, {}),
            meta=dict(r.meta or {}), **extra,
        ))
    return out


def entry(cat: Catalog, version_id: int) -> Entry:
    with cat.read() as conn:
        found = load_entries(conn, [version_id])
    if not found:
        raise CatalogError(f"version {version_id} vanished while being read", "run the command again")
    return found[0]


def get(cat: Catalog, kind: str, ref: str, link_cap: int | None = None) -> Entry:
    """The version ``ref`` names (``NAME``: the latest; ``NAME@VERSION``; ``NAME@ALIAS``); with
    ``link_cap``, bounded as ``load_entries`` bounds it."""
    vkind = kinds(kind)[1]
    with cat.read() as conn:
        return load_entries(conn, [resolve(conn, vkind, ref)], link_cap)[0]


def list_versions(
    cat: Catalog, kind: str, *, name: str | None = None, all_versions: bool = False, limit: int | None = None
) -> list[Entry]:
    """Versions of one kind, newest first: the latest of each name, or every version."""
    vkind = kinds(kind)[1]
    query = sa.select(versions.c.id).where(versions.c.kind == vkind)
    if name is not None:
        query = query.join(entities, entities.c.id == versions.c.entity_id).where(entities.c.name == name)
    if not all_versions and vkind != "run":
        newest = (sa.select(versions.c.entity_id, sa.func.max(versions.c.seq).label("seq"))
                  .where(versions.c.kind == vkind).group_by(versions.c.entity_id).subquery())
        query = query.join(newest, sa.and_(newest.c.entity_id == versions.c.entity_id, newest.c.seq == versions.c.seq))
    query = query.order_by(versions.c.created_at.desc(), versions.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    with cat.read() as conn:
        return load_entries(conn, [int(i) for i in conn.execute(query).scalars()])


def search(cat: Catalog, kind: str, where: str, *, limit: int | None = None) -> list[Entry]:
    """Versions of one kind matching ``where`` (see ``labvault.catalog.filters``), newest first."""
    vkind = kinds(kind)[1]
    tree = parse(where)
    with cat.read() as conn:
        if conn.dialect.name == "postgresql":
            # The planned search is a few thousand index lookups: compiling it (PostgreSQL's JIT,
            # on by default above a cost these lookups reach) takes longer than running it.
            conn.exec_driver_sql("SET LOCAL jit = off")
        query = (sa.select(versions.c.id).join(entities, entities.c.id == versions.c.entity_id)
                 .where(versions.c.kind == vkind, plan_condition(conn, tree, vkind, limit))
                 .order_by(versions.c.created_at.desc(), versions.c.id.desc()))
        if limit is not None:
            query = query.limit(limit)
        return load_entries(conn, [int(i) for i in conn.execute(query).scalars()])


def experiments(cat: Catalog) -> list[ExperimentInfo]:
    stats = (sa.select(versions.c.entity_id, sa.func.count().label("runs"), sa.func.max(versions.c.seq).label("seq"))
             .where(versions.c.kind == "run").group_by(versions.c.entity_id).subquery())
    latest = sa.alias(versions, "latest")
    query = (sa.select(entities.c.name, entities.c.description, entities.c.created_at, stats.c.runs, latest.c.version)
             .select_from(entities)
             .outerjoin(stats, stats.c.entity_id == entities.c.id)
             .outerjoin(latest, sa.and_(latest.c.entity_id == entities.c.id, latest.c.seq == stats.c.seq))
             .where(entities.c.kind == "experiment").order_by(entities.c.name))
    with cat.read() as conn:
        return [ExperimentInfo(name=r.name, description=r.description, runs=int(r.runs or 0),
                               latest_run=f"{r.name}@{r.version}" if r.version else None,
                               created=iso(r.created_at) or "") for r in conn.execute(query)]


def experiment(cat: Catalog, name: str) -> ExperimentInfo:
    for info in experiments(cat):
        if info.name == name:
            return info
    raise UnknownNameError(f"unknown experiment {name!r}", "list them with `labvault catalog experiments`")
