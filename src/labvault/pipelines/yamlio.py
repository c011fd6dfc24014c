"""YAML as DVC reads and writes it: YAML 1.2 (so ``2e-5`` is a float), ruamel's layout on dump."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from labvault.errors import PipelineError


def load_yaml(text: str, where: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise PipelineError(f"{where}: {problem}{at}", "fix the YAML syntax") from None


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return load_yaml(text, str(path))


def dump_yaml(data: Any) -> str:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    buf = io.StringIO()
    yaml.dump(_plain(data), buf)
    return buf.getvalue()


def _plain(data: Any) -> Any:
    """ruamel's round-trip dumper wants plain dicts/lists in insertion order."""
    if isinstance(data, dict):
        from ruamel.yaml.comments import CommentedMap

        m = CommentedMap()
        for k, v in data.items():
            m[k] = _plain(v)
        return m
    if isinstance(data, (list, tuple)):
        from ruamel.yaml.comments import CommentedSeq

        return CommentedSeq([_plain(v) for v in data])
    return data
