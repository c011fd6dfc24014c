"""Writing versions: datasets, models, experiments and runs, one at a time and idempotent.

Every write runs in one transaction that first locks the entity row (PostgreSQL) or the whole
database (SQLite, ``BEGIN IMMEDIATE``), so concurrent writers never pick the same version number
and the same content is never recorded twice under one name.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from labvault.catalog import queries
from labvault.catalog.events import Artifact
from labvault.catalog.refs import entity_kind_of, resolve
from labvault.catalog.schema import (
    edges,
    entities,
    locations,
    metrics,
    params,
    splits,
    tags,
    versions,
)
from labvault.catalog.store import Catalog, now
from labvault.catalog.types import Entry, ExperimentInfo, Location
from labvault.catalog.upsert import insert_ignore, upsert
from labvault.errors import CatalogError

OUTPUT_KINDS = ("dataset", "model")


def ensure_entity(conn: sa.Connection, ekind: str, name: str, description: str | None = None) -> int:
    """The id of entity (kind, name), created if new, and locked for this transaction."""
    if not name or not name.strip():
        raise CatalogError(f"a {ekind} needs a name")
    insert_ignore(conn, entities, [{"kind": ekind, "name": name, "description": description, "created_at": now()}])
    row = conn.execute(
        sa.select(entities.c.id).where(entities.c.kind == ekind, entities.c.name == name).with_for_update()
    ).first()
    assert row is not None
    return int(row[0])


def param_row(version_id: int, key: str, value: Any, kind: str) -> dict[str, Any]:
    """One params row; ``kind`` is the version's (runs and models have params)."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    num = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return {"version_id": version_id, "key": key, "value_text": text, "value_num": num, "kind": kind}


def _check_metrics(values: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CatalogError(f"metric {key!r} must be a number, not {value!r}")
        out[key] = float(value)
    return out


def insert_version(
    conn: sa.Connection,
    vkind: str,
    name: str,
    *,
    version: str | None = None,
    content_hash: str | None = None,
    fields: Mapping[str, Any] | None = None,
    metric_values: Mapping[str, Any] | None = None,
    param_values: Mapping[str, Any] | None = None,
    tag_names: Iterable[str] = (),
) -> tuple[int, bool]:
    """Insert one version (or find the one with the same content); returns (id, created)."""
    checked = _check_metrics(metric_values or {})
    eid = ensure_entity(conn, entity_kind_of(vkind), name)
    if content_hash:
        row = conn.execute(
            sa.select(versions.c.id).where(versions.c.entity_id == eid, versions.c.content_hash == content_hash)
        ).first()
        if row is not None:
            return int(row[0]), False
    if version is not None:
        version = version.strip()
        if not version or "@" in version:
            raise CatalogError(f"bad version {version!r}", "a version is a non-empty word without '@'")
        clash = conn.execute(
            sa.select(versions.c.content_hash).where(versions.c.entity_id == eid, versions.c.version == version)
        ).first()
        if clash is not None:
            raise CatalogError(
                f"{entity_kind_of(vkind)} {name!r} already has version {version!r}",
                "choose another --version, or leave it out to get the next number",
            )
    taken = set(conn.execute(sa.select(versions.c.version).where(versions.c.entity_id == eid)).scalars())
    seq = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(versions.c.seq), 0)).where(
        versions.c.entity_id == eid)).scalar_one()) + 1
    if version is None:
        while str(seq) in taken:
            seq += 1
        version = str(seq)
    stamp = now()
    row_values = {
        "entity_id": eid, "kind": vkind, "version": version, "seq": seq, "content_hash": content_hash or None,
        "created_at": stamp, **(fields or {}),
    }
    vid = int(conn.execute(sa.insert(versions).values(**row_values).returning(versions.c.id)).scalar_one())
    if checked:
        conn.execute(sa.insert(metrics), [
            {"version_id": vid, "key": k, "value": v, "kind": vkind} for k, v in checked.items()
        ])
    if param_values:
        conn.execute(sa.insert(params), [param_row(vid, k, v, vkind) for k, v in param_values.items()])
    add_tags(conn, vid, tag_names)
    return vid, True


