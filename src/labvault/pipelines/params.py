"""Params files (YAML, JSON, TOML, Python) and dotted key look-ups, as DVC reads them."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from labvault.errors import PipelineError
from labvault.pipelines.yamlio import load_yaml

DEFAULT_PARAMS = "params.yaml"
_MISSING = object()


def load_params_text(text: str, suffix: str, where: str) -> Any:
    if suffix in (".yaml", ".yml"):
        return load_yaml(text, where) or {}
    if suffix == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise PipelineError(f"{where}: malformed JSON ({exc})", "fix the file") from None
    if suffix == ".toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PipelineError(f"{where}: malformed TOML ({exc})", "fix the file") from None
    if suffix == ".py":
        return _python_params(text, where)
    raise PipelineError(f"{where}: unsupported params file type", "use .yaml, .json, .toml or .py")


def _python_params(text: str, where: str) -> dict[str, Any]:
    """Top-level (and class-level) constant assignments of a Python file."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise PipelineError(f"{where}: not valid Python ({exc.msg}, line {exc.lineno})") from None
    out: dict[str, Any] = {}

    def assigns(body: list[ast.stmt], into: dict[str, Any]) -> None:
        for node in body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                try:
                    into[node.targets[0].id] = ast.literal_eval(node.value)
                except ValueError:
                    continue
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                try:
                    into[node.target.id] = ast.literal_eval(node.value)
                except ValueError:
                    continue
            elif isinstance(node, ast.ClassDef):
                sub: dict[str, Any] = {}
                assigns(node.body, sub)
                into[node.name] = sub

    assigns(tree.body, out)
    return out


def load_params_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise PipelineError(f"params file {path} is a folder", "name a file") from None
    return load_params_text(text, path.suffix.lower(), str(path))


def get_key(data: Any, key: str) -> Any:
    """``a.b.c`` in nested mappings (list items by index); ``_MISSING`` when absent."""
    cur = data
    for part in key.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return _MISSING
    return cur


def is_missing(value: Any) -> bool:
    return value is _MISSING


def is_glob_key(key: str) -> bool:
    """Whether a params key is a pattern (``dataset_kwargs.moons*``): DVC looks params keys up as
    globs, each dotted part matched with ``*``, ``?`` and ``[...]``, ``**`` for any depth."""
    return any(c in key for c in "*?[")


def glob_key_matches(data: Any, key: str) -> list[tuple[str, Any]]:
    """Every (dotted path, value) a glob key matches in nested mappings and lists (list items by
    index), in the file's order, each path once."""
    from fnmatch import fnmatchcase

    found: dict[str, Any] = {}

    def children(node: Any) -> list[tuple[str, Any]]:
        if isinstance(node, dict):
            return [(str(k), v) for k, v in node.items()]
        if isinstance(node, list):
            return [(str(i), v) for i, v in enumerate(node)]
        return []

    def walk(node: Any, parts: list[str], path: list[str]) -> None:
        if not parts:
            found.setdefault(".".join(path), node)
            return
        head, rest = parts[0], parts[1:]
        if head == "**":
            walk(node, rest, path)  # no part at all
            for name, child in children(node):
                walk(child, parts, [*path, name])
            return
        for name, child in children(node):
            if fnmatchcase(name, head):
                walk(child, rest, [*path, name])

    walk(data, key.split("."), [])
    return [(k, v) for k, v in found.items() if k]


def get_param(data: Any, key: str, where: str) -> Any:
    """A stage's param ``key``: the value at that dotted path, or for a glob key the one value it
    matches (``_MISSING`` when it matches none; several: an error naming ``where``)."""
    if not is_glob_key(key):
        return get_key(data, key)
    hits = glob_key_matches(data, key)
    if not hits:
        return _MISSING
    if len(hits) > 1:
        shown = ", ".join(k for k, _ in hits[:3]) + (", ..." if len(hits) > 3 else "")
        raise PipelineError(f"{where}: param key {key!r} matches {len(hits)} keys ({shown})",
                            "make the pattern match one key, or list the keys")
    return hits[0][1]
