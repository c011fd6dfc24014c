"""The JSON form of what the api returns: one place for the command line's ``--json`` and the
dashboard's JSON API, so that both print the same shapes (docs/cli-contract.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = ["apply_json", "dag_json", "grant_results_json", "grants_json", "to_json"]


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


def grant_results_json(results: Iterable[Any]) -> list[dict[str, Any]]:
    """``labvault access grant|revoke --json``: each path's permission before and after."""
    return [{**vars(r), "changed": r.changed} for r in results]


def apply_json(result: Any) -> dict[str, Any]:
    """``labvault lifecycle apply --json``: the plan carried out and what each move did."""
    report = result.report
    return {"plan": result.plan.to_json(), "outcomes": to_json(list(report.outcomes)),
            "recovered": list(report.recovered), "dry_run": report.dry_run, "moved_bytes": report.moved_bytes}
