"""Recording runs: registered by hand (``catalog register run``) or captured from ``repro``.

A run is a version of its experiment; edges go from the versions it read to the run and from the
run to the versions it wrote. A captured run is keyed by a fingerprint of what it did, so that
recording it again (a journal applied twice) returns the first record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from labvault.catalog import queries
from labvault.catalog.events import Artifact, RunEvent
from labvault.catalog.record import (
    OUTPUT_KINDS,
    _check_metrics,
    add_edges,
    artifact_version,
    insert_version,
)
from labvault.catalog.refs import resolve
from labvault.catalog.schema import metrics as metrics_table
from labvault.catalog.schema import splits, versions
from labvault.catalog.store import Catalog
from labvault.catalog.types import Entry
from labvault.catalog.upsert import upsert
from labvault.errors import CatalogError


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
    inputs: Iterable[str], outputs: Iterable[tuple[str, str, str]], status: str = "completed",
    started: datetime | None = None,
) -> str:
    """What makes a run the same run: its inputs, and (when known) when it started and whether it
    ran or was restored. Runs recorded without a start time keep the fingerprint they always had."""
    doc: dict[str, Any] = {"experiment": experiment, "stage": stage, "params": params, "git_rev": git_rev,
                           "inputs": sorted(inputs), "outputs": sorted([list(o) for o in outputs])}
    if status != "completed":
        doc["status"] = status
    if started is not None:
        doc["started"] = started.isoformat()
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def versions_holding(conn: sa.Connection, hashes: Iterable[str]) -> list[int]:
    """Dataset and model versions whose content (or one of whose splits) has one of ``hashes``."""
    wanted = sorted(set(hashes))
    if not wanted:
        return []
    found = set(conn.execute(sa.select(versions.c.id).where(
        versions.c.content_hash.in_(wanted), versions.c.kind.in_(OUTPUT_KINDS))).scalars())
    found.update(conn.execute(sa.select(splits.c.version_id).where(splits.c.content_hash.in_(wanted))).scalars())
    return sorted(int(i) for i in found)


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
    ``(path, content_hash, kind)`` (kind ``dataset`` or ``model``; the path is the output's name)."""
    return record_run_event(cat, RunEvent(
        experiment, stage, status or "completed", started, ended, git_rev, dict(params), dict(metrics),
        tuple(inputs), tuple(Artifact(path, h, kind) for path, h, kind in outputs),
    ))


def record_run_event(cat: Catalog, e: RunEvent) -> Entry:
    """Record a run that read the versions with content hashes ``e.inputs`` and wrote ``e.outputs``.
    Outputs become versions if new; edges go input -> run -> output. The same run (same
    experiment, stage, params, git revision, inputs, outputs, start time and status) is recorded
    once. A run restored from the run cache has status ``restored``."""
    for a in e.outputs:
        if a.kind not in OUTPUT_KINDS:
            raise CatalogError(f"output {a.path!r} has kind {a.kind!r}", "use 'dataset' or 'model'")
    fingerprint = run_fingerprint(e.experiment, e.stage, e.params, e.git_rev, e.inputs,
                                  [(a.path, a.content_hash, a.kind) for a in e.outputs], e.status, e.started)

    def run(conn: sa.Connection) -> int:
        vid, created = insert_version(conn, "run", e.experiment, content_hash=fingerprint,
                                      fields=_run_fields(e.stage, e.status, e.started, e.ended, e.git_rev),
                                      metric_values=e.metrics, param_values=e.params)
        if not created:
            return vid
        sources = versions_holding(conn, e.inputs)
        targets = [artifact_version(conn, a, e.git_rev) for a in e.outputs]
        add_edges(conn, ((s, vid) for s in sources), "input")
        add_edges(conn, ((vid, t) for t in targets), "output")
        # A model's scores are those of the runs that trained it (its outputs) and that evaluated
        # it (a run reading the model), so that `search models --where "metrics.accuracy > 0.9"`
        # finds models by how good they are.
        scored = [t for t, a in zip(targets, e.outputs, strict=True) if a.kind == "model"]
        if sources:
            scored += [int(i) for i in conn.execute(
                sa.select(versions.c.id).where(versions.c.id.in_(sources), versions.c.kind == "model")).scalars()]
        for model_id in scored:
            for key, value in _check_metrics(e.metrics or {}).items():
                upsert(conn, metrics_table, {"version_id": model_id, "key": key, "value": value, "kind": "model"},
                       ("version_id", "key"), ("value", "kind"))
        return vid

    return queries.entry(cat, cat.write(run))
