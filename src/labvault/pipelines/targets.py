"""Which stages a command means: the pipeline graph of the workspace, and targets read as dvc
reads them (a stage of the current folder's ``dvc.yaml``, ``FILE:NAME``, a ``dvc.yaml``, a folder
with ``-R``, an output, a glob), with their upstream, downstream or whole pipeline added."""

from __future__ import annotations

import os
from fnmatch import fnmatchcase

from labvault.errors import UnknownStageError
from labvault.pipelines.dag import Graph, build_graph
from labvault.pipelines.spec import load_stages
from labvault.workspace.index import workspace_outputs
from labvault.workspace.repo import Repo


def load_graph(repo: Repo, strict: bool = True) -> Graph:
    tracked = [(t.rel, t.pointer_rel) for t in workspace_outputs(repo)]
    return build_graph(load_stages(repo), tracked, strict)


def select(repo: Repo, g: Graph, targets: list[str] | None, *, all_pipelines: bool = False, glob: bool = False,
           recursive: bool = False, pipeline: bool = False, downstream: bool = False,
           single_item: bool = False) -> list[str]:
    """The stages ``targets`` name (every stage without targets, or with ``all_pipelines``), plus
    their whole ``pipeline``, or what is ``downstream``, or (unless ``single_item``) what is
    upstream; in the order they run."""
    if not targets or all_pipelines:
        chosen = set(g.stages)
    else:
        chosen = set()
        for t in targets:
            chosen |= globbed(g, t) if glob and any(c in t for c in "*?[") else resolve_target(repo, g, t, recursive)
        if pipeline:
            for a in list(chosen):
                chosen |= g.component(a)
        elif downstream:
            for a in list(chosen):
                chosen |= g.descendants(a)
        elif not single_item:
            for a in list(chosen):
                chosen |= g.ancestors(a)
    return g.order(chosen)


def globbed(g: Graph, pattern: str) -> set[str]:
    """Stages whose address or name (``foreach`` items too: ``name@key``) matches ``pattern``."""
    hits = {a for a, s in g.stages.items() if fnmatchcase(a, pattern) or fnmatchcase(s.name, pattern)}
    if not hits:
        known = ", ".join(sorted(g.stages)[:10])
        raise UnknownStageError(f"no stage matches {pattern!r}", f"stages: {known}" if known else "dvc.yaml has no stages")
    return hits


def resolve_target(repo: Repo, g: Graph, target: str, recursive: bool) -> set[str]:
    # As dvc reads targets: a bare name is a stage (or a foreach/matrix group) of the current
    # folder's dvc.yaml; `FILE:NAME` one of FILE's, FILE relative to the current folder.
    here_file = os.path.relpath(os.path.abspath("dvc.yaml"), repo.root).replace(os.sep, "/")
    if here_file.startswith("../"):  # called from outside the repository (the API): its root
        here_file = "dvc.yaml"
    if ":" not in target:
        named = {a for a, s in g.stages.items()
                 if s.dvcfile == here_file and (s.name == target or s.name.split("@", 1)[0] == target)}
        if named:
            return named
    elif target in g.stages and here_file == "dvc.yaml":
        return {target}
    elif here_file == "dvc.yaml":
        group = {a for a in g.stages if a.split("@", 1)[0] == target}
        if group:
            return group
    file, _, name = target.rpartition(":")
    if file and name:
        rel = os.path.relpath(os.path.abspath(file), repo.root).replace(os.sep, "/")
        hits = {a for a, s in g.stages.items() if s.dvcfile == rel and (s.name == name or s.name.split("@")[0] == name)}
        if hits:
            return hits
    path = os.path.relpath(os.path.abspath(target), repo.root).replace(os.sep, "/")
    if path.endswith("dvc.yaml"):
        hits = {a for a, s in g.stages.items() if s.dvcfile == path}
        if hits or os.path.isfile(target):  # a dvc.yaml without stages has nothing to run
            return hits
    if recursive and os.path.isdir(target):
        prefix = "" if path == "." else path + "/"
        hits = {a for a, s in g.stages.items() if s.dvcfile.startswith(prefix)}
        if hits:
            return hits
    producers = g.producers_of(path)  # a folder holding several stages' outputs names them all
    if producers:
        return set(producers)
    known = ", ".join(sorted(g.stages)[:10])
    raise UnknownStageError(f"unknown stage or output {target!r}", f"stages: {known}" if known else "dvc.yaml has no stages")
