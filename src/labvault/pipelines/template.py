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


class Context(dict[str, Any]):
    """Template variables, knowing where values came from, as DVC tracks them for ``params diff``.

    ``origins`` maps a dotted name (``grid``, ``item``, ``item.model``) to the file it was read from
    (relative to the dvc.yaml's folder) and the dotted path of that value in the file; ``tracked``
    collects, per file, the path of every scalar an interpolation read (file -> {path: value}).
    Inline ``vars`` mappings have no origin and are not tracked.
    """

    def __init__(self, data: dict[str, Any] | None = None, origins: dict[str, tuple[str, str]] | None = None) -> None:
        super().__init__(data or {})
        self.origins: dict[str, tuple[str, str]] = dict(origins or {})
        self.tracked: dict[str, dict[str, Any]] = {}

    def derive(self) -> Context:
        """A copy to add local names to, with nothing tracked yet."""
        return Context(self, self.origins)

    def origin_of(self, dotted: str) -> tuple[str, str] | None:
        parts = dotted.split(".")
        for n in range(len(parts), 0, -1):
            origin = self.origins.get(".".join(parts[:n]))
            if origin is not None:
                return origin[0], ".".join([origin[1], *parts[n:]])
        return None

    def track(self, dotted: str, value: Any) -> None:
        if isinstance(value, (dict, list)):
            return  # DVC tracks the scalars read, not the containers holding them
        origin = self.origin_of(dotted)
        if origin is not None:
            self.tracked.setdefault(origin[0], {})[origin[1]] = value


def _dotted(expr: str) -> str:
    return expr.strip().replace("[", ".").replace("]", "")


def _lookup(ctx: dict[str, Any], expr: str, where: str) -> Any:
    key = _dotted(expr)
    value = get_key(ctx, key)
    if is_missing(value):
        raise PipelineError(f"{where}: ${{{expr}}} is not defined", "define it in params.yaml or `vars`")
    if isinstance(ctx, Context):
        ctx.track(key, value)
    return value


