"""JSON API: the repositories the server was started with (``labvault serve --repo``): their
pipeline graph with each stage's state, and their metrics across revisions.

A repository is named by the name of its folder (``-2``, ``-3`` after a repeated name); only those
folders are read, never a path taken from a request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from labvault.api.browse import DEFAULT_LIMIT, MAX_LIMIT, page_of
from labvault.api.jsonshape import dag_json, to_json
from labvault.api.pipelines import dag, metrics_show, stage_status
from labvault.web.auth import require
from labvault.web.session import Viewer, settings_of

router = APIRouter(tags=["repos"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"at most {MAX_LIMIT}")]
Reader = Annotated[Viewer, Depends(require("viewer"))]


def repo_names(paths: tuple[str, ...]) -> dict[str, str]:
    """name -> folder, in the order given."""
    out: dict[str, str] = {}
    for p in paths:
        base = Path(p).name or "repo"
        name, n = base, 1
        while name in out:
            n += 1
            name = f"{base}-{n}"
        out[name] = p
    return out


def _repo(request: Request, name: str) -> str:
    found = repo_names(settings_of(request).repos).get(name)
    if found is None:
        raise HTTPException(404, f"unknown repository {name!r}: see /api/v1/repos")
    return found


@router.get("/repos")
def repos(request: Request, viewer: Reader, limit: Limit = DEFAULT_LIMIT, after: str | None = None) -> Any:
    """The repositories this server shows."""
    items = [{"name": n, "path": p} for n, p in repo_names(settings_of(request).repos).items()]
    page = page_of(items, limit, after)
    return {"items": list(page.items), "next": page.next}


@router.get("/repos/{name}/dag")
def pipeline(request: Request, viewer: Reader, name: str, outs: bool = False) -> Any:
    """The pipeline graph (``labvault dag --json``: ``nodes``, ``edges``) and each stage's state
    (``stages``, as in ``labvault status --json``: ``changed`` is stale, else fresh, with the reasons)."""
    path = _repo(request, name)
    return {**dag_json(dag(None, outs, repo=path)), "stages": to_json(stage_status(repo=path))}


@router.get("/repos/{name}/metrics")
def metrics(request: Request, viewer: Reader, name: str, all_tags: bool = False, all_branches: bool = False) -> Any:
    """The metrics files in the workspace and, when asked, at every tag or branch
    (``labvault metrics show --json``: ``{rev: {"data": {path: {"data": {...}}}}}``)."""
    return metrics_show(None, all_branches, all_tags, False, repo=_repo(request, name)).to_json()
