"""The HTML pages of the dashboard (server-rendered; the tables work without JavaScript).

Each page reads through ``labvault.api`` as the JSON API does, requires at least the viewer role,
and is drawn by ``render`` (which hands every template the viewer and the CSRF token of its forms).
The pages live in ``pages_catalog`` (datasets, models, experiments), ``pages_lineage``,
``pages_pipelines`` (stage graph, metrics, plots) and ``pages_lab`` (tiers, backups, alerts).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from labvault.web import pages_catalog, pages_lab, pages_lineage, pages_pipelines
from labvault.web.auth import require
from labvault.web.render import render
from labvault.web.session import Viewer, settings_of

router = APIRouter(include_in_schema=False)

SECTIONS = (
    ("Datasets", "/datasets", "every dataset's latest version: search, filter by tag or metric"),
    ("Models", "/models", "models with their metrics and the data they were made from"),
    ("Experiments", "/experiments", "runs, their params and metrics, as a table and charts"),
    ("Pipelines", "/pipelines", "the stage graph of each repository, stale stages in red"),
    ("Metrics", "/metrics", "metrics across revisions and the plots of dvc.yaml"),
    ("Tiers", "/tiers", "storage tiers, usage history, forecast and the lifecycle plan"),
    ("Backups", "/backups", "last success, age and drills of each backup policy"),
    ("Alerts", "/alerts", "what needs attention"),
)

__all__ = ["render", "router"]


@router.get("/")
def home(request: Request, viewer: Annotated[Viewer, Depends(require("viewer"))]) -> Response:
    return render(request, "index.html", sections=SECTIONS, lab=settings_of(request).lab)


for _module in (pages_catalog, pages_lineage, pages_pipelines, pages_lab):
    router.include_router(_module.router)
