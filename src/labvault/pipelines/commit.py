"""``commit`` for pipelines, as ``dvc commit``: record stages in dvc.lock as they are now,
without running them (``repro``'s runner reads, stores and records them)."""

from __future__ import annotations

import posixpath

from labvault.errors import PipelineError, UnknownStageError
from labvault.pipelines.executors import LocalExecutor
from labvault.pipelines.lock import make_entry
from labvault.pipelines.repro import ReproOptions, _Runner
from labvault.pipelines.status import Elsewhere
from labvault.pipelines.targets import load_graph, resolve_target
from labvault.workspace.add import Recorded
from labvault.workspace.repo import Repo


def commit_stages(repo: Repo, targets: list[str] | None = None,
                  elsewhere: Elsewhere | None = None) -> tuple[list[Recorded], list[str]]:
    """``commit`` for pipelines, as ``dvc commit``: each stage named (every stage when ``targets``
    is None) whose dvc.lock entry differs from its deps, params and outputs as they are now gets
    them recorded, and its cached outputs stored, without running. Returns the stages (action
    ``committed`` or ``unchanged``) and the targets that name no stage (for ``.dvc`` files). A
    missing dependency or output fails with one line before anything is written."""
    g = load_graph(repo)
    chosen: set[str] = set(g.stages) if targets is None else set()
    rest: list[str] = []
    for t in targets or []:
        try:
            chosen |= resolve_target(repo, g, t, False)
        except UnknownStageError:
            rest.append(t)
    order = g.order(chosen)
    runner = _Runner(repo, g, ReproOptions(), LocalExecutor(), elsewhere)
    recorded: list[Recorded] = []
    with repo.locked():
        todo = []
        for a in order:
            stage = g.stages[a]
            st = runner.status(stage)
            if not st.changed:
                continue
            for rel, path, what in [*((d.rel, d.path, "dependency") for d in stage.deps),
                                    *((o.rel, o.path, "output") for o in stage.outs)]:
                if runner.inputs.content(rel) is None:
                    raise PipelineError(f"{stage.dvcfile}: stage {a!r}: {what} {path} does not exist",
                                        f"run the stage (`labvault repro {a}`), or restore it")
            todo.append(stage)
        for stage in todo:
            deps = [(d.path, runner._content(d.rel, d.path, stage)) for d in stage.deps]
            params = runner.inputs.params(stage)
            runner.inputs.forget()
            outs, missing = runner._save_outs(stage)
            if missing is not None:  # removed since it was checked
                raise PipelineError(f"{stage.dvcfile}: stage {stage.address!r}: output {missing} does not exist",
                                    "run the command again")
            runner.record(stage, make_entry(stage.cmd, deps, params, outs))
            recorded += [Recorded(posixpath.normpath(posixpath.join(stage.wdir or "", path)), stage.lockfile,
                                  c.oid, c.size, c.nfiles, True, 0) for path, c in outs]
    runner.inputs.close()
    return recorded, rest
