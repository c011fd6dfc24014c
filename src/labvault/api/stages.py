"""Pipeline stages by hand: add one to a dvc.yaml, list what the dvc.yaml and .dvc files define::

    from labvault import api

    api.stage_add("train", "python train.py", deps=["train.py", "data/prepared"],
                  params=["train.lr,train.epochs"], outs=["model.pkl"], metrics_no_cache=["metrics.json"],
                  repo="/data/project")
    for entry in api.stage_list(all=True, repo="/data/project"):
        print(entry.address, entry.description)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from labvault.errors import UnknownStageError, UsageError
from labvault.pipelines.freeze import FreezeChange, set_frozen
from labvault.pipelines.spec import PIPELINE_FILE, Stage, load_stages
from labvault.pipelines.stage_add import AddedStage, StageSpec, add_stage, join_command
from labvault.workspace.index import workspace_outputs
from labvault.workspace.repo import Repo, open_repo

PathLike = str | os.PathLike[str]
MAX_DESCRIPTION = 80  # characters of a description `stage list` prints, as dvc

__all__ = ["AddedStage", "FreezeChange", "StageEntry", "freeze", "stage_add", "stage_list", "unfreeze"]


def _folder(repo: Repo, cwd: PathLike | None) -> Path:
    """The folder whose dvc.yaml is meant: ``cwd``, else the current folder when it is inside
    the repository, else the repository's root."""
    if cwd is not None:
        return Path(os.path.abspath(cwd))
    here = Path(os.getcwd())
    return here if here == repo.root or repo.root in here.parents else repo.root


def stage_add(
    name: str,
    command: str | Sequence[str],
    *,
    deps: Sequence[str] = (),
    params: Sequence[str] = (),
    outs: Sequence[str] = (),
    outs_no_cache: Sequence[str] = (),
    outs_persist: Sequence[str] = (),
    outs_persist_no_cache: Sequence[str] = (),
    metrics: Sequence[str] = (),
    metrics_no_cache: Sequence[str] = (),
    plots: Sequence[str] = (),
    plots_no_cache: Sequence[str] = (),
    wdir: str | None = None,
    always_changed: bool = False,
    desc: str | None = None,
    force: bool = False,
    cwd: PathLike | None = None,
    repo: PathLike | None = None,
) -> AddedStage:
    """Add stage ``name`` to the dvc.yaml of ``cwd`` (see ``_folder``), as ``dvc stage add``:
    paths relative to ``wdir`` (itself relative to that folder), ``params`` as ``[FILE:]KEY,KEY``.
    ``command`` is one command line, or its words (joined as dvc joins them). Nothing runs: call
    ``repro`` for that. ``force`` replaces a stage of that name (its meta, and its outputs'
    annotations, are kept). Raises, changing nothing, on a bad name, an existing stage, or a
    pipeline that would not load with the stage in it."""
    r = open_repo(Path(repo) if repo is not None else None)
    cmd = command if isinstance(command, str) else join_command(list(command))
    spec = StageSpec(
        name, cmd, tuple(deps), tuple(params), tuple(outs), tuple(outs_no_cache), tuple(outs_persist),
        tuple(outs_persist_no_cache), tuple(metrics), tuple(metrics_no_cache), tuple(plots), tuple(plots_no_cache),
        wdir, always_changed, desc,
    )
    return add_stage(r, spec, _folder(r, cwd), force)


def freeze(targets: Sequence[str], cwd: PathLike | None = None, repo: PathLike | None = None) -> list[FreezeChange]:
    """Mark stages (a name in ``cwd``'s dvc.yaml, ``FILE:NAME``) or ``.dvc`` files frozen: ``repro``
    then neither runs them nor looks at their dependencies. All targets are checked first; an
    unknown one, or one item of a templated stage, changes nothing."""
    r = open_repo(Path(repo) if repo is not None else None)
    return set_frozen(r, list(targets), True, _folder(r, cwd))


def unfreeze(targets: Sequence[str], cwd: PathLike | None = None, repo: PathLike | None = None) -> list[FreezeChange]:
    """Undo ``freeze`` (remove ``frozen``), with the same targets and checks."""
    r = open_repo(Path(repo) if repo is not None else None)
    return set_frozen(r, list(targets), False, _folder(r, cwd))


@dataclass(frozen=True)
class StageEntry:
    """One stage as ``stage list`` shows it: its address (relative to the folder asked from) and
    its description (``desc``'s first line, or what it writes, reports or reads)."""

    address: str
    description: str


