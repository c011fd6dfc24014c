"""Pipelines: reproduce stages, their status, the graph, metrics and params across revisions."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labvault.errors import LabvaultError, PipelineError
from labvault.pipelines import repro as _repro
from labvault.pipelines.executors import DaskExecutor, Executor, LocalExecutor
from labvault.pipelines.status import StageStatus
from labvault.progress import NULL_PROGRESS, Progress
from labvault.workspace.add import Recorded
from labvault.workspace.repo import Repo, open_repo

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
    from labvault.api.spill_setup import lazy_held_elsewhere

    try:
        result = _repro.repro(r, targets or None, options, ex, on_event, lazy_held_elsewhere(r))
    finally:
        ex.close()
    _capture_runs(r, result)
    return result


def _capture_runs(r: Repo, result: ReproResult) -> None:
    # Nothing ran: the catalog (SQLAlchemy, Alembic: about 0.7 s of imports) is not even loaded.
    if not any(x.action in ("ran", "restored") for x in result.runs):
        return
    from labvault.api.capture import capture_runs

    capture_runs(r, result)


def commit_stages(targets: list[str] | None = None, repo: PathLike | None = None) -> tuple[list[Recorded], list[str]]:
    """Record in dvc.lock, without running, the deps, params and outputs of the stages named (every
    stage when ``targets`` is None) as they are now, storing their outputs in the cache, as ``dvc
    commit`` does; only stages whose record differs. Returns the outputs of the stages committed
    (their ``pointer``: the lock file) and the targets that name no stage (``api.commit`` takes
    those: ``.dvc`` files)."""
    from labvault.api.spill_setup import lazy_held_elsewhere
    from labvault.pipelines.commit import commit_stages as _commit_stages

    r = open_repo(Path(repo) if repo is not None else None)
    return _commit_stages(r, targets, lazy_held_elsewhere(r))


def stage_status(
    targets: list[str] | None = None, repo: PathLike | None = None, read_ahead: bool = False
) -> list[StageStatus]:
    """Every stage (or the targets and what they need) with whether it changed, and why.
    ``read_ahead=True``: see ``status``; off by default (no process is started)."""
    from labvault.api.spill_setup import lazy_held_elsewhere

    r = open_repo(Path(repo) if repo is not None else None)
    return _repro.pipeline_status(r, targets or None, read_ahead, lazy_held_elsewhere(r))


# --- metrics, params, the graph ------------------------------------------------------------------
DEFAULT_PRECISION = 5
if TYPE_CHECKING:
    from labvault.pipelines.dag import Graph
    from labvault.pipelines.metrics import Change, FileValues, RevisionValues
    from labvault.pipelines.render import DagView

_LAZY = {
    "Change": "labvault.pipelines.metrics", "FileValues": "labvault.pipelines.metrics",
    "RevisionValues": "labvault.pipelines.metrics", "DagView": "labvault.pipelines.render",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


def _error_json(f: FileValues) -> dict[str, Any]:
    return {"error": {"type": f.error_type or "Error", "msg": f.error or ""}}


@dataclass(frozen=True)
class MetricsReport:
    """``metrics show``: each revision's metrics files (the workspace first)."""

    revisions: tuple[RevisionValues, ...]
    across_revisions: bool  # branches, tags or commits were asked for

    @property
    def failed_revisions(self) -> list[str]:
        return [r.rev if self.across_revisions else "" for r in self.revisions if r.error or any(f.error for f in r.files)]

    def to_json(self) -> dict[str, Any]:
        """DVC's ``metrics show --json``: ``{rev: {"data": {path: {"data": {...}}}}}`` (rev ``""``
        for the workspace alone); an unreadable file or revision holds ``{"error": {type, msg}}``."""
        out: dict[str, Any] = {}
        for r in self.revisions:
            name = r.rev if self.across_revisions else ""
            if r.error is not None:
                out[name] = {"error": {"type": "PipelineError", "msg": r.error}}
                continue
            out[name] = {"data": {f.path: _error_json(f) if f.error else {"data": f.data} for f in r.files}}
        return out

    def table(self, precision: int | None = DEFAULT_PRECISION) -> tuple[list[str], list[list[str]]]:
        from labvault.pipelines import metrics as _metrics

        return _metrics.metrics_rows(list(self.revisions), self.across_revisions, precision)


