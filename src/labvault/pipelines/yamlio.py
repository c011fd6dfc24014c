"""YAML as DVC reads and writes it: YAML 1.2 (so ``2e-5`` is a float), ruamel's layout on dump."""

from __future__ import annotations

import io
import marshal
import os
import struct
import time
from pathlib import Path
from typing import Any

from labvault.core.yaml12 import load12
from labvault.errors import PipelineError
from labvault.workspace.state import RACY_NS, State


def load_yaml(text: str, where: str) -> Any:
    import yaml

    try:
        return load12(text)
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
