"""Pipeline pages of the repos the server was given: the stage graph with stale and fresh stages,
and metrics across revisions (table and charts) with the ``plots:`` of dvc.yaml drawn from their
files. A repo is chosen by its position in the server's list, never by a path from the request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from labvault import api
from labvault.errors import LabvaultError
from labvault.web.graph_svg import GraphNode, render_svg
from labvault.web.page_context import Reader, repos
from labvault.web.plot_svg import line_chart
from labvault.web.plots_page import image_tag
from labvault.web.render import render

router = APIRouter(include_in_schema=False)

MAX_CHARTS = 24
MAX_PAGE_IMAGE = 512 * 1024  # base64 characters of one image plot embedded in the metrics page


def _repo(request: Request, index: int) -> tuple[list[Path], Path]:
    known = repos(request)
    if not known:
        raise HTTPException(404, "this server shows no repository: start it with --repo DIR")
    if not 0 <= index < len(known):
        raise HTTPException(404, f"no repository number {index}: there are {len(known)}")
    return known, known[index]


def dag_svg(path: Path) -> tuple[str, list[Any]]:
    """The stage graph of the repo at ``path``: ``.dvc`` files grey, stale stages red, fresh green."""
    view = api.dag(repo=path)
    status = {s.address: s for s in api.stage_status(repo=path)}
    boxes = []
    for name in view.nodes:
        s = status.get(name)
        kind = "pointer" if s is None else "stale" if s.changed else "fresh"
        title = name if s is None else f"{name}: " + ("; ".join(s.reasons) if s.changed else "up to date")
        boxes.append(GraphNode(name, name, kind, title=title))
    return render_svg(boxes, list(view.edges)), list(status.values())


@router.get("/pipelines", response_class=HTMLResponse)
def pipelines_page(request: Request, viewer: Reader, repo: int = Query(0, ge=0, le=10_000)) -> Response:
    known, path = _repo(request, repo)
    try:
        svg, stages = dag_svg(path)
        error = None
    except LabvaultError as e:
        svg, stages, error = "", [], str(e).splitlines()[0]
    return render(request, "pipelines.html", repos=known, current=repo, path=path, svg=svg, stages=stages,
                  error=error)


def revision_charts(report: Any) -> list[str]:
    """One chart per metric: its value at each revision (the workspace first, as ``metrics show``)."""
    series: dict[str, list[tuple[object, float]]] = {}
    for rev in reversed(report.revisions):  # oldest first on the x axis
        for f in rev.files:
            for key, value in f.flat().items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    series.setdefault(f"{f.path}: {key}", []).append((rev.rev or "workspace", float(value)))
    return [line_chart({k: v}, title=k, x_label="revision", width=420, height=220)
            for k, v in list(series.items())[:MAX_CHARTS]]


def plot_charts(path: Path) -> list[tuple[Any, str]]:
    """The dvc.yaml plots, each with its chart (or its error)."""
    out = []
    for p in api.plots_show(repo=path)[:MAX_CHARTS]:
        if p.kind == "image":
            big = p.image is not None and len(p.image) > MAX_PAGE_IMAGE
            note = f'<p class="muted">image of {len(p.image or "") * 3 // 4 // 1024} KiB: see labvault plots show</p>'
            out.append((p, note if big else image_tag(p) if p.image is not None else ""))
            continue
        series = {f"{s.file}: {s.field}" if len(p.series) > 1 else s.field: list(s.points) for s in p.series}
        out.append((p, line_chart(series, title=p.title, x_label=p.x, width=520, height=260)))
    return out


@router.get("/metrics", response_class=HTMLResponse)
def metrics_page(request: Request, viewer: Reader, repo: int = Query(0, ge=0, le=10_000)) -> Response:
    known, path = _repo(request, repo)
    try:
        report = api.metrics_show(all_branches=True, all_tags=True, repo=path)
        headers, rows = report.table()
        charts, plots, error = revision_charts(report), plot_charts(path), None
    except LabvaultError as e:
        headers, rows, charts, plots, error = [], [], [], [], str(e).splitlines()[0]
    return render(request, "metrics.html", repos=known, current=repo, path=path, headers=headers, rows=rows,
                  charts=charts, plots=plots, error=error)
