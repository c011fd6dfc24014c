"""The JSON form of what the api returns: one place for the command line's ``--json`` and the
dashboard's JSON API, so that both print the same shapes (docs/cli-contract.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = ["dag_json", "grants_json", "to_json"]


def to_json(value: Any) -> Any:
    """Dataclasses as dicts, tuples as lists, recursively; datetimes in ISO 8601; the rest as it is."""
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {k: to_json(v) for k, v in asdict(value).items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


class _Dag(Protocol):
    @property
    def nodes(self) -> Iterable[str]: ...
    @property
    def edges(self) -> Iterable[tuple[str, str]]: ...


def dag_json(view: _Dag) -> dict[str, Any]:
    """``labvault dag --json``: the nodes and the edges (``[from, to]``)."""
    return {"nodes": list(view.nodes), "edges": [list(e) for e in view.edges]}


def grants_json(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """``labvault access show --json``: one object per grant, its time in ISO 8601."""
    return [{**vars(g), "at": g.at.isoformat()} for g in rows]
