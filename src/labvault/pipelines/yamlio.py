"""YAML as DVC reads and writes it: YAML 1.2 (so ``2e-5`` is a float), ruamel's layout on dump."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from labvault.errors import PipelineError


def _yaml12_loader() -> type:
    """PyYAML's C loader with YAML 1.2 core-schema scalars (what DVC's ruamel reads):
    ``2e-5`` is a float, ``yes``/``on`` are strings, ``010`` is ten."""
    import re

    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc,valid-type]
        pass

    resolvers: dict[Any, list[tuple[str, Any]]] = {}
    for first, items in base.yaml_implicit_resolvers.items():
        kept = [(tag, rx) for tag, rx in items if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:float", "tag:yaml.org,2002:int")]
        if kept:
            resolvers[first] = kept
    Loader.yaml_implicit_resolvers = resolvers
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9][0-9_]*|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
    )
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
        list("-+0123456789."),
    )

    def construct_int(loader: Any, node: Any) -> int:
        value = loader.construct_scalar(node).replace("_", "")
        if value.startswith("0o"):
            return int(value[2:], 8)
        if value.startswith("0x"):
            return int(value, 16)
        return int(value)

    def construct_float(loader: Any, node: Any) -> float:
        value = loader.construct_scalar(node).lower()
        if value.endswith("inf"):
            return float("-inf") if value.startswith("-") else float("inf")
        if value.endswith("nan"):
            return float("nan")
        return float(value)

    Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    Loader.add_constructor("tag:yaml.org,2002:float", construct_float)
    return Loader


_LOADER: type | None = None


def load_yaml(text: str, where: str) -> Any:
    import yaml

    global _LOADER
    if _LOADER is None:
        _LOADER = _yaml12_loader()
    try:
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
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
