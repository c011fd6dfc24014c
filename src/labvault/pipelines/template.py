"""``${...}`` interpolation, ``vars``, ``foreach``/``do`` and ``matrix``, with DVC's naming:
``group@key`` where key is the item for simple lists, the index for lists of mappings, the key for
mappings, and ``v1-v2`` (or ``name<i>`` for composite values) for matrix combinations."""

from __future__ import annotations

import re
import shlex
from itertools import product
from pathlib import Path
from typing import Any

from labvault.errors import PipelineError
from labvault.pipelines.params import DEFAULT_PARAMS, get_key, is_missing, load_params_file

KEYCRE = re.compile(r"(?<!\\)\$\{(?P<inner>.*?)\}")
JOIN = "@"


def to_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return _dict_to_args(value)
    return str(value)


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict):
            out.update(_flatten(v, key))
        else:
            out[key] = v
    return out


def _dict_to_args(d: dict[str, Any]) -> str:
    """A mapping in ``cmd`` becomes ``--key value`` arguments (DVC's dictionary unpacking)."""
    parts: list[str] = []
    for k, v in _flatten(d).items():
        if isinstance(v, bool):
            if v:
                parts.append(f"--{k}")
        elif isinstance(v, str):
            parts.append(f"--{k} {shlex.quote(v)}")
        elif isinstance(v, (list, tuple)):
            parts.append(f"--{k} " + " ".join(shlex.quote(to_str(i)) for i in v))
        elif v is None:
            continue
        else:
            parts.append(f"--{k} {v}")
    return " ".join(parts)


def _lookup(ctx: dict[str, Any], expr: str, where: str) -> Any:
    key = expr.strip().replace("[", ".").replace("]", "")
    value = get_key(ctx, key)
    if is_missing(value):
        raise PipelineError(f"{where}: ${{{expr}}} is not defined", "define it in params.yaml or `vars`")
    return value


def interpolate(value: Any, ctx: dict[str, Any], where: str, key: str | None = None) -> Any:
    if isinstance(value, str):
        matches = list(KEYCRE.finditer(value))
        if not matches:
            return value.replace("\\${", "${")
        if len(matches) == 1 and matches[0].span() == (0, len(value)):
            got = _lookup(ctx, matches[0].group("inner"), where)
            if isinstance(got, (dict, list)) and key != "cmd" and not (key or "").startswith("foreach"):
                raise PipelineError(f"{where}: cannot interpolate a {type(got).__name__} into {key or 'a value'}")
            return to_str(got) if isinstance(got, dict) and key == "cmd" else got
        out = []
        pos = 0
        for m in matches:
            out.append(value[pos : m.start()])
            got = _lookup(ctx, m.group("inner"), where)
            if isinstance(got, (list,)) or (isinstance(got, dict) and key != "cmd"):
                raise PipelineError(f"{where}: cannot interpolate a {type(got).__name__} into a string")
            out.append(to_str(got))
            pos = m.end()
        out.append(value[pos:])
        return "".join(out).replace("\\${", "${")
    if isinstance(value, dict):
        return {k: interpolate(v, ctx, f"{where}.{k}", k if key is None else key) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, ctx, where, key) for v in value]
    return value


def _merge(merged: dict[str, Any], new: dict[str, Any], source: str, sources: dict[str, str], where: str) -> None:
    for key, value in new.items():
        if key in merged:
            raise PipelineError(
                f"{where}: cannot redefine {key!r} from {source} as it already exists in {sources.get(key, 'params.yaml')}",
                "give the variable another name",
            )
        merged[key] = value
        sources[key] = source


