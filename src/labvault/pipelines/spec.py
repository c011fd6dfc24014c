"""Reading ``dvc.yaml`` files into stages. Errors name the file, the stage and the key."""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labvault.errors import PipelineError
from labvault.pipelines.params import DEFAULT_PARAMS
from labvault.pipelines.template import default_context, expand_stage, load_vars
from labvault.pipelines.yamlio import read_yaml
from labvault.workspace.index import find_control_files
from labvault.workspace.repo import Repo
from labvault.workspace.safepath import output_problem

PIPELINE_FILE = "dvc.yaml"
LOCK_FILE = "dvc.lock"
STAGE_KEYS = {
    "cmd", "wdir", "deps", "outs", "params", "metrics", "plots", "frozen", "always_changed", "desc", "meta", "vars",
}
OUT_FLAGS = {"cache", "persist", "push", "desc", "remote", "type", "labels", "meta", "checkpoint",
             "x", "y", "template", "title", "x_label", "y_label"}


@dataclass(frozen=True)
class StageOut:
    path: str  # as written, relative to wdir
    rel: str  # repo-relative, normalized
    cache: bool = True
    persist: bool = False
    push: bool = True
    kind: str = "out"  # out | metric | plot
    flags: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParamRef:
    file: str  # as written, relative to wdir
    rel: str  # repo-relative
    keys: tuple[str, ...]  # empty: the whole file


@dataclass(frozen=True)
class StageDep:
    path: str
    rel: str


@dataclass(frozen=True)
class Stage:
    name: str
    dvcfile: str  # repo-relative path of its dvc.yaml
    wdir: str  # repo-relative ("" for the root)
    cmd: str | tuple[str, ...]
    deps: tuple[StageDep, ...]
    params: tuple[ParamRef, ...]
    outs: tuple[StageOut, ...]
    frozen: bool = False
    always_changed: bool = False
    desc: str | None = None
    # (params file repo-relative, dotted key) of each value templating read from a file
    # (``vars`` files, params.yaml): DVC shows them in ``params diff``
    tracked_vars: tuple[tuple[str, str], ...] = ()

    @property
    def address(self) -> str:
        """``name`` for the root dvc.yaml, ``path/to/dvc.yaml:name`` for nested ones."""
        return self.name if self.dvcfile == PIPELINE_FILE else f"{self.dvcfile}:{self.name}"

    @property
    def lockfile(self) -> str:
        return posixpath.join(posixpath.dirname(self.dvcfile), LOCK_FILE)

    @property
    def commands(self) -> list[str]:
        return [self.cmd] if isinstance(self.cmd, str) else list(self.cmd)


def _join(base: str, path: str) -> str:
    joined = posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)
    return "" if joined == "." else joined


def _path_item(item: Any, where: str) -> tuple[str, dict[str, Any]]:
    if isinstance(item, str):
        return item, {}
    if isinstance(item, dict) and len(item) == 1:
        (path, flags), = item.items()
        if flags is None:
            flags = {}
        if not isinstance(path, str) or not isinstance(flags, dict):
            raise PipelineError(f"{where}: malformed entry {item!r}")
        unknown = set(flags) - OUT_FLAGS
        if unknown:
            raise PipelineError(f"{where}: unknown option {sorted(unknown)[0]!r} for {path!r}")
        return path, flags
    raise PipelineError(f"{where}: malformed entry {item!r}", "use a path, or `path: {options}`")


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PipelineError(f"{where} must be a list")
    return value


