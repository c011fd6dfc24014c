"""Pipelines: reproduce stages, their status, the graph."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labvault.pipelines import repro as _repro
from labvault.pipelines.executors import DaskExecutor, Executor, LocalExecutor
from labvault.pipelines.status import StageStatus
from labvault.progress import NULL_PROGRESS, Progress
from labvault.workspace.repo import open_repo

PathLike = str | os.PathLike[str]
ReproOptions = _repro.ReproOptions
ReproResult = _repro.ReproResult
StageRun = _repro.StageRun


def repro(
    targets: list[str] | None = None,
    options: ReproOptions = _repro.ReproOptions(),  # noqa: B008 - frozen dataclass
    executor: str = "local",
    scheduler: str | None = None,
    dask_client: Any = None,
    repo: PathLike | None = None,
    progress: Progress = NULL_PROGRESS,
    on_event: Callable[[StageRun], None] | None = None,
) -> ReproResult:
    """Run the stages whose inputs changed (and, unless single_item, what they need), in order.

    ``executor="dask"`` runs commands on a Dask distributed cluster (``scheduler`` address, or an
    existing ``dask_client``); workers must see the repository at the same path.
    """
    r = open_repo(Path(repo) if repo is not None else None, progress)
    ex: Executor
    if executor == "dask":
        ex = DaskExecutor(scheduler, dask_client)
    elif executor == "local":
        ex = LocalExecutor()
    else:
        from labvault.errors import UsageError

        raise UsageError(f"unknown executor {executor!r}", "use local or dask")
    try:
        return _repro.repro(r, targets or None, options, ex, on_event)
    finally:
        ex.close()


def stage_status(targets: list[str] | None = None, repo: PathLike | None = None) -> list[StageStatus]:
    """Every stage (or the targets and what they need) with whether it changed, and why."""
    return _repro.pipeline_status(open_repo(Path(repo) if repo is not None else None), targets or None)
