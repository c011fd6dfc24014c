"""Writing versions: datasets, models, experiments and runs, one at a time and idempotent.

Every write runs in one transaction that first locks the entity row (PostgreSQL) or the whole
database (SQLite, ``BEGIN IMMEDIATE``), so concurrent writers never pick the same version number
and the same content is never recorded twice under one name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from labvault.catalog import queries
from labvault.catalog.refs import entity_kind_of, resolve
from labvault.catalog.schema import edges, entities, locations, metrics, params, tags, versions
from labvault.catalog.schema import metrics as metrics_table
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


def param_row(version_id: int, key: str, value: Any) -> dict[str, Any]:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    num = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return {"version_id": version_id, "key": key, "value_text": text, "value_num": num}


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
        conn.execute(sa.insert(params), [param_row(vid, k, v) for k, v in param_values.items()])
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


def _run_fields(stage: str | None, status: str | None, started: datetime | None, ended: datetime | None,
                git_rev: str | None) -> dict[str, Any]:
    return {"stage": stage, "status": status, "started_at": started, "ended_at": ended, "git_rev": git_rev}


def register_run(
    cat: Catalog,
    experiment: str,
    *,
    stage: str | None = None,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, float] | None = None,
    status: str | None = "completed",
    started: datetime | None = None,
    ended: datetime | None = None,
    git_rev: str | None = None,
    inputs: Iterable[str] = (),
    outputs: Iterable[tuple[str, str]] = (),
    version: str | None = None,
    tags: Iterable[str] = (),
) -> Entry:
    """Record a run of ``experiment``; inputs are refs of any kind (``dataset:x@1`` or ``x@1``),
    outputs are (kind, ref) pairs of existing versions. Edges: input -> run -> output."""
    in_refs, out_refs = list(inputs), list(outputs)

    def run(conn: sa.Connection) -> int:
        sources = [_resolve_any(conn, r) for r in in_refs]
        targets = [resolve(conn, k, r) for k, r in out_refs]
        vid, _ = insert_version(conn, "run", experiment, version=version,
                                fields=_run_fields(stage, status, started, ended, git_rev),
                                metric_values=metrics, param_values=params, tag_names=tags)
        add_edges(conn, ((s, vid) for s in sources), "input")
        add_edges(conn, ((vid, t) for t in targets), "output")
        return vid

    return queries.entry(cat, cat.write(run))


def _resolve_any(conn: sa.Connection, ref: str) -> int:
    kind, sep, rest = ref.partition(":")
    if sep and kind in ("dataset", "model", "run"):
        return resolve(conn, kind, rest)
    try:
        return resolve(conn, "dataset", ref)
    except CatalogError:
        return resolve(conn, "model", ref)


def run_fingerprint(
    experiment: str, stage: str | None, params: Mapping[str, Any], git_rev: str | None,
    inputs: Iterable[str], outputs: Iterable[tuple[str, str, str]],
) -> str:
    doc = {"experiment": experiment, "stage": stage, "params": params, "git_rev": git_rev,
           "inputs": sorted(inputs), "outputs": sorted([list(o) for o in outputs])}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def record_run(
    cat: Catalog,
    experiment: str,
    stage: str | None,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    status: str,
    started: datetime | None,
    ended: datetime | None,
    git_rev: str | None,
    inputs: list[str],
    outputs: list[tuple[str, str, str]],
) -> Entry:
    """Record a run that read the versions with content hashes ``inputs`` and wrote ``outputs``
    ``(path, content_hash, kind)`` (kind ``dataset`` or ``model``; the path is the output's name).
    Outputs become versions if new; edges go input -> run -> output. A run with the same
    experiment, stage, params, git revision, inputs and outputs is recorded once."""
    for path, _h, kind in outputs:
        if kind not in OUTPUT_KINDS:
            raise CatalogError(f"output {path!r} has kind {kind!r}", "use 'dataset' or 'model'")
    fingerprint = run_fingerprint(experiment, stage, params, git_rev, inputs, outputs)

    def run(conn: sa.Connection) -> int:
        vid, created = insert_version(conn, "run", experiment, content_hash=fingerprint,
                                      fields=_run_fields(stage, status, started, ended, git_rev),
                                      metric_values=metrics, param_values=params)
        if not created:
            return vid
        sources: list[int] = []
        if inputs:
            sources = [int(i) for i in conn.execute(
                sa.select(versions.c.id).where(versions.c.content_hash.in_(sorted(set(inputs))),
                                               versions.c.kind.in_(OUTPUT_KINDS))).scalars()]
        targets = []
        for path, content_hash, kind in outputs:
            out_id, _ = insert_version(conn, kind, path, content_hash=content_hash,
                                       fields={"path": path, "git_rev": git_rev})
            targets.append(out_id)
        add_edges(conn, ((s, vid) for s in sources), "input")
        add_edges(conn, ((vid, t) for t in targets), "output")
        # A model's scores are those of the runs that trained it (its outputs) and that evaluated
        # it (a run reading the model), so that `search models --where "metrics.accuracy > 0.9"`
        # finds models by how good they are.
        scored = [t for t, (_p, _h, k) in zip(targets, outputs, strict=True) if k == "model"]
        if sources:
            scored += [int(i) for i in conn.execute(
                sa.select(versions.c.id).where(versions.c.id.in_(sources), versions.c.kind == "model")).scalars()]
        for model_id in scored:
            for key, value in _check_metrics(metrics or {}).items():
                upsert(conn, metrics_table, {"version_id": model_id, "key": key, "value": value, "kind": "model"},
                       ("version_id", "key"), ("value", "kind"))
        return vid

    return queries.entry(cat, cat.write(run))


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
