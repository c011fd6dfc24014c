"""The HTML pages of the dashboard (server-rendered; the tables work without JavaScript).

Each page reads through ``labvault.api`` as the JSON API does, requires at least the viewer role,
and is drawn by ``render`` (which hands every template the viewer and the CSRF token of its forms).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from labvault.web.auth import require
from labvault.web.render import render
from labvault.web.session import Viewer, settings_of

router = APIRouter(include_in_schema=False)

SECTIONS = (
    ("Datasets", "/api/v1/datasets"),
    ("Models", "/api/v1/models"),
    ("Experiments", "/api/v1/experiments"),
    ("Runs", "/api/v1/runs"),
    ("Tiers", "/api/v1/tiers"),
    ("Backups", "/api/v1/backups"),
    ("Alerts", "/api/v1/alerts"),
)

__all__ = ["render", "router"]


@router.get("/")
def home(request: Request, viewer: Annotated[Viewer, Depends(require("viewer"))]) -> Response:
    return render(request, "index.html", sections=SECTIONS, lab=settings_of(request).lab)
