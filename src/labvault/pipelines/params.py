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
