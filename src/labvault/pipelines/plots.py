"""The data series of the plots a pipeline declares (``plots:`` of stages and of dvc.yaml).

A plot file is CSV, TSV, JSON (a list of records, or a mapping holding one) or YAML of the same
shape, or an image (``.png``, ``.jpg``/``.jpeg``, ``.gif``, ``.svg``, told by its name as DVC does, in
either case where DVC 3.67 knows only lower case),
which is shown as it is. A plot path naming a folder stands for every file inside it, one plot each,
with the folder's options. As DVC does, ``x`` defaults to the row number (``step``) and ``y`` to the last field of
the first record; ``x`` and ``y`` (a field or a list of fields) may be set on the plot. A
top-level plot may also take ``y`` as ``{file: field or [fields]}``. Each file is read only up to
:data:`MAX_ROWS` records (and :data:`MAX_BYTES`); a path that leaves the repository, by ``..`` or
through a symlink, is refused, not read. The plots of a git revision are read as they were then
(``pipelines.revision.Snapshot``: files from git, outputs from the cache through its dvc.lock).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import posixpath
from dataclasses import dataclass, field
from typing import Any

from labvault.errors import LabvaultError
from labvault.pipelines.revision import Snapshot
from labvault.pipelines.yamlio import load_yaml
from labvault.workspace.repo import Repo

MAX_ROWS = 100_000
MAX_BYTES = 64 * 1024 * 1024
MAX_IMAGE_BYTES = 16 * 1024 * 1024
MAX_FOLDER_FILES = 1_000  # plots drawn from one folder; the rest are named in an error
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class PlotSeries:
    """One field of one file: (x, y) points, x a number or text."""

    file: str
    field: str
    points: tuple[tuple[float | str, float], ...]


@dataclass(frozen=True)
class PlotData:
    """One declared plot: its id (the file, or the top-level plot's name), axes and series; or,
    for an image (``kind`` "image"), its media type and bytes in base64 (``image``)."""

    id: str
    title: str
    x: str
    series: tuple[PlotSeries, ...]
    error: str | None = None
    kind: str = "data"
    mime: str | None = None
    image: str | None = field(default=None, repr=False)


def _records(data: bytes, rel: str) -> list[dict[str, Any]]:
    text = data.decode("utf-8")
    suffix = posixpath.splitext(rel)[1].lower()
    if suffix in (".csv", ".tsv"):
        rows = csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ",")
        return [dict(r) for _, r in zip(range(MAX_ROWS), rows, strict=False)]
    parsed: Any = json.loads(text) if suffix == ".json" else load_yaml(text, rel)
    if isinstance(parsed, dict):  # {"train": [...]}: the first list of records inside
        parsed = next((v for v in parsed.values() if isinstance(v, list)), [])
    if not isinstance(parsed, list):
        raise ValueError("expected a list of records")
    return [r for r in parsed[:MAX_ROWS] if isinstance(r, dict)]


def _read(snap: Snapshot, rel: str, limit: int = MAX_BYTES) -> bytes:
    """The file's bytes at the snapshot's revision (the workspace, git, or the cache through
    dvc.lock); raises ValueError for a file that is missing or larger than ``limit``."""
    if snap.rev is None:
        try:
            size = snap.repo.abspath(rel).stat().st_size
        except OSError:
            size = 0
        if size > limit:
            raise ValueError(f"larger than {limit // 2**20} MiB")
    data = snap.read(rel)
    if data is None:
        raise ValueError(f"does not exist at {snap.name}")
    if len(data) > limit:
        raise ValueError(f"larger than {limit // 2**20} MiB")
    return data


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


def _plot(snap: Snapshot, pid: str, title: str, x: str | None, files: dict[str, list[str]]) -> PlotData:
    series: list[PlotSeries] = []
    for rel, ys in files.items():
        norm = posixpath.normpath(rel)
        if snap.leaves_repo(norm):
            return PlotData(pid, title, x or "step", (), f"{norm}: leaves the repository")
        try:
            series += _series(norm, _records(_read(snap, norm), norm), x, ys)
        except (ValueError, UnicodeDecodeError, LabvaultError) as e:
            reason = e.message if isinstance(e, LabvaultError) else str(e)
            return PlotData(pid, title, x or "step", tuple(series), f"{norm}: {reason}")
    return PlotData(pid, title, x or "step", tuple(series))


def _image(snap: Snapshot, pid: str, title: str, rel: str) -> PlotData:
    mime = IMAGE_TYPES[posixpath.splitext(rel)[1].lower()]
    norm = posixpath.normpath(rel)
    if snap.leaves_repo(norm):
        return PlotData(pid, title, "", (), f"{norm}: leaves the repository", "image", mime)
    try:
        data = _read(snap, norm, MAX_IMAGE_BYTES)
    except (ValueError, LabvaultError) as e:
        reason = e.message if isinstance(e, LabvaultError) else str(e)
        return PlotData(pid, title, "", (), f"{norm}: {reason}", "image", mime)
    return PlotData(pid, title, "", (), None, "image", mime, base64.b64encode(data).decode("ascii"))


def _is_image(rel: str) -> bool:
    return posixpath.splitext(rel)[1].lower() in IMAGE_TYPES


def _each_file(snap: Snapshot, rel: str, pid: str, title: str | None, x: str | None, ys: list[str]) -> list[PlotData]:
    """The plots of one path: the file itself, or every file of a folder (each its own plot, named
    by its path, with the folder's options)."""
    rel = posixpath.normpath(rel)
    files = snap.expand(rel)
    if files == [rel]:
        if _is_image(rel):
            return [_image(snap, pid, title or pid, rel)]
        return [_plot(snap, pid, title or pid, x, {rel: ys})]
    out = []
    for f in files[:MAX_FOLDER_FILES]:
        out.append(_image(snap, f, title or f, f) if _is_image(f) else _plot(snap, f, title or f, x, {f: ys}))
    if len(files) > MAX_FOLDER_FILES:
        out.append(PlotData(rel, title or rel, x or "step", (),
                            f"{rel}: {len(files) - MAX_FOLDER_FILES} more files not drawn "
                            f"(at most {MAX_FOLDER_FILES} plots from one folder)"))
    return out


def show_plots(r: Repo, rev: str | None = None) -> list[PlotData]:
    """Every plot the stages and the dvc.yaml files declare, read from the workspace (``rev``
    None) or as they were at git revision ``rev`` (outputs git does not hold come from the cache,
    through that revision's dvc.lock)."""
    snap = Snapshot(r, rev)
    declared = snap.pipelines()
    out: list[PlotData] = []
    for stage in declared.stages:
        for o in stage.outs:
            if o.kind == "plot":
                f = o.flags
                title = str(f["title"]) if f.get("title") else None
                x = f.get("x") if isinstance(f.get("x"), str) else None
                out += _each_file(snap, o.rel, o.rel, title, x, _fields(f.get("y")))
    for base, item in declared.top_plots:
        entries = item.items() if isinstance(item, dict) else [(item, None)]
        for pid, spec in entries:
            spec = spec if isinstance(spec, dict) else {}
            y = spec.get("y")
            x = spec.get("x") if isinstance(spec.get("x"), str) else None
            title = str(spec["title"]) if spec.get("title") else None
            if isinstance(y, dict):  # several named files drawn together
                files = {posixpath.join(base, k): _fields(v) for k, v in y.items()}
                out.append(_plot(snap, str(pid), title or str(pid), x, files))
            else:
                out += _each_file(snap, posixpath.join(base, str(pid)), str(pid), title, x, _fields(y))
    return out
