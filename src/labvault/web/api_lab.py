"""JSON API: the lab's tiers, monitor and usage history, lifecycle plan, cost, backups, access
grants and alerts (what admins change is in ``api_admin``). Shapes as the CLI's ``--json``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from labvault.api.access_control import access_show
from labvault.api.backup import backup_list
from labvault.api.browse import DEFAULT_LIMIT, MAX_LIMIT, page_of
from labvault.api.jsonshape import grants_json, to_json
from labvault.api.lab import tier_list
from labvault.api.lab_status import alerts, backup_drills, backup_status, usage_history
from labvault.api.lifecycle import cost, lifecycle_plan
from labvault.api.monitor import monitor
from labvault.web.auth import require
from labvault.web.session import Viewer, settings_of

router = APIRouter(tags=["lab"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"at most {MAX_LIMIT}")]
Reader = Annotated[Viewer, Depends(require("viewer"))]
StaleDays = Annotated[float, Query(gt=0, description="a backup older than this is stale")]
PLAN_LISTS = ("moves", "refused")


def _where(request: Request) -> tuple[str | None, str | None]:
    s = settings_of(request)
    return s.lab, s.catalog_url


def _page(items: list[Any], limit: int, after: str | None) -> dict[str, Any]:
    page = page_of(items, limit, after)
    return {"items": to_json(list(page.items)), "next": page.next}


@router.get("/tiers")
def tiers(request: Request, viewer: Reader, limit: Limit = DEFAULT_LIMIT, after: str | None = None) -> Any:
    """Each tier's usage, capacity and monthly cost (``labvault tier list --json``)."""
    return _page(tier_list(*_where(request)), limit, after)


@router.get("/monitor")
def monitor_report(request: Request, viewer: Reader, window_days: Annotated[float, Query(gt=0)] = 30.0,
                   top: Annotated[int, Query(ge=0, le=100)] = 20) -> Any:
    """Usage per mount, tier, dataset (the ``top`` largest) and project, with trends (``labvault
    monitor --json``; nothing is recorded)."""
    return to_json(monitor(*_where(request), window_days=window_days, top=top))


@router.get("/usage")
def usage(request: Request, viewer: Reader, tier: str | None = None, mount: str | None = None,
          days: Annotated[float, Query(gt=0, le=3660)] = 30.0, limit: Limit = MAX_LIMIT,
          after: str | None = None) -> Any:
    """The recorded usage history of a ``tier`` or a ``mount``, oldest first."""
    lab, url = _where(request)
    return _page(usage_history(tier, mount, days, lab, url), limit, after)


def _plan(request: Request, allow_early: bool) -> dict[str, Any]:
    return lifecycle_plan(*_where(request), allow_early=allow_early).to_json()


@router.get("/lifecycle/plan")
def plan(request: Request, viewer: Reader, allow_early: bool = False) -> Any:
    """The lifecycle plan as of now (``labvault lifecycle plan --json``) without its lists of moves
    and refusals, which ``/lifecycle/moves`` and ``/lifecycle/refused`` page; their lengths instead."""
    whole = _plan(request, allow_early)
    return {**{k: v for k, v in whole.items() if k not in PLAN_LISTS}, **{f"{k}_count": len(whole[k]) for k in PLAN_LISTS}}


@router.get("/lifecycle/{part}")
def plan_part(request: Request, viewer: Reader, part: Literal["moves", "refused"], allow_early: bool = False,
              limit: Limit = DEFAULT_LIMIT, after: str | None = None) -> Any:
    """The plan's moves (or refused moves), in the plan's order."""
    return _page(_plan(request, allow_early)[part], limit, after)


@router.get("/cost")
def cost_report(request: Request, viewer: Reader, by: Literal["tier", "kind", "project"] = "tier") -> Any:
    """Monthly cost now and after the lifecycle plan (``labvault cost --json``)."""
    return cost(by, *_where(request)).to_json()


@router.get("/backups")
def backups(request: Request, viewer: Reader, policy: str | None = None, limit: Limit = DEFAULT_LIMIT,
            after: str | None = None) -> Any:
    """The snapshots on the policies' targets, oldest first (``labvault backup list --json``)."""
    return _page([s.to_json() for s in backup_list(policy, lab=_where(request)[0])], limit, after)


@router.get("/backups/status")
def backups_status(request: Request, viewer: Reader, stale_days: StaleDays = 2.0, limit: Limit = DEFAULT_LIMIT,
                   after: str | None = None) -> Any:
    """Each policy's newest snapshot (last success) and its age, latest drill, and whether it is stale."""
    return _page(backup_status(*_where(request), stale_days=stale_days), limit, after)


@router.get("/backups/drills")
def drills(request: Request, viewer: Reader, policy: str | None = None, limit: Limit = DEFAULT_LIMIT,
           after: str | None = None) -> Any:
    """The recorded restore drills, newest first."""
    return _page(backup_drills(policy, *_where(request)), limit, after)


@router.get("/access")
def access(request: Request, viewer: Reader, target: Annotated[list[str] | None, Query()] = None,
           limit: Limit = DEFAULT_LIMIT, after: str | None = None) -> Any:
    """The recorded grants on each ``target`` (every grant without one; ``labvault access show --json``)."""
    lab, url = _where(request)
    return _page(grants_json(access_show(target or None, lab=lab, catalog_url=url)), limit, after)


@router.get("/alerts")
def alert_list(request: Request, viewer: Reader, stale_days: StaleDays = 2.0, limit: Limit = DEFAULT_LIMIT,
               after: str | None = None) -> Any:
    """Monitor warnings, failed drills and stale backups, critical first."""
    return _page(alerts(*_where(request), stale_days=stale_days), limit, after)
