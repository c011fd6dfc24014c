"""Lab pages: tiers with usage history, forecast and the lifecycle plan; backups with the newest
snapshot, its age and the drills; alerts. They need the lab configuration the server was given."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from labvault import api
from labvault.api.monitor import monitor  # `api.monitor` is the submodule once it is imported
from labvault.errors import LabvaultError
from labvault.web.auth import read_form, require
from labvault.web.page_context import Reader, catalog_url, lab
from labvault.web.plot_svg import line_chart
from labvault.web.render import render
from labvault.web.session import Viewer

router = APIRouter(include_in_schema=False)
Admin = Annotated[Viewer, Depends(require("admin"))]

HISTORY_DAYS = 90.0
MOVES_SHOWN = 200
SHOWN = 10  # newest snapshots and drills per backup policy
GIB = 2**30


def _lab(request: Request) -> Any:
    path = lab(request)
    if path is None:
        raise HTTPException(404, "this server shows no lab: start it with --lab FILE")
    return path


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))


def usage_chart(name: str, points: list[tuple[str, int]], capacity: int | None, slope: float | None) -> str:
    """Used GiB against days from the newest measurement; with a trend, the forecast 30 days ahead;
    the capacity as a flat line."""
    if not points:
        return line_chart({}, title=f"{name}: usage (nothing recorded yet: run `labvault monitor --record`)")
    last = _utc(points[-1][0])

    def days(t: str) -> float:
        return (_utc(t) - last) / timedelta(days=1)

    series: dict[str, list[tuple[object, float]]] = {"used (GiB)": [(days(t), u / GIB) for t, u in points]}
    end = 0.0
    if slope is not None:
        end = 30.0
        series["forecast"] = [(0.0, points[-1][1] / GIB), (end, (points[-1][1] + slope * end) / GIB)]
    if capacity:
        series["capacity"] = [(min(days(points[0][0]), -1.0), capacity / GIB), (end, capacity / GIB)]
    return line_chart(series, title=f"{name}: usage", x_label="days from the newest measurement", y_label="GiB",
                      width=560, height=260)


@router.get("/tiers", response_class=HTMLResponse)
def tiers_page(request: Request, viewer: Reader) -> Response:
    path, url = _lab(request), catalog_url(request)
    tiers = api.tier_list(lab=path, catalog_url=url)
    report = monitor(lab=path, catalog_url=url)
    trends = {t.name: t for t in report.tiers}
    charts = []
    for t in tiers:
        hist = api.usage_history(tier=t.name, days=HISTORY_DAYS, lab=path, catalog_url=url)
        trend = getattr(trends.get(t.name), "trend", None)
        points = [(p.at, p.used) for p in hist]
        charts.append(usage_chart(t.name, points, t.capacity, getattr(trend, "slope_per_day", None)))
    try:
        plan, plan_error = api.lifecycle_plan(lab=path, catalog_url=url), None
    except LabvaultError as e:
        plan, plan_error = None, str(e).splitlines()[0]
    return render(request, "tiers.html", tiers=tiers, report=report, trends=trends, charts=charts, plan=plan,
                  plan_error=plan_error, moves_shown=MOVES_SHOWN)


@router.post("/tiers/apply", response_class=HTMLResponse)
async def apply_page(request: Request, viewer: Admin) -> Response:
    """The tiers page's form (admins): carry out the lifecycle plan, or with ``dry_run`` say what
    would move; the outcome of every move is shown (``labvault lifecycle apply``)."""
    form = await read_form(request)
    dry_run, allow_early = form.get("dry_run") == "1", form.get("allow_early") == "1"
    path, url = _lab(request), catalog_url(request)
    result = api.lifecycle_apply(dry_run=dry_run, allow_early=allow_early, lab=path, catalog_url=url)
    return render(request, "apply.html", result=result, dry_run=dry_run)


@router.get("/backups", response_class=HTMLResponse)
def backups_page(request: Request, viewer: Reader) -> Response:
    path, url = _lab(request), catalog_url(request)
    try:
        snaps, error = api.backup_list(lab=path), None
    except LabvaultError as e:
        snaps, error = [], str(e).splitlines()[0]
    drills = api.backup_drills(lab=path, catalog_url=url)
    policies = [{"status": s, "snapshots": [x for x in snaps if x.policy == s.policy][-SHOWN:][::-1],
                 "drills": [d for d in drills if d.policy == s.policy][:SHOWN]}
                for s in api.backup_status(lab=path, catalog_url=url)]
    return render(request, "backups.html", policies=policies, error=error, shown=SHOWN)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, viewer: Reader) -> Response:
    return render(request, "alerts.html", alerts=api.alerts(lab=_lab(request), catalog_url=catalog_url(request)))