@dataclass(frozen=True)
class ValuesDiff:
    """``metrics diff`` / ``params diff``: the keys that changed between two revisions."""

    kind: str  # metrics | params
    a_rev: str
    b_rev: str
    changes: tuple[Change, ...]
    failed_revisions: tuple[str, ...] = ()

    def to_json(self) -> dict[str, dict[str, dict[str, Any]]]:
        """DVC's ``--json``: ``{path: {key: {"old": .., "new": .., "diff": ..}}}``, ``diff`` only
        between two numbers."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for c in self.changes:
            entry: dict[str, Any] = {"old": c.old, "new": c.new}
            if c.diff is not None:
                entry["diff"] = c.diff
            out.setdefault(c.path, {})[c.key] = entry
        return out

    def table(self, precision: int | None = DEFAULT_PRECISION) -> tuple[list[str], list[list[str]]]:
        if self.kind == "params":
            from labvault.pipelines import metrics as _metrics

            return _metrics.diff_rows(list(self.changes), "Param", self.a_rev, self.b_rev, None, False)
        from labvault.pipelines import metrics as _metrics

        return _metrics.diff_rows(list(self.changes), "Metric", self.a_rev, self.b_rev, precision, True)


def _cwd_relative(r: Repo, rel: str) -> str:
    base = os.path.abspath(r.base)
    root = str(r.root)
    if base == root or not base.startswith(root + os.sep):
        return rel
    return os.path.relpath(os.path.join(root, rel), base).replace(os.sep, "/")


def _relocate(r: Repo, values: RevisionValues) -> RevisionValues:
    from labvault.pipelines.metrics import FileValues, RevisionValues

    files = tuple(FileValues(_cwd_relative(r, f.path), f.data, f.error, f.error_type) for f in values.files)
    return RevisionValues(values.rev, files, values.error)


def _targets(r: Repo, targets: list[str] | None) -> list[str] | None:
    return [r.rel(Path(t)) for t in targets] if targets else None


def metrics_show(
    targets: list[str] | None = None,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    repo: PathLike | None = None,
) -> MetricsReport:
    """The metrics files the stages (and top-level ``metrics:``) declare, or ``targets``, read in the
    workspace and, when asked, at every branch, tag or commit."""
    r = open_repo(Path(repo) if repo is not None else None)
    from labvault.pipelines import metrics as _metrics

    found = _metrics.show_metrics(r, _targets(r, targets), all_branches, all_tags, all_commits)
    return MetricsReport(tuple(_relocate(r, v) for v in found), all_branches or all_tags or all_commits)


def _values_diff(kind: str, a_rev: str, b_rev: str, targets: list[str] | None, all: bool,
                 repo: PathLike | None) -> ValuesDiff:
    r = open_repo(Path(repo) if repo is not None else None)
    from labvault.pipelines import metrics as _metrics

    a, b, changes = _metrics.diff_values(r, a_rev, b_rev, _targets(r, targets), all, kind)
    if kind == "params":
        _refuse_unreadable_params(a, b)
    failed = tuple(v.rev for v in (a, b) if v.error or any(f.error for f in v.files))
    from labvault.pipelines.metrics import Change

    moved = tuple(Change(_cwd_relative(r, c.path), c.key, c.old, c.new, c.diff) for c in changes)
    return ValuesDiff(kind, a_rev, b_rev, moved, failed)


def _refuse_unreadable_params(*sides: RevisionValues) -> None:
    """A params file that cannot be read makes the diff meaningless (every key would read as
    removed): one error naming the file, the revision and the problem (DVC only warns)."""
    for side in sides:
        where = "the workspace" if side.rev == "workspace" else f"revision {side.rev}"
        if side.error:
            raise PipelineError(f"cannot read the params in {where}: {side.error}")
        for f in side.files:
            if f.error:
                raise PipelineError(f"cannot read {f.path} in {where}: {f.error}")


def metrics_diff(
    a_rev: str = "HEAD",
    b_rev: str = "workspace",
    targets: list[str] | None = None,
    all: bool = False,
    repo: PathLike | None = None,
) -> ValuesDiff:
    """How each metric changed between two git revisions (``workspace``: the files on disk)."""
    return _values_diff("metrics", a_rev, b_rev, targets, all, repo)


def params_diff(
    a_rev: str = "HEAD",
    b_rev: str = "workspace",
    targets: list[str] | None = None,
    all: bool = False,
    repo: PathLike | None = None,
) -> ValuesDiff:
    """How each param the stages use (and every key of params.yaml) changed between two revisions."""
    return _values_diff("params", a_rev, b_rev, targets, all, repo)


def dag(target: str | None = None, outs: bool = False, repo: PathLike | None = None) -> DagView:
    """The stage graph (or, with ``outs``, the graph of outputs); with ``target``, only that stage
    and what it needs."""
    r = open_repo(Path(repo) if repo is not None else None)
    from labvault.pipelines.targets import load_graph

    g = load_graph(r)
    from labvault.pipelines import render as _render

    view = _render.outs_view(g) if outs else _render.stage_view(g)
    pointer = _pointer_target(r, g, target) if target and target not in g.stages else None
    if pointer is not None:  # a .dvc file, or a path it tracks: that node alone (it needs nothing)
        return _render.upstream_of(view, g.pointers[pointer] if outs else [pointer])
    if target:
        chosen = _repro.select_stages(r, g, [target], _repro.ReproOptions(single_item=True))
        wanted = [o.rel for a in chosen for o in g.stages[a].outs] if outs else chosen
        view = _render.upstream_of(view, wanted)
    return _seen_from_here(view, g, r, outs)


def _seen_from_here(view: DagView, g: Any, r: Repo, outs: bool) -> DagView:
    """The nodes named as dvc names them from the current folder when it is inside the repository
    below its root: a stage of this folder's dvc.yaml by its name, another as ``FILE:NAME`` with
    FILE relative to here, ``.dvc`` files and outputs by their paths relative to here."""
    from labvault.pipelines.render import DagView

    here = os.path.relpath(os.getcwd(), r.root).replace(os.sep, "/")
    if here == "." or here == ".." or here.startswith("../"):
        return view

    def name(node: str) -> str:
        stage = None if outs else g.stages.get(node)
        if stage is not None:
            file = os.path.relpath(stage.dvcfile, here).replace(os.sep, "/")
            return str(stage.name) if file == "dvc.yaml" else f"{file}:{stage.name}"
        return os.path.relpath(node, here).replace(os.sep, "/")

    return DagView(tuple(name(n) for n in view.nodes), tuple((name(u), name(d)) for u, d in view.edges))


def _pointer_target(r: Repo, g: Graph, target: str) -> str | None:
    """The ``.dvc`` file ``target`` names, or the one tracking it (or a folder holding it)."""
    try:
        rel = r.rel(Path(target))
    except LabvaultError:
        return None
    if rel in g.pointers:
        return rel
    for pointer, tracked in g.pointers.items():
        if any(rel == t or rel.startswith(t + "/") for t in tracked):
            return pointer
    return None
