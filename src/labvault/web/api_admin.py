"""JSON API: what admins change. Lab scan, backup run, lifecycle apply, promote and demote, access
grants. Each is one call of the same ``labvault.api`` function as its command, answered in the
shape of that command's ``--json``; each defaults to ``dry_run`` (say what would happen, change
nothing), so a change is always asked for explicitly.

The call runs to its end inside the request (a move of a large unit holds the request as long as
the copy and its verification take); a client gives it a long enough timeout. Waiting for an
archive restore is not offered here: a promote from an archive class requests the restore and
answers 503 with the line saying when to retry, as the command exits 10 without ``--wait``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from labvault.api.access_control import access_grant, access_revoke
from labvault.api.backup import backup_run
from labvault.api.jsonshape import apply_json, grant_results_json, to_json
from labvault.api.lab import lab_scan
from labvault.api.lifecycle_moves import demote, lifecycle_apply, promote
from labvault.errors import UsageError
from labvault.web.auth import require
from labvault.web.session import Viewer, settings_of

router = APIRouter(tags=["admin"])

Admin = Annotated[Viewer, Depends(require("admin"))]


def _where(request: Request) -> tuple[str | None, str | None]:
    s = settings_of(request)
    return s.lab, s.catalog_url


@router.post("/lab/scan")
def scan(request: Request, viewer: Admin) -> Any:
    """Register the units in the folder tiers (admin; ``labvault lab scan --json``)."""
    return to_json(lab_scan(*_where(request)))


class BackupRunBody(BaseModel):
    policy: str | None = None
    dry_run: bool = True


@router.post("/backups/run")
def run_backup(request: Request, viewer: Admin, body: BackupRunBody) -> Any:
    """Make a snapshot of a policy (default: every policy); ``dry_run`` (the default) only says what
    would be sent (admin; ``labvault backup run --json``)."""
    results = backup_run(body.policy, dry_run=body.dry_run, lab=_where(request)[0])
    return {"items": [r.to_json() for r in results], "next": None}


class ApplyBody(BaseModel):
    dry_run: bool = True
    allow_early: bool = False
    max_bytes: int | None = Field(default=None, ge=0)
    as_of: datetime | None = Field(default=None, description="plan as if it were then (as `lifecycle plan`)")


@router.post("/lifecycle/apply")
def apply(request: Request, viewer: Admin, body: ApplyBody) -> Any:
    """Carry out the lifecycle plan: each unit copied, verified, switched, then its old copy
    deleted; ``dry_run`` (the default) only says what would move (admin; ``labvault lifecycle
    apply --json``). A move that failed is in ``outcomes`` with status "failed"; the others went on."""
    lab, url = _where(request)
    return apply_json(lifecycle_apply(body.dry_run, body.allow_early, body.max_bytes, body.as_of, lab, url))


class MoveBody(BaseModel):
    name: str = Field(min_length=1, description="a dataset, model or experiment; NAME@VERSION for one version")
    version: str | None = None
    to: str | None = Field(default=None, description="the tier (promote: default the promotion tier)")
    dry_run: bool = True
    allow_early: bool = False


@router.post("/promote")
def promote_unit(request: Request, viewer: Admin, body: MoveBody) -> Any:
    """Move a unit (every part of it) up to ``to`` (default: the promotion tier, else the hottest),
    verified before the old copy goes; ``dry_run`` (the default) only says what would move (admin;
    ``labvault promote --json``)."""
    lab, url = _where(request)
    return to_json(promote(body.name, body.version, body.to, lab, url, dry_run=body.dry_run,
                           allow_early=body.allow_early))


@router.post("/demote")
def demote_unit(request: Request, viewer: Admin, body: MoveBody) -> Any:
    """Move a unit (every part of it) down to tier ``to`` (required), verified before the old copy
    goes; ``dry_run`` (the default) only says what would move (admin; ``labvault demote --json``)."""
    if not body.to:
        raise UsageError('demote needs the tier to move to: give "to" in the body')
    lab, url = _where(request)
    return to_json(demote(body.name, body.to, body.version, lab, url, dry_run=body.dry_run,
                          allow_early=body.allow_early))


class GrantBody(BaseModel):
    principal: str = Field(min_length=1, description="a unix user, or group:NAME")
    permission: Literal["read", "write"]
    targets: list[str] = Field(min_length=1, max_length=500, description="paths, tiers or catalog names")
    dry_run: bool = True


@router.post("/access/{change}")
def access_change(request: Request, viewer: Admin, change: Literal["grant", "revoke"], body: GrantBody) -> Any:
    """Give (``grant``) or take away (``revoke``) a permission on targets, applied to the files'
    ACLs and recorded; ``dry_run`` (the default) only says what would change (admin; ``labvault
    access grant|revoke --json``)."""
    lab, url = _where(request)
    call = access_grant if change == "grant" else access_revoke
    results = call(body.principal, body.permission, body.targets, dry_run=body.dry_run, lab=lab, catalog_url=url)
    return {"items": grant_results_json(results), "next": None}