def add_tags(conn: sa.Connection, version_id: int, names: Iterable[str]) -> None:
    rows = [{"version_id": version_id, "tag": t.strip(), "created_at": now()} for t in names if t.strip()]
    insert_ignore(conn, tags, rows)


def add_edges(conn: sa.Connection, pairs: Iterable[tuple[int, int]], relation: str) -> None:
    rows = [{"src_id": s, "dst_id": d, "relation": relation} for s, d in pairs if s != d]
    insert_ignore(conn, edges, rows)


def record_dataset_version(
    cat: Catalog,
    name: str,
    content_hash: str | None,
    path: str | None,
    size: int | None,
    nfiles: int | None,
    git_rev: str | None = None,
    version: str | None = None,
    *,
    nsamples: int | None = None,
    description: str | None = None,
    card: Mapping[str, Any] | None = None,
    tags: Iterable[str] = (),
) -> Entry:
    """Record a dataset version; the same content under the same name returns the existing one."""
    fields = {"path": path, "size": size, "nfiles": nfiles, "nsamples": nsamples, "git_rev": git_rev,
              "description": description, "card": dict(card) if card else None}

    def run(conn: sa.Connection) -> int:
        vid, _ = insert_version(conn, "dataset", name, version=version, content_hash=content_hash,
                                fields=fields, tag_names=tags)
        return vid

    return queries.entry(cat, cat.write(run))


def register_model(
    cat: Catalog,
    name: str,
    *,
    architecture: str | None = None,
    framework: str | None = None,
    path: str | None = None,
    content_hash: str | None = None,
    size: int | None = None,
    metrics: Mapping[str, float] | None = None,
    params: Mapping[str, Any] | None = None,
    datasets: Iterable[str] = (),
    version: str | None = None,
    description: str | None = None,
    card: Mapping[str, Any] | None = None,
    tags: Iterable[str] = (),
    git_rev: str | None = None,
) -> Entry:
    """Record a model version trained on ``datasets`` (refs such as ``sentiment_dataset@v1.0``)."""
    fields = {"architecture": architecture, "framework": framework, "path": path, "size": size,
              "description": description, "card": dict(card) if card else None, "git_rev": git_rev}
    refs = list(datasets)

    def run(conn: sa.Connection) -> int:
        sources = [resolve(conn, "dataset", r) for r in refs]
        vid, _ = insert_version(conn, "model", name, version=version, content_hash=content_hash, fields=fields,
                                metric_values=metrics, param_values=params, tag_names=tags)
        add_edges(conn, ((s, vid) for s in sources), "trained_on")
        return vid

    return queries.entry(cat, cat.write(run))


def register_experiment(cat: Catalog, name: str, description: str | None = None) -> ExperimentInfo:
    def run(conn: sa.Connection) -> None:
        eid = ensure_entity(conn, "experiment", name, description)
        if description is not None:
            conn.execute(sa.update(entities).where(entities.c.id == eid).values(description=description))

    cat.write(run)
    return queries.experiment(cat, name)