def _origin_of_ref(ctx: Context, raw: Any) -> tuple[str, str] | None:
    """Where the value of ``raw`` came from when it is exactly one ``${name}``."""
    if isinstance(raw, str):
        m = KEYCRE.fullmatch(raw.strip())
        if m:
            return ctx.origin_of(_dotted(m.group("inner")))
    return None


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
        # Keys are interpolated too, as DVC does: an output written as a mapping key with options
        # (``- data/${item}/pred.json: {cache: false}``) names a path to resolve.
        return {
            _interpolate_key(k, ctx, where): interpolate(v, ctx, f"{where}.{k}", k if key is None else key)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [interpolate(v, ctx, where, key) for v in value]
    return value


def _interpolate_key(k: Any, ctx: dict[str, Any], where: str) -> Any:
    if not isinstance(k, str) or not KEYCRE.search(k):
        return k
    got = interpolate(k, ctx, f"{where}.{k}", "key")
    if isinstance(got, (dict, list)):
        raise PipelineError(f"{where}: cannot use a {type(got).__name__} as the key {k!r}")
    return to_str(got)


def _merge(merged: Context, new: dict[str, Any], source: str, sources: dict[str, str], where: str,
           file: str | None = None, paths: dict[str, str] | None = None) -> None:
    for key, value in new.items():
        if key in merged:
            raise PipelineError(
                f"{where}: cannot redefine {key!r} from {source} as it already exists in {sources.get(key, 'params.yaml')}",
                "give the variable another name",
            )
        merged[key] = value
        sources[key] = source
        if file is not None:
            merged.origins[key] = (file, (paths or {}).get(key, key))


def load_vars(base: Path, entries: Any, ctx: Context, where: str) -> Context:
    """Merge ``vars`` entries (file names, ``file:key1,key2``, or mappings) into ``ctx``; a key
    defined twice is an error, as in DVC."""
    if entries is None:
        return ctx
    if not isinstance(entries, list):
        raise PipelineError(f"{where}: `vars` must be a list")
    merged = ctx.derive()
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
            paths: dict[str, str] = {}
            for k in keys.split(","):
                got = get_key(data, k.strip())
                if is_missing(got):
                    raise PipelineError(f"{where}: key {k.strip()!r} not found in {name}")
                picked[k.strip().split(".")[-1]] = got
                paths[k.strip().split(".")[-1]] = k.strip()
            _merge(merged, picked, f"'{name}'", sources, where, name, paths)
        elif isinstance(data, dict):
            _merge(merged, data, f"'{name}'", sources, where, name)
    return merged


def default_context(base: Path) -> Context:
    data = load_params_file(base / DEFAULT_PARAMS)
    if not isinstance(data, dict):
        return Context()
    return Context(data, {k: (DEFAULT_PARAMS, str(k)) for k in data})


def _normalized_foreach(iterable: Any, where: str) -> list[tuple[str, Any, bool, str]]:
    """(key, item, key_available, the item's place in the iterable) in DVC's naming."""
    if isinstance(iterable, dict):
        return [(to_str(k), v, True, str(k)) for k, v in iterable.items()]
    if isinstance(iterable, list):
        if any(isinstance(v, (dict, list)) for v in iterable):
            return [(str(i), v, False, str(i)) for i, v in enumerate(iterable)]
        return [(to_str(v), v, False, str(i)) for i, v in enumerate(iterable)]
    raise PipelineError(f"{where}: `foreach` needs a list or a mapping, not {type(iterable).__name__}")


Expanded = dict[str, tuple[dict[str, Any], dict[str, dict[str, Any]]]]


def expand_stage(name: str, definition: Any, ctx: Context, where: str, base: Path | None = None) -> Expanded:
    """One dvc.yaml entry -> {stage name: (resolved definition, the vars it read: file -> {path: value})}."""
    if not isinstance(definition, dict):
        raise PipelineError(f"{where}: stage {name!r} must be a mapping")
    if "foreach" in definition:
        if "do" not in definition:
            raise PipelineError(f"{where}: stage {name!r} has `foreach` without `do`")
        iterable = interpolate(definition["foreach"], ctx, f"{where}: stage {name!r} foreach", "foreach")
        origin = _origin_of_ref(ctx, definition["foreach"])
        out: Expanded = {}
        for key, item, with_key, place in _normalized_foreach(iterable, f"{where}: stage {name!r}"):
            local = ctx.derive()
            local["item"] = item
            if origin is not None:
                local.origins["item"] = (origin[0], f"{origin[1]}.{place}")
            if with_key:
                local["key"] = key
            resolved = interpolate(definition["do"], local, f"{where}: stage '{name}{JOIN}{key}'")
            out[f"{name}{JOIN}{key}"] = (resolved, local.tracked)
        return out
    if "matrix" in definition:
        raw = definition["matrix"]
        if isinstance(raw, dict):
            for k, v in raw.items():
                if not isinstance(v, (list, str)):
                    raise PipelineError(
                        f"{where}: stage {name!r}: `matrix` entry {k!r} must be a list or a ${{variable}}",
                        "write the values as a list, or name a variable that holds a list or a mapping",
                    )
        matrix = interpolate(raw, ctx, f"{where}: stage {name!r} matrix", "foreach")
        # a list read from a file: each value's origin is its place in that list (for params diff)
        origins = {
            k: _origin_of_ref(ctx, raw[k]) if isinstance(raw, dict) and isinstance(v, list) else None
            for k, v in (matrix.items() if isinstance(matrix, dict) else [])
        }
        if isinstance(matrix, dict):  # a variable holding a mapping runs over its keys, as in DVC
            matrix = {k: list(v) if isinstance(v, dict) else v for k, v in matrix.items()}
        if not isinstance(matrix, dict) or not all(isinstance(v, list) for v in matrix.values()):
            raise PipelineError(f"{where}: stage {name!r}: `matrix` must map names to lists")
        body = {k: v for k, v in definition.items() if k != "matrix"}
        out = {}
        keys = list(matrix)
        for combo in product(*(list(enumerate(matrix[k])) for k in keys)):
            item = {k: v for k, (_, v) in zip(keys, combo, strict=True)}
            frags = [f"{k}{i}" if isinstance(v, (dict, list)) else to_str(v) for k, (i, v) in zip(keys, combo, strict=True)]
            key = "-".join(frags)
            local = ctx.derive()
            local["item"] = item
            local["key"] = key
            for k, (i, _) in zip(keys, combo, strict=True):
                got = origins[k]
                if got is not None:
                    local.origins[f"item.{k}"] = (got[0], f"{got[1]}.{i}")
            resolved = interpolate(body, local, f"{where}: stage '{name}{JOIN}{key}'")
            out[f"{name}{JOIN}{key}"] = (resolved, local.tracked)
        return out
    local = ctx.derive()
    if "vars" in definition:
        local = load_vars(base or Path(where).parent, definition["vars"], local, f"{where}: stage {name!r}")
        definition = {k: v for k, v in definition.items() if k != "vars"}
    resolved = interpolate(definition, local, f"{where}: stage {name!r}")
    return {name: (resolved, local.tracked)}
