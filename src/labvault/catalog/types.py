"""The values the catalog returns: frozen dataclasses, JSON-ready (timestamps are ISO 8601 text)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Location:
    remote: str
    url: str
    tier: str | None = None


@dataclass(frozen=True)
class Entry:
    """One version: a dataset version, a model version or a run (``name`` is then the experiment)."""

    kind: str
    name: str
    version: str
    id: int
    created: str
    content_hash: str | None = None
    path: str | None = None
    size: int | None = None
    nfiles: int | None = None
    nsamples: int | None = None
    description: str | None = None
    card: dict[str, Any] = field(default_factory=dict)
    architecture: str | None = None
    framework: str | None = None
    status: str | None = None
    stage: str | None = None
    git_rev: str | None = None
    started: str | None = None
    ended: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    locations: tuple[Location, ...] = ()
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    # A dataset version named by the lab's convention: split -> {path, content_hash, size, nfiles}.
    splits: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # from the annotations that named it

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class BoundedEntry(Entry):
    """An entry as the dashboard and its JSON API show it: ``inputs`` and ``outputs`` hold at most
    ``catalog.links.LINK_CAP`` refs each (the whole list when it is no longer), and the totals say
    how many there are in all (``catalog.links`` pages the rest)."""

    inputs_total: int = 0
    outputs_total: int = 0


@dataclass(frozen=True)
class ExperimentInfo:
    name: str
    description: str | None
    runs: int
    latest_run: str | None
    created: str


@dataclass(frozen=True)
class NewVersion:
    """One version to register in bulk (``Catalog.register_many``); runs use kind ``run``."""

    kind: str
    name: str
    version: str | None = None
    content_hash: str | None = None
    path: str | None = None
    size: int | None = None
    nfiles: int | None = None
    nsamples: int | None = None
    description: str | None = None
    card: dict[str, Any] | None = None
    architecture: str | None = None
    framework: str | None = None
    status: str | None = None
    stage: str | None = None
    git_rev: str | None = None
    metrics: dict[str, float] | None = None
    params: dict[str, Any] | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class LineageNode:
    id: int
    kind: str
    name: str
    version: str
    depth: int  # negative: upstream (made it), positive: downstream (made from it), 0: the start

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class LineageEdge:
    src: int
    dst: int
    relation: str


@dataclass(frozen=True)
class Lineage:
    root: LineageNode
    nodes: tuple[LineageNode, ...]
    edges: tuple[LineageEdge, ...]


@dataclass(frozen=True)
class DeletePlan:
    """What a delete removes; ``execute`` it with ``labvault.catalog.delete.execute``."""

    kind: str
    refs: tuple[str, ...]
    version_ids: tuple[int, ...]
    entity_ids: tuple[int, ...]
    edges: int
    dependents: tuple[str, ...]  # versions made from the deleted ones (their edges go too)