def _parse_stage(name: str, d: dict[str, Any], dvcfile: str, where: str,
                 tracked: dict[str, dict[str, Any]] | None = None) -> Stage:
    unknown = set(d) - STAGE_KEYS
    if unknown:
        raise PipelineError(f"{where}: unknown key {sorted(unknown)[0]!r}", f"stage keys are {', '.join(sorted(STAGE_KEYS))}")
    cmd = d.get("cmd")
    if isinstance(cmd, list):
        if not cmd or not all(isinstance(c, str) for c in cmd):
            raise PipelineError(f"{where}: `cmd` list must hold strings")
        cmd_v: str | tuple[str, ...] = tuple(cmd)
    elif isinstance(cmd, str) and cmd.strip():
        cmd_v = cmd
    else:
        raise PipelineError(f"{where}: missing or empty `cmd`", "give the command to run")
    base = posixpath.dirname(dvcfile)
    wdir_raw = d.get("wdir", ".")
    if not isinstance(wdir_raw, str):
        raise PipelineError(f"{where}: `wdir` must be a path")
    wdir = _join(base, wdir_raw)
    if wdir.startswith("../") or wdir == "..":
        raise PipelineError(f"{where}: `wdir` leaves the repository")
    deps = []
    for item in _list(d.get("deps"), f"{where}: `deps`"):
        if not isinstance(item, str):
            raise PipelineError(f"{where}: `deps` entries must be paths, not {item!r}")
        deps.append(StageDep(item, _join(wdir, item)))
    params: list[ParamRef] = []
    default_keys: list[str] = []
    for item in _list(d.get("params"), f"{where}: `params`"):
        if isinstance(item, str):
            default_keys.append(item)
        elif isinstance(item, dict):
            for file, keys in item.items():
                if keys is None or keys == []:
                    params.append(ParamRef(file, _join(wdir, file), ()))
                elif isinstance(keys, list) and all(isinstance(k, str) for k in keys):
                    params.append(ParamRef(file, _join(wdir, file), tuple(keys)))
                else:
                    raise PipelineError(f"{where}: `params` of {file!r} must be a list of keys")
        else:
            raise PipelineError(f"{where}: malformed `params` entry {item!r}")
    if default_keys:
        params.insert(0, ParamRef(DEFAULT_PARAMS, _join(wdir, DEFAULT_PARAMS), tuple(default_keys)))
    outs = []
    for kind, key in (("out", "outs"), ("metric", "metrics"), ("plot", "plots")):
        for item in _list(d.get(key), f"{where}: `{key}`"):
            path, flags = _path_item(item, f"{where}: `{key}`")
            outs.append(
                StageOut(
                    path, _join(wdir, path), cache=flags.get("cache", True) is not False,
                    persist=bool(flags.get("persist", False)), push=flags.get("push", True) is not False,
                    kind=kind, flags=flags,
                )
            )
    for o in outs:
        if not o.rel or o.rel.startswith("../"):
            raise PipelineError(f"{where}: output {o.path!r} leaves the repository")
        why = output_problem(o.rel)
        if why is not None:
            raise PipelineError(f"{where}: output {o.path!r} {why}", "outputs must be data files or folders")
    return Stage(
        name=name, dvcfile=dvcfile, wdir=wdir, cmd=cmd_v, deps=tuple(deps), params=tuple(params), outs=tuple(outs),
        frozen=bool(d.get("frozen", False)), always_changed=bool(d.get("always_changed", False)), desc=d.get("desc"),
        tracked_vars=tuple((_join(base, f), k) for f, keys in (tracked or {}).items() for k in keys),
    )


def load_pipeline_file(repo: Repo, path: Path) -> list[Stage]:
    return parse_pipeline(repo, path, read_yaml(path, repo.state))


def parse_pipeline(repo: Repo, path: Path, data: Any) -> list[Stage]:
    """The stages of ``data``, the parsed content of the dvc.yaml at ``path`` (which need not be
    written yet: ``stage add`` checks a new content before writing it)."""
    rel = path.relative_to(repo.root).as_posix()
    if data is None:
        return []
    if not isinstance(data, dict):
        raise PipelineError(f"{rel}: expected a mapping with `stages`")
    unknown = set(data) - {"stages", "vars", "params", "metrics", "plots", "artifacts", "datasets"}
    if unknown:
        raise PipelineError(f"{rel}: unknown top-level key {sorted(unknown)[0]!r}")
    stages_raw = data.get("stages") or {}
    if not isinstance(stages_raw, dict):
        raise PipelineError(f"{rel}: `stages` must be a mapping of stage names")
    base = path.parent
    ctx = load_vars(base, data.get("vars"), default_context(base), rel)
    stages = []
    for name, definition in stages_raw.items():
        # As dvc reads them, names may hold `/` (generated pipelines name stages by path) and `:`
        # (such a stage runs with the whole pipeline; a `FILE:NAME` address cannot name it, in
        # dvc either); `@` would clash with the items of foreach/matrix stages.
        if not isinstance(name, str) or not name or "@" in name:
            raise PipelineError(f"{rel}: bad stage name {name!r}", "a stage name may not be empty or hold '@'")
        for full, (resolved, tracked) in expand_stage(name, definition, ctx, rel, base).items():
            stages.append(_parse_stage(full, resolved, rel, f"{rel}: stage {full!r}", tracked))
    return stages


def load_stages(repo: Repo) -> list[Stage]:
    files = sorted(find_control_files(repo)[2], key=lambda p: (len(p.relative_to(repo.root).parts), str(p)))
    stages: list[Stage] = []
    for f in files:
        stages.extend(load_pipeline_file(repo, f))
    return stages


def repo_rel(repo: Repo, path: str) -> str:
    return os.path.relpath(os.path.abspath(path), repo.root).replace(os.sep, "/")
