"""Capture events: what ``add``, ``commit``, ``push`` and ``repro`` record, one JSON object a line.

The journal is written by the commands (``labvault.api.capture``) and read here, so both sides
share one definition. Reading is strict: a line that is not a JSON object, names an unknown event
type, lacks a required field or holds a value of the wrong type raises :class:`EventError` with
the reason, and the journal sets that line aside instead of guessing.

Line shapes (``type`` first; optional fields may be absent or null)::

    {"type": "dataset", "name", "hash", "path", "size", "nfiles", "kind": "dataset|model",
     "version", "split", "description", "tags": [..], "meta": {..}, "card": {..}, "git_rev"}
    {"type": "run", "experiment", "stage", "status", "started", "ended" (ISO 8601), "git_rev",
     "params": {..}, "metrics": {key: number}, "inputs": [hash, ..],
     "outputs": [{"path", "hash", "kind", "name", "version", "split", ...} or [path, hash, kind]]}
    {"type": "location", "hash", "remote", "url", "tier"}
    {"type": "card", "name", "card": {..}, "description"}
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

# Column widths of the schema: longer values are refused here rather than by the database.
MAX_NAME, MAX_VERSION, MAX_KEY, MAX_STAGE, MAX_REV, MAX_HASH, MAX_LABEL = 512, 128, 256, 256, 64, 128, 256
VERSION_KINDS = ("dataset", "model")
RUN_STATUSES = ("completed", "restored", "failed", "running")


class EventError(Exception):
    """A journal line that cannot be applied; ``str()`` is the reason, one line."""


@dataclass(frozen=True)
class Artifact:
    """One content recorded under a name: a tracked output, or an output a run wrote.

    ``name`` defaults to ``path``; ``version`` to the next number of that name; ``split`` (train,
    val, test, ...) files the content under ``version`` beside the other splits of that version."""

    path: str
    content_hash: str
    kind: str = "dataset"
    name: str | None = None
    version: str | None = None
    split: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    meta: dict[str, Any] | None = None
    size: int | None = None
    nfiles: int | None = None

    @property
    def entity_name(self) -> str:
        return self.name or self.path


@dataclass(frozen=True)
class VersionEvent:
    artifact: Artifact
    git_rev: str | None = None
    card: dict[str, Any] | None = None


@dataclass(frozen=True)
class RunEvent:
    experiment: str
    stage: str | None = None
    status: str = "completed"
    started: datetime | None = None
    ended: datetime | None = None
    git_rev: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()
    outputs: tuple[Artifact, ...] = ()


@dataclass(frozen=True)
class LocationEvent:
    content_hash: str
    remote: str
    url: str
    tier: str | None = None


@dataclass(frozen=True)
class CardEvent:
    name: str
    card: dict[str, Any]
    description: str | None = None


Event = VersionEvent | RunEvent | LocationEvent | CardEvent


# -- reading ---------------------------------------------------------------------------------------

def _text(d: dict[str, Any], key: str, limit: int, *, required: bool = False) -> str | None:
    value = d.get(key)
    if value is None:
        if required:
            raise EventError(f"missing {key!r}")
        return None
    if not isinstance(value, str):
        raise EventError(f"{key!r} must be text, not {type(value).__name__}")
    if required and not value.strip():
        raise EventError(f"{key!r} is empty")
    if len(value) > limit:
        raise EventError(f"{key!r} is longer than {limit} characters")
    return value


def _count(d: dict[str, Any], key: str) -> int | None:
    value = d.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EventError(f"{key!r} must be a whole number >= 0, not {value!r}")
    return value


def _mapping(d: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = d.get(key)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise EventError(f"{key!r} must be a mapping")
    return value


def _labels(d: dict[str, Any], key: str) -> tuple[str, ...]:
    value = d.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, str) and len(t) <= MAX_LABEL for t in value):
        raise EventError(f"{key!r} must be a list of short texts")
    return tuple(t for t in value if t.strip())


def _version(d: dict[str, Any]) -> str | None:
    version = _text(d, "version", MAX_VERSION)
    if version is not None and (not version.strip() or "@" in version):
        raise EventError(f"bad version {version!r} (a non-empty word without '@')")
    return version.strip() if version is not None else None


def _when(d: dict[str, Any], key: str) -> datetime | None:
    value = _text(d, key, 64)
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EventError(f"{key!r} is not an ISO 8601 time: {value!r}") from None
    return when.astimezone(timezone.utc).replace(tzinfo=None) if when.tzinfo is not None else when


def _artifact(d: dict[str, Any]) -> Artifact:
    kind = _text(d, "kind", 16) or "dataset"
    if kind not in VERSION_KINDS:
        raise EventError(f"kind {kind!r} is not one of {', '.join(VERSION_KINDS)}")
    path = _text(d, "path", 4096)
    name = _text(d, "name", MAX_NAME)
    if path is None and name is None:
        raise EventError("missing 'path' (or 'name')")
    if name is not None and not name.strip():
        raise EventError("'name' is empty")
    return Artifact(
        path=path or name or "", content_hash=_text(d, "hash", MAX_HASH, required=True) or "", kind=kind,
        name=name, version=_version(d), split=_text(d, "split", 32), description=_text(d, "description", 100_000),
        tags=_labels(d, "tags"), meta=_mapping(d, "meta"), size=_count(d, "size"), nfiles=_count(d, "nfiles"),
    )


def _output(item: Any) -> Artifact:
    if isinstance(item, list):  # the first journal format: [path, hash, kind]
        if len(item) != 3 or not all(isinstance(x, str) for x in item):
            raise EventError("an output must be [path, hash, kind]")
        item = {"path": item[0], "hash": item[1], "kind": item[2]}
    if not isinstance(item, dict):
        raise EventError("an output must be a mapping")
    return _artifact(item)


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise EventError(f"metric {key!r} must be a finite number, not {value!r}")
    return float(value)


def _run(d: dict[str, Any]) -> RunEvent:
    status = _text(d, "status", 32) or "completed"
    if status not in RUN_STATUSES:
        raise EventError(f"status {status!r} is not one of {', '.join(RUN_STATUSES)}")
    params = _mapping(d, "params") or {}
    metrics = _mapping(d, "metrics") or {}
    for key in (*params, *metrics):
        if not key or len(key) > MAX_KEY:
            raise EventError(f"a param or metric key is empty or longer than {MAX_KEY} characters")
    inputs = d.get("inputs") or []
    if not isinstance(inputs, list) or not all(isinstance(h, str) and len(h) <= MAX_HASH for h in inputs):
        raise EventError("'inputs' must be a list of content hashes")
    outputs = d.get("outputs") or []
    if not isinstance(outputs, list):
        raise EventError("'outputs' must be a list")
    return RunEvent(
        experiment=_text(d, "experiment", MAX_NAME, required=True) or "", stage=_text(d, "stage", MAX_STAGE),
        status=status, started=_when(d, "started"), ended=_when(d, "ended"), git_rev=_text(d, "git_rev", MAX_REV),
        params=params, metrics={k: _number(k, v) for k, v in metrics.items()}, inputs=tuple(inputs),
        outputs=tuple(_output(o) for o in outputs),
    )


def parse_event(d: Any) -> Event:
    """The event a decoded journal line holds; EventError saying what is wrong otherwise."""
    if not isinstance(d, dict):
        raise EventError("not a JSON object")
    kind = d.get("type")
    if kind == "dataset":
        card = _mapping(d, "card")
        return VersionEvent(_artifact(d), _text(d, "git_rev", MAX_REV), card)
    if kind == "run":
        return _run(d)
    if kind == "location":
        return LocationEvent(_text(d, "hash", MAX_HASH, required=True) or "",
                             _text(d, "remote", MAX_LABEL, required=True) or "",
                             _text(d, "url", 100_000, required=True) or "", _text(d, "tier", 64))
    if kind == "card":
        card = _mapping(d, "card")
        if card is None:
            raise EventError("missing 'card'")
        return CardEvent(_text(d, "name", MAX_NAME, required=True) or "", card, _text(d, "description", 100_000))
    raise EventError(f"unknown event type {kind!r}")


def parse_line(raw: bytes) -> Event:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise EventError("not UTF-8 text") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise EventError(f"not JSON ({exc})") from None
    return parse_event(data)


# -- writing ---------------------------------------------------------------------------------------

def artifact_fields(a: Artifact) -> dict[str, Any]:
    d: dict[str, Any] = {"path": a.path, "hash": a.content_hash, "kind": a.kind}
    optional = {"name": a.name, "version": a.version, "split": a.split, "description": a.description,
                "tags": list(a.tags) or None, "meta": a.meta or None, "size": a.size, "nfiles": a.nfiles}
    d.update((k, v) for k, v in optional.items() if v is not None)
    return d


def dump_event(event: Event) -> dict[str, Any]:
    """The JSON object of one journal line (``parse_event(dump_event(e)) == e``)."""
    if isinstance(event, VersionEvent):
        d = {"type": "dataset", **artifact_fields(event.artifact)}
        if event.git_rev:
            d["git_rev"] = event.git_rev
        if event.card:
            d["card"] = event.card
        return d
    if isinstance(event, RunEvent):
        return {
            "type": "run", "experiment": event.experiment, "stage": event.stage, "status": event.status,
            "started": event.started.isoformat() if event.started else None,
            "ended": event.ended.isoformat() if event.ended else None, "git_rev": event.git_rev,
            "params": event.params, "metrics": event.metrics, "inputs": list(event.inputs),
            "outputs": [artifact_fields(o) for o in event.outputs],
        }
    if isinstance(event, LocationEvent):
        return {"type": "location", "hash": event.content_hash, "remote": event.remote, "url": event.url,
                "tier": event.tier}
    return {"type": "card", "name": event.name, "card": event.card, "description": event.description}
