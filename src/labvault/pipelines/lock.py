"""``dvc.lock`` (schema 2.0), read and written exactly as DVC does.

Each stage entry holds, in this order: ``cmd``; ``deps`` sorted by path; ``params`` by file
(``params.yaml`` first, then the others alphabetically; keys sorted); ``outs`` sorted by path
(metrics and plots included). Each dep and out is ``path, hash: md5, md5, size[, nfiles][, isexec]``.
Entries of other stages, and their order, are kept as they were.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labvault.core.yaml12 import dump_yaml
from labvault.errors import PipelineError
from labvault.fsutil import atomic_write_text
from labvault.pipelines.params import DEFAULT_PARAMS
from labvault.pipelines.yamlio import read_yaml
from labvault.workspace.scan import Content
from labvault.workspace.state import State

SCHEMA = "2.0"


def content_dict(path: str, content: Content) -> dict[str, Any]:
    d: dict[str, Any] = {"path": path, "hash": "md5", "md5": content.oid, "size": content.size}
    if content.nfiles is not None:
        d["nfiles"] = content.nfiles
    if content.isexec:
        d["isexec"] = True
    return d


def params_dict(values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    files = sorted(values, key=lambda f: (f != DEFAULT_PARAMS, f))
    return {f: {k: values[f][k] for k in sorted(values[f])} for f in files}


def make_entry(
    cmd: str | tuple[str, ...],
    deps: list[tuple[str, Content]],
    params: dict[str, dict[str, Any]],
    outs: list[tuple[str, Content]],
) -> dict[str, Any]:
    entry: dict[str, Any] = {"cmd": cmd if isinstance(cmd, str) else list(cmd)}
    if deps:
        entry["deps"] = [content_dict(p, c) for p, c in sorted(deps, key=lambda x: x[0])]
    if params:
        entry["params"] = params_dict(params)
    if outs:
        entry["outs"] = [content_dict(p, c) for p, c in sorted(outs, key=lambda x: x[0])]
    return entry


class LockFile:
    def __init__(self, path: Path, state: State | None = None) -> None:
        """``state``: the repo's stat cache, to skip parsing an unchanged lock file (see ``read_yaml``)."""
        self.path = path
        data = read_yaml(path, state)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise PipelineError(f"{path}: not a lock file", "delete it; `labvault repro` writes a new one")
        if "schema" in data:
            if str(data["schema"]) != SCHEMA:
                raise PipelineError(f"{path}: unsupported lock schema {data['schema']!r}")
            stages = data.get("stages") or {}
        else:
            stages = data  # the 1.0 layout: stages at the top level
        if not isinstance(stages, dict):
            raise PipelineError(f"{path}: `stages` must be a mapping")
        self.stages: dict[str, Any] = dict(stages)

    def get(self, name: str) -> dict[str, Any] | None:
        entry = self.stages.get(name)
        return entry if isinstance(entry, dict) else None

    def set(self, name: str, entry: dict[str, Any]) -> None:
        self.stages[name] = entry

    def remove(self, name: str) -> None:
        self.stages.pop(name, None)

    def save(self) -> None:
        atomic_write_text(self.path, dump_yaml({"schema": SCHEMA, "stages": self.stages}))
