"""YAML read and written as DVC does: YAML 1.2 on read (``load12``: ``2e-5`` is a float,
``yes``/``on`` are strings, ``09`` is nine), and on write ruamel's round-trip dumper with its defaults (block style,
2-space indent, sequences not indented under their key, unicode kept, lines folded at 80).

``dump_dvcfile`` is the fast way for ``.dvc`` files (PyYAML's C dumper is about ten times
faster than ruamel's). It gives ruamel's bytes unless (a) a line is longer than 80 characters
(ruamel folds it) or (b) a string reads as something else in one of the two YAML versions and
not in the other, so that one dumper quotes it and the other does not: ``09``, ``1e5``, ``0o17``
are numbers to YAML 1.2 (DVC's reader) but plain text to PyYAML's 1.1, and ``yes``, ``on``,
``1:20`` the other way round. Both resolvers are asked, string by string; in either case the
document goes through ruamel. ``tests/unit/test_yaml12.py`` checks the result against ruamel's
on generated documents."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from typing import Any

WIDTH = 80
_LOADER: type | None = None


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


def load12(text: str) -> Any:
    """``text`` parsed as DVC's ruamel reads it (YAML 1.2 core schema), through PyYAML's C
    loader; raises ``yaml.YAMLError`` on bad syntax."""
    import yaml

    global _LOADER
    if _LOADER is None:
        _LOADER = _yaml12_loader()
    return yaml.load(text, Loader=_LOADER)


def dump_yaml(data: Any) -> str:
    """``data`` in DVC's layout, through ruamel (folds long scalars as DVC does)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    buf = io.StringIO()
    yaml.dump(commented(data), buf)
    return buf.getvalue()


def commented(data: Any) -> Any:
    """ruamel's round-trip dumper wants plain dicts/lists in insertion order."""
    if isinstance(data, dict):
        from ruamel.yaml.comments import CommentedMap

        m = CommentedMap()
        for k, v in data.items():
            m[k] = commented(v)
        return m
    if isinstance(data, (list, tuple)):
        from ruamel.yaml.comments import CommentedSeq

        return CommentedSeq([commented(v) for v in data])
    return data


def dump_dvcfile(doc: dict[str, Any]) -> str:
    """A ``.dvc`` file's text, byte for byte as DVC writes it."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text: str = yaml.dump(doc, Dumper=dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                          width=1 << 30)
    if any(len(line) > WIDTH for line in text.splitlines()) or not all(map(_read_alike, _strings(doc))):
        return dump_yaml(doc)
    return text


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for k, v in data.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(data, (list, tuple)):
        for v in data:
            yield from _strings(v)


@functools.cache
def _resolvers() -> tuple[Any, Any, Any, Any]:
    import yaml
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import VersionedResolver

    return yaml.resolver.Resolver(), yaml.nodes.ScalarNode, VersionedResolver(), ScalarNode


_STR = "tag:yaml.org,2002:str"


@functools.lru_cache(maxsize=4096)
def _read_alike(text: str) -> bool:
    """Whether YAML 1.1 (PyYAML) and 1.2 (ruamel) agree on whether plain ``text`` is a string."""
    py, py_node, ru, ru_node = _resolvers()
    return bool((py.resolve(py_node, text, (True, False)) == _STR) == (ru.resolve(ru_node, text, (True, False)) == _STR))
