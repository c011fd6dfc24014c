"""YAML as DVC reads and writes it: YAML 1.2 (so ``2e-5`` is a float), ruamel's layout on dump."""

from __future__ import annotations

import io
import marshal
import os
import struct
import time
from pathlib import Path
from typing import Any

from labvault.errors import PipelineError
from labvault.workspace.state import RACY_NS, State


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


_STAMP = struct.Struct("<4sQQqq")  # parser version, inode, size, mtime_ns, ctime_ns
_PARSER = b"y12a"  # bump when load_yaml would read the same text differently


def read_yaml(path: Path, state: State | None = None) -> Any:
    """The YAML document at ``path``, or None if there is none.

    With ``state`` (the repo's stat cache) a parsed document is kept by the file's stat, the
    way file hashes are: an unchanged dvc.yaml or dvc.lock is not parsed again, and PyYAML is
    not even imported. Only plain data is kept (marshal), and never from a file modified within
    the last moments, whose stat could still change without its content showing it.
    """
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            stamp = _STAMP.pack(_PARSER, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            key = os.path.abspath(path)
            if state is not None:
                kept = state.get_parsed(key, stamp)
                if kept is not None:
                    try:
                        return marshal.loads(kept)
                    except (EOFError, ValueError, TypeError):
                        pass  # damaged: parse the file again
            raw = f.read()
    except FileNotFoundError:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PipelineError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})", "save it as UTF-8") from None
    data = load_yaml(text, str(path))
    if state is not None and st.st_mtime_ns < time.time_ns() - RACY_NS:
        try:
            state.put_parsed(key, stamp, marshal.dumps(data))
        except ValueError:
            pass  # not plain data (a date, say): parsed each time
    return data


def dump_yaml(data: Any) -> str:
    """``data`` as DVC writes dvc.lock: ruamel's round-trip dumper with its defaults (block style,
    2-space indent, sequences not indented under their key, unicode kept) and its default line
    width of 80, so a long plain or quoted scalar (a ``cmd``, a path) wraps where DVC's does."""
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


def load_for_update(text: str, where: str) -> Any:
    """``text`` parsed by ruamel's round-trip loader, as DVC reads a dvc.yaml it is about to change:
    the result keeps comments and key order, and ``dump_for_update`` writes it back."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML().load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise PipelineError(f"{where}: {problem}{at}", "fix the YAML syntax") from None


def dump_for_update(data: Any) -> str:
    """A document from ``load_for_update`` (changed or not) in DVC's layout (``dump_yaml``'s)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()