def _describe(outs: list[str], reports: list[str], deps: list[str], desc: str | None) -> str:
    if desc:
        text = desc.partition("\n")[0]
    elif not outs and not reports:
        text = f"Depends on {', '.join(deps)}" if deps else "No outputs or dependencies"
    else:
        parts = [f"Outputs {', '.join(outs)}"] if outs else []
        parts += [f"Reports {', '.join(reports)}"] if reports else []
        text = "; ".join(parts)
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def _stage_entry(s: Stage, here: str) -> tuple[str, StageEntry]:
    file = os.path.relpath(s.dvcfile, here or ".").replace(os.sep, "/")
    address = s.name if file == PIPELINE_FILE else f"{file}:{s.name}"
    outs = [o.path for o in s.outs if o.kind == "out"]
    reports = [o.path for o in s.outs if o.kind != "out"]
    reads = [d.path for d in s.deps] + [p.file for p in s.params]  # params files are dependencies too
    return s.dvcfile, StageEntry(address, _describe(outs, reports, reads, s.desc))


def stage_list(
    targets: Sequence[str] = (),
    all: bool = False,
    recursive: bool = False,
    cwd: PathLike | None = None,
    repo: PathLike | None = None,
) -> list[StageEntry]:
    """The stages of the dvc.yaml of ``cwd`` (see ``_folder``); of ``targets`` (a stage name, a
    ``dvc.yaml`` or ``.dvc`` file, ``FILE:NAME``, or with ``recursive`` a folder: every stage
    below it); or, with ``all``, every ``.dvc`` file and stage of the repository: a folder's files
    (by name) before those of its subfolders, each file's stages in their order. An unknown target raises ``UnknownStageError``."""
    r = open_repo(Path(repo) if repo is not None else None)
    base = _folder(r, cwd)
    here = base.relative_to(r.root).as_posix() if base != r.root else ""
    pointers: dict[str, list[str]] = {}
    for t in workspace_outputs(r):
        pointers.setdefault(t.pointer_rel, []).append(os.path.relpath(t.rel, os.path.dirname(t.pointer_rel) or "."))
    entries: list[tuple[str, StageEntry]] = [
        (p, StageEntry(os.path.relpath(p, here or ".").replace(os.sep, "/"), _describe(outs, [], [], None)))
        for p, outs in sorted(pointers.items())
    ]
    entries += [_stage_entry(s, here) for s in load_stages(r)]

    def place(file: str) -> tuple[int, str, str]:  # a folder's files before its subfolders', as dvc walks
        folder, _, name = file.rpartition("/")
        return file.count("/"), folder, name

    entries.sort(key=lambda fe: place(fe[0]))  # stable: a file's stages stay in their order
    if all:
        return [e for _, e in entries]
    default = f"{here}/{PIPELINE_FILE}" if here else PIPELINE_FILE
    if not targets:
        if not (r.root / default).is_file():
            raise UsageError(f"no {PIPELINE_FILE} in {base}", "name a target, or list every stage with --all")
        return [e for f, e in entries if f == default]
    chosen: list[StageEntry] = []
    for target in targets:
        found = _match(r, base, entries, target, default, recursive)
        if not found:
            raise UnknownStageError(f"no stage {target!r} in {default}",
                                    "name a stage, a dvc.yaml or .dvc file, or a folder with -R")
        chosen += [e for e in found if e not in chosen]
    return chosen


def _match(r: Repo, base: Path, entries: list[tuple[str, StageEntry]], target: str, default: str,
           recursive: bool) -> list[StageEntry]:
    """The entries ``target`` names (paths in it relative to ``base``)."""
    def rel(path: str) -> str:
        return os.path.relpath(os.path.join(base, path), r.root).replace(os.sep, "/")

    def named(e: StageEntry, name: str) -> bool:  # `train` names every item of a foreach `train`
        return _name(e) == name or _name(e).split("@")[0] == name

    file, _, name = target.rpartition(":")
    if file and name:
        return [e for p, e in entries if p == rel(file) and named(e, name)]
    path = rel(target)
    if (base / target).is_file():
        return [e for p, e in entries if p == path]
    if recursive and (base / target).is_dir():
        prefix = "" if path == "." else path + "/"
        return [e for p, e in entries if p.startswith(prefix)]
    return [e for p, e in entries if p == default and named(e, target)]


def _name(e: StageEntry) -> str:
    return e.address.rpartition(":")[2] if ":" in e.address else e.address