def load_vars(base: Path, entries: Any, ctx: dict[str, Any], where: str) -> dict[str, Any]:
    """Merge ``vars`` entries (file names, ``file:key1,key2``, or mappings) into ``ctx``; a key
    defined twice is an error, as in DVC."""
    if entries is None:
        return ctx
    if not isinstance(entries, list):
        raise PipelineError(f"{where}: `vars` must be a list")
    merged = dict(ctx)
    sources: dict[str, str] = {}
    for i, entry in enumerate(entries):
        if isinstance(entry, dict):
            _merge(merged, entry, f"'vars[{i}]'", sources, where)
            continue
        if not isinstance(entry, str):
            raise PipelineError(f"{where}: bad `vars` entry {entry!r}")
        name, _, keys = entry.partition(":")
        data = load_params_file(base / name)
        if data is None:
            raise PipelineError(f"{where}: vars file {name} does not exist", "create it or remove it from `vars`")
        if keys:
            picked: dict[str, Any] = {}
            for k in keys.split(","):
                got = get_key(data, k.strip())
                if is_missing(got):
                    raise PipelineError(f"{where}: key {k.strip()!r} not found in {name}")
                picked[k.strip().split(".")[-1]] = got
            _merge(merged, picked, f"'{name}'", sources, where)
        elif isinstance(data, dict):
            _merge(merged, data, f"'{name}'", sources, where)
    return merged


def default_context(base: Path) -> dict[str, Any]:
    data = load_params_file(base / DEFAULT_PARAMS)
    return dict(data) if isinstance(data, dict) else {}


def _normalized_foreach(iterable: Any, where: str) -> list[tuple[str, Any, bool]]:
    """(key, item, key_available) in DVC's naming."""
    if isinstance(iterable, dict):
        return [(to_str(k), v, True) for k, v in iterable.items()]
    if isinstance(iterable, list):
        if any(isinstance(v, (dict, list)) for v in iterable):
            return [(str(i), v, False) for i, v in enumerate(iterable)]
        return [(to_str(v), v, False) for v in iterable]
    raise PipelineError(f"{where}: `foreach` needs a list or a mapping, not {type(iterable).__name__}")


def expand_stage(
    name: str, definition: Any, ctx: dict[str, Any], where: str, base: Path | None = None
) -> dict[str, dict[str, Any]]:
    """One dvc.yaml entry -> {stage name: resolved definition}."""
    if not isinstance(definition, dict):
        raise PipelineError(f"{where}: stage {name!r} must be a mapping")
    if "foreach" in definition:
        if "do" not in definition:
            raise PipelineError(f"{where}: stage {name!r} has `foreach` without `do`")
        iterable = interpolate(definition["foreach"], ctx, f"{where}: stage {name!r} foreach", "foreach")
        out: dict[str, dict[str, Any]] = {}
        for key, item, with_key in _normalized_foreach(iterable, f"{where}: stage {name!r}"):
            local = dict(ctx)
            local["item"] = item
            if with_key:
                local["key"] = key
            out[f"{name}{JOIN}{key}"] = interpolate(definition["do"], local, f"{where}: stage '{name}{JOIN}{key}'")
        return out
    if "matrix" in definition:
        matrix = interpolate(definition["matrix"], ctx, f"{where}: stage {name!r} matrix", "foreach")
        if not isinstance(matrix, dict) or not all(isinstance(v, list) for v in matrix.values()):
            raise PipelineError(f"{where}: stage {name!r}: `matrix` must map names to lists")
        body = {k: v for k, v in definition.items() if k != "matrix"}
        out = {}
        keys = list(matrix)
        for combo in product(*(list(enumerate(matrix[k])) for k in keys)):
            item = {k: v for k, (_, v) in zip(keys, combo, strict=True)}
            frags = [f"{k}{i}" if isinstance(v, (dict, list)) else to_str(v) for k, (i, v) in zip(keys, combo, strict=True)]
            key = "-".join(frags)
            local = dict(ctx)
            local["item"] = item
            local["key"] = key
            out[f"{name}{JOIN}{key}"] = interpolate(body, local, f"{where}: stage '{name}{JOIN}{key}'")
        return out
    local = ctx
    if "vars" in definition:
        local = load_vars(base or Path(where).parent, definition["vars"], ctx, f"{where}: stage {name!r}")
        definition = {k: v for k, v in definition.items() if k != "vars"}
    return {name: interpolate(definition, local, f"{where}: stage {name!r}")}
