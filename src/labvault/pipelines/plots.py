"""The data series of the plots a pipeline declares (``plots:`` of stages and of dvc.yaml).

A plot file is CSV, TSV, JSON (a list of records, or a mapping holding one) or YAML of the same
shape. As DVC does, ``x`` defaults to the row number (``step``) and ``y`` to the last field of
the first record; ``x`` and ``y`` (a field or a list of fields) may be set on the plot. A
top-level plot may also take ``y`` as ``{file: field or [fields]}``. Each file is read only up to
:data:`MAX_ROWS` records (and :data:`MAX_BYTES`); a path that leaves the repository, by ``..`` or
through a symlink, is refused, not read.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labvault.pipelines.spec import load_stages
from labvault.pipelines.yamlio import read_yaml
from labvault.workspace.index import find_control_files
from labvault.workspace.repo import Repo

MAX_ROWS = 100_000
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class PlotSeries:
    """One field of one file: (x, y) points, x a number or text."""

    file: str
    field: str
    points: tuple[tuple[float | str, float], ...]


@dataclass(frozen=True)
class PlotData:
    """One declared plot: its id (the file, or the top-level plot's name), axes and series."""

    id: str
    title: str
    x: str
    series: tuple[PlotSeries, ...]
    error: str | None = None


def _records(path: Path) -> list[dict[str, Any]]:
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES // 2**20} MiB")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        rows = csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ",")
        return [dict(r) for _, r in zip(range(MAX_ROWS), rows, strict=False)]
    data: Any = json.loads(text) if suffix == ".json" else read_yaml(path)
    if isinstance(data, dict):  # {"train": [...]}: the first list of records inside
        data = next((v for v in data.values() if isinstance(v, list)), [])
    if not isinstance(data, list):
        raise ValueError("expected a list of records")
    return [r for r in data[:MAX_ROWS] if isinstance(r, dict)]


def _number(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _series(rel: str, rows: list[dict[str, Any]], x: str | None, ys: list[str]) -> list[PlotSeries]:
    if not rows:
        return []
    fields = list(rows[0])
    ys = ys or [f for f in reversed(fields) if f != x][:1]
    out = []
    for y in ys:
        pts: list[tuple[float | str, float]] = []
        for i, row in enumerate(rows):
            yv = _number(row.get(y))
            if yv is None:
                continue
            xv: float | str = i if x is None else (_number(row.get(x)) if _number(row.get(x)) is not None
                                                   else str(row.get(x)))  # type: ignore[assignment]
            pts.append((xv, yv))
        out.append(PlotSeries(rel, y, tuple(pts)))
    return out


def _fields(v: Any) -> list[str]:
    return [v] if isinstance(v, str) else [f for f in v if isinstance(f, str)] if isinstance(v, list) else []


def _plot(r: Repo, pid: str, title: str, x: str | None, files: dict[str, list[str]]) -> PlotData:
    series: list[PlotSeries] = []
    for rel, ys in files.items():
        norm = posixpath.normpath(rel)
        path = r.root / norm
        if norm.startswith("../") or norm == ".." or posixpath.isabs(norm) or not path.resolve().is_relative_to(
                r.root.resolve()):
            return PlotData(pid, title, x or "step", (), f"{norm}: leaves the repository")
        try:
            series += _series(norm, _records(path), x, ys)
        except (OSError, ValueError, UnicodeDecodeError) as e:
            return PlotData(pid, title, x or "step", tuple(series), f"{norm}: {e}")
    return PlotData(pid, title, x or "step", tuple(series))


def show_plots(r: Repo) -> list[PlotData]:
    """Every plot the stages and the dvc.yaml files declare, read from the workspace."""
    out: list[PlotData] = []
    for stage in load_stages(r):
        for o in stage.outs:
            if o.kind == "plot":
                f = o.flags
                out.append(_plot(r, o.rel, str(f.get("title") or o.rel), f.get("x"), {o.rel: _fields(f.get("y"))}))
    for pipeline in sorted(find_control_files(r)[2]):
        base = pipeline.parent.relative_to(r.root).as_posix()
        for item in (read_yaml(pipeline) or {}).get("plots") or []:
            entries = item.items() if isinstance(item, dict) else [(item, None)]
            for pid, spec in entries:
                spec = spec if isinstance(spec, dict) else {}
                y = spec.get("y")
                files = ({posixpath.join(base, k): _fields(v) for k, v in y.items()} if isinstance(y, dict)
                         else {posixpath.join(base, str(pid)): _fields(y)})
                x = spec.get("x") if isinstance(spec.get("x"), str) else None
                out.append(_plot(r, str(pid), str(spec.get("title") or pid), x, files))
    return out
