"""The catalog: register, find, search and trace datasets, models, experiments and runs.

Every function takes ``catalog_url`` (default: ``LABVAULT_CATALOG_URL``, else ``labvault.catalog_url``
from the configuration of ``repo`` (the current folder by default), else the SQLite file in the
user's data folder) and returns frozen dataclasses::

    from labvault import api

    api.catalog_register_dataset("sentiment_dataset", version="v1.0", path="data/sentiment.csv")
    api.catalog_register_model("sentiment_classifier", architecture="bert-base-uncased",
                               datasets=["sentiment_dataset@v1.0"], metrics={"accuracy": 0.92})
    api.catalog_search("models", "metrics.accuracy > 0.9 and tag = production")

``record_dataset_version``, ``record_run`` and ``record_location`` are the idempotent hooks that
add/commit, repro and push call to capture what they did.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from labvault.catalog import bulk, delete, export, labels, lineage, queries, record, runs
from labvault.catalog.journal import JournalResult, Rejected
from labvault.catalog.store import Catalog, open_catalog
from labvault.catalog.types import DeletePlan, Entry, ExperimentInfo, Lineage, Location, NewVersion
from labvault.config import Config
from labvault.errors import LabvaultError
from labvault.progress import NULL_PROGRESS, Progress
from labvault.workspace.repo import find_root

PathLike = str | os.PathLike[str]

CatalogEntry = Entry
CatalogLocation = Location
SyncResult = JournalResult


@dataclass(frozen=True)
class CatalogCheck:
    """What ``catalog_check`` found: one line per row of a kept table that disagrees with the rows
    it is kept from (``problems``), and whether they were rebuilt."""

    problems: tuple[str, ...]
    repaired: bool

    @property
    def ok(self) -> bool:
        return not self.problems or self.repaired

__all__ = [
    "CatalogCheck", "CatalogEntry", "CatalogLocation", "DeletePlan", "ExperimentInfo", "Lineage", "NewVersion", "Rejected", "SyncResult",
    "catalog_alias", "catalog_capture_enabled", "catalog_check", "catalog_delete", "catalog_experiments", "catalog_export",
    "catalog_get", "catalog_lineage", "catalog_list", "catalog_open", "catalog_register_dataset",
    "catalog_register_experiment", "catalog_register_model", "catalog_register_run", "catalog_render_lineage",
    "catalog_search", "catalog_sync", "catalog_tag", "catalog_unalias", "catalog_url_for", "record_dataset_version",
    "record_location", "record_run", "register_many",
]


def catalog_url_for(repo: PathLike | None = None) -> str | None:
    """The configured catalog URL (environment, then config levels), or None for the default."""
    try:
        dvc_dir: Path | None = find_root(Path(repo) if repo is not None else None) / ".dvc"
    except LabvaultError:
        dvc_dir = None
    return Config.load(dvc_dir).get("labvault", "catalog_url") or None


def catalog_open(catalog_url: str | None = None, repo: PathLike | None = None) -> Catalog:
    """The catalog (created or upgraded on first use); cached per process."""
    return open_catalog(catalog_url or catalog_url_for(repo))


def catalog_capture_enabled(repo: PathLike | None = None) -> bool:
    """``labvault.catalog_capture`` (default on): whether add/commit/repro/push record to the catalog."""
    try:
        dvc_dir: Path | None = find_root(Path(repo) if repo is not None else None) / ".dvc"
    except LabvaultError:
        dvc_dir = None
    return Config.load(dvc_dir).get_bool("labvault", "catalog_capture", True)


# Capture hooks (idempotent) -------------------------------------------------------------------

def record_dataset_version(
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
    catalog_url: str | None = None,
    repo: PathLike | None = None,
) -> Entry:
    """Record a dataset version (next number unless ``version``); the same content hash under the
    same name returns the version already recorded."""
    return record.record_dataset_version(
        catalog_open(catalog_url, repo), name, content_hash, path, size, nfiles, git_rev, version,
        nsamples=nsamples, description=description, card=card, tags=tags,
    )


def record_run(
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
    *,
    catalog_url: str | None = None,
    repo: PathLike | None = None,
) -> Entry:
    """Record a run: ``inputs`` are content hashes of versions it read, ``outputs`` are
    ``(path, content_hash, kind)`` with kind ``dataset`` or ``model`` (named by path). Lineage
    edges go input -> run -> output. Recording the same run again returns the first record."""
    return runs.record_run(catalog_open(catalog_url, repo), experiment, stage, params, metrics, status,
                             started, ended, git_rev, inputs, outputs)


def record_location(
    content_hash: str, remote: str, url: str, tier: str | None = None, *,
    catalog_url: str | None = None, repo: PathLike | None = None,
) -> Location:
    """Note that ``remote`` (at ``url``) holds the object ``content_hash``."""
    return record.record_location(catalog_open(catalog_url, repo), content_hash, remote, url, tier)


# Registration ---------------------------------------------------------------------------------

def catalog_register_dataset(
    name: str, *, version: str | None = None, path: str | None = None, content_hash: str | None = None,
    size: int | None = None, nfiles: int | None = None, nsamples: int | None = None,
    description: str | None = None, card: Mapping[str, Any] | None = None, tags: Iterable[str] = (),
    git_rev: str | None = None, catalog_url: str | None = None, repo: PathLike | None = None,
) -> Entry:
    return record.record_dataset_version(
        catalog_open(catalog_url, repo), name, content_hash, path, size, nfiles, git_rev, version,
        nsamples=nsamples, description=description, card=card, tags=tags,
    )


def catalog_register_model(
    name: str, *, architecture: str | None = None, framework: str | None = None, path: str | None = None,
    content_hash: str | None = None, size: int | None = None, metrics: Mapping[str, float] | None = None,
    params: Mapping[str, Any] | None = None, datasets: Iterable[str] = (), version: str | None = None,
    description: str | None = None, card: Mapping[str, Any] | None = None, tags: Iterable[str] = (),
    git_rev: str | None = None, catalog_url: str | None = None, repo: PathLike | None = None,
) -> Entry:
    return record.register_model(
        catalog_open(catalog_url, repo), name, architecture=architecture, framework=framework, path=path,
        content_hash=content_hash, size=size, metrics=metrics, params=params, datasets=datasets,
        version=version, description=description, card=card, tags=tags, git_rev=git_rev,
    )


def catalog_register_experiment(
    name: str, description: str | None = None, *, catalog_url: str | None = None, repo: PathLike | None = None,
) -> ExperimentInfo:
    return record.register_experiment(catalog_open(catalog_url, repo), name, description)


def catalog_register_run(
    experiment: str, *, stage: str | None = None, params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, float] | None = None, status: str | None = "completed",
    started: datetime | None = None, ended: datetime | None = None, git_rev: str | None = None,
    inputs: Iterable[str] = (), outputs: Iterable[tuple[str, str]] = (), version: str | None = None,
    tags: Iterable[str] = (), catalog_url: str | None = None, repo: PathLike | None = None,
) -> Entry:
    """A run of ``experiment``; ``inputs`` are refs (``x@1`` or ``model:x@1``), ``outputs`` (kind, ref)."""
    return runs.register_run(
        catalog_open(catalog_url, repo), experiment, stage=stage, params=params, metrics=metrics,
        status=status, started=started, ended=ended, git_rev=git_rev, inputs=inputs, outputs=outputs,
        version=version, tags=tags,
    )


def register_many(
    items: Sequence[NewVersion], *, catalog_url: str | None = None, repo: PathLike | None = None,
) -> int:
    """Register many versions in one transaction (the fast path); returns how many were new."""
    return bulk.register_many(catalog_open(catalog_url, repo), items)


# Reading --------------------------------------------------------------------------------------

def catalog_get(kind: str, ref: str, *, catalog_url: str | None = None, repo: PathLike | None = None) -> Entry:
    """``ref``: NAME (latest), NAME@VERSION or NAME@ALIAS; kind: dataset, model, run or experiment."""
    return queries.get(catalog_open(catalog_url, repo), kind, ref)


def catalog_list(
    kind: str, *, name: str | None = None, all_versions: bool = False, limit: int | None = None,
    catalog_url: str | None = None, repo: PathLike | None = None,
) -> list[Entry]:
    """The latest version of every dataset/model (or all versions), or runs; newest first."""
    return queries.list_versions(catalog_open(catalog_url, repo), kind, name=name, all_versions=all_versions,
                                 limit=limit)


def catalog_experiments(*, catalog_url: str | None = None, repo: PathLike | None = None) -> list[ExperimentInfo]:
    return queries.experiments(catalog_open(catalog_url, repo))


def catalog_search(
    kind: str, where: str, *, limit: int | None = None, catalog_url: str | None = None,
    repo: PathLike | None = None,
) -> list[Entry]:
    """Versions matching ``where``, e.g. ``metrics.accuracy > 0.9 and tag = production``."""
    return queries.search(catalog_open(catalog_url, repo), kind, where, limit=limit)


def catalog_lineage(
    kind: str, ref: str, *, direction: str = "both", depth: int | None = None,
    catalog_url: str | None = None, repo: PathLike | None = None,
) -> Lineage:
    return lineage.lineage(catalog_open(catalog_url, repo), kind, ref, direction=direction, depth=depth)


def catalog_render_lineage(graph: Lineage, fmt: str = "tree") -> str:
    """``fmt``: ``tree`` (ASCII) or ``mermaid``."""
    return lineage.render_mermaid(graph) if fmt == "mermaid" else lineage.render_tree(graph)


# Labels, deletion, export ---------------------------------------------------------------------

def catalog_tag(
    kind: str, ref: str, tags: Iterable[str], *, remove: bool = False, catalog_url: str | None = None,
    repo: PathLike | None = None,
) -> Entry:
    cat = catalog_open(catalog_url, repo)
    return labels.untag(cat, kind, ref, tags) if remove else labels.tag(cat, kind, ref, tags)


def catalog_alias(
    kind: str, ref: str, alias: str, *, catalog_url: str | None = None, repo: PathLike | None = None,
) -> Entry:
    """Point ``alias`` at ``ref``, moving it from the version it named before."""
    return labels.alias(catalog_open(catalog_url, repo), kind, ref, alias)


def catalog_unalias(
    kind: str, name: str, alias: str, *, catalog_url: str | None = None, repo: PathLike | None = None,
) -> None:
    labels.unalias(catalog_open(catalog_url, repo), kind, name, alias)


def catalog_delete(
    kind: str, ref: str, *, dry_run: bool = False, catalog_url: str | None = None, repo: PathLike | None = None,
) -> DeletePlan:
    """Delete ``NAME@VERSION`` or the whole ``NAME``; with ``dry_run`` only return the plan."""
    cat = catalog_open(catalog_url, repo)
    planned = delete.plan(cat, kind, ref)
    return planned if dry_run else delete.execute(cat, planned)


def catalog_export(
    fmt: str = "json", kinds: Sequence[str] = (), *, catalog_url: str | None = None, repo: PathLike | None = None,
) -> str:
    return export.export(catalog_open(catalog_url, repo), fmt, list(kinds))


def catalog_check(repair: bool = False, *, catalog_url: str | None = None,
                  repo: PathLike | None = None) -> CatalogCheck:
    """Compare what the catalog keeps by triggers with the rows it is kept from: the newest-version
    mark of each dataset and model name (``catalog.heads``) and the placements' sums per tier,
    project and dataset (``catalog.lab_totals``). With ``repair``, rebuild what disagrees, in one
    transaction."""
    from labvault.catalog import heads, lab_totals

    cat = catalog_open(catalog_url, repo)
    with cat.read() as conn:
        marks, sums = heads.drift(conn), lab_totals.drift(conn)
    problems = tuple([f"newest-version marks: {line}" for line in marks]
                     + [f"sums per tier, project and dataset: {line}" for line in sums])
    if repair and problems:
        def rebuild(conn: Any) -> None:
            if marks:
                heads.rebuild(conn)
            if sums:
                lab_totals.rebuild(conn)

        cat.write(rebuild)
    return CatalogCheck(problems, repair and bool(problems))


def catalog_sync(
    catalog_url: str | None = None, repo: PathLike | None = None, quiet: bool = False,
    progress: Progress = NULL_PROGRESS,
) -> SyncResult:
    """Apply the repo's capture journal (events from add, commit, push, repro) to the catalog.

    Lines that cannot be applied are set aside (``.dvc/tmp/labvault/catalog-journal.rejected.jsonl``)
    with one warning through ``progress``. Outside a repo there is nothing to apply. With ``quiet``,
    a failure to reach the catalog is left for the command that follows to report."""
    from labvault.api.capture import flush
    from labvault.workspace.repo import open_repo

    try:
        r = open_repo(Path(repo) if repo is not None else None, progress)
    except LabvaultError:
        return SyncResult(0)
    try:
        return flush(r, catalog_url or catalog_url_for(r.root), progress)
    except LabvaultError:
        if quiet:
            return SyncResult(0)
        raise