def _split_version(conn: sa.Connection, a: Artifact, fields: dict[str, Any]) -> int:
    """File ``a`` as split ``a.split`` of version ``a.version`` (created if new). The same content
    again changes nothing; other content under a split already recorded is refused."""
    name, version, split = a.entity_name, a.version or "", a.split or ""
    eid = ensure_entity(conn, entity_kind_of(a.kind), name)
    row = conn.execute(sa.select(versions.c.id).where(versions.c.entity_id == eid, versions.c.version == version)).first()
    if row is None:
        vid, _ = insert_version(conn, a.kind, name, version=version,
                                fields={**fields, "path": posixpath.dirname(a.path) or a.path, "size": None,
                                        "nfiles": None})
    else:
        vid = int(row[0])
    held = conn.execute(sa.select(splits.c.content_hash, splits.c.path).where(
        splits.c.version_id == vid, splits.c.split == split)).first()
    if held is not None:
        if held[0] != a.content_hash:
            raise CatalogError(
                f"{entity_kind_of(a.kind)} {name}@{version} already holds other content as split {split!r}"
                f" ({held[1]})", "name the new content with a new version (e.g. v1.1)",
            )
        return vid
    conn.execute(sa.insert(splits).values(version_id=vid, split=split, content_hash=a.content_hash, path=a.path,
                                          size=a.size, nfiles=a.nfiles, recorded_at=now()))
    total = conn.execute(sa.select(sa.func.count(), sa.func.count(splits.c.size), sa.func.sum(splits.c.size),
                                   sa.func.count(splits.c.nfiles), sa.func.sum(splits.c.nfiles))
                         .where(splits.c.version_id == vid)).one()
    conn.execute(sa.update(versions).where(versions.c.id == vid).values(
        size=total[2] if total[1] == total[0] else None, nfiles=total[4] if total[3] == total[0] else None))
    return vid


def artifact_version(conn: sa.Connection, a: Artifact, git_rev: str | None,
                     card: Mapping[str, Any] | None = None) -> int:
    """The version holding ``a`` (recorded if new; idempotent); its tags are added either way."""
    if a.kind not in OUTPUT_KINDS:
        raise CatalogError(f"output {a.path!r} has kind {a.kind!r}", "use 'dataset' or 'model'")
    fields = {"path": a.path, "size": a.size, "nfiles": a.nfiles, "git_rev": git_rev, "description": a.description,
              "card": dict(card) if card else None, "meta": dict(a.meta) if a.meta else None}
    if a.split and a.version:
        vid = _split_version(conn, a, fields)
    else:
        vid, _ = insert_version(conn, a.kind, a.entity_name, version=a.version, content_hash=a.content_hash,
                                fields=fields)
    add_tags(conn, vid, a.tags)
    return vid


def record_artifact(cat: Catalog, a: Artifact, git_rev: str | None = None,
                    card: Mapping[str, Any] | None = None) -> Entry:
    """Record a tracked output under its name (see ``Artifact``)."""
    return queries.entry(cat, cat.write(lambda conn: artifact_version(conn, a, git_rev, card)))


def record_location(cat: Catalog, content_hash: str, remote: str, url: str, tier: str | None = None) -> Location:
    """Note that ``remote`` (at ``url``) holds ``content_hash``; recording it again updates url/tier."""
    if not content_hash or not remote:
        raise CatalogError("a location needs a content hash and a remote name")
    row = {"content_hash": content_hash, "remote": remote, "url": url, "tier": tier, "recorded_at": now()}
    cat.write(lambda conn: upsert(conn, locations, row, ("content_hash", "remote"), ("url", "tier", "recorded_at")))
    return Location(remote=remote, url=url, tier=tier)


def index_card(cat: Catalog, name: str, card: Mapping[str, Any], description: str | None = None) -> Entry:
    """Attach a provenance card to dataset ``name``: its newest version (a version without content,
    when the dataset is not tracked yet). Indexing the same card again changes nothing."""

    def run(conn: sa.Connection) -> int:
        eid = ensure_entity(conn, "dataset", name, description)
        row = conn.execute(
            sa.select(versions.c.id).where(versions.c.entity_id == eid).order_by(versions.c.seq.desc()).limit(1)
        ).first()
        if row is None:
            vid, _ = insert_version(conn, "dataset", name, fields={"path": name, "description": description,
                                                                    "card": dict(card)})
            return vid
        conn.execute(sa.update(versions).where(versions.c.id == row[0]).values(
            card=dict(card), description=description or versions.c.description))
        return int(row[0])

    return queries.entry(cat, cat.write(run))
