"""JSON API: the catalog's datasets, models, experiments and runs, their lineage, registering and tagging.

Every entry has the shape of ``labvault catalog show --json`` bounded (``api.browse.BoundedEntry``):
``inputs`` and ``outputs`` hold at most ``LINK_CAP`` refs each, ``inputs_total`` and
``outputs_total`` count them all, and ``KIND/REF/inputs`` and ``KIND/REF/outputs`` page them. Lists
are pages ``{"items": [...], "next": cursor|null}`` (``api.browse``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from labvault.api.browse import (
    DEFAULT_LIMIT,
    LINK_CAP,
    MAX_LIMIT,
    SIDES,
    browse,
    browse_entry,
    lineage_neighbourhood,
    lineage_refs,
    page_of,
    visible_to,
)
from labvault.api.catalog import (
    catalog_experiments,
    catalog_register_dataset,
    catalog_register_model,
    catalog_tag,
)
from labvault.api.jsonshape import to_json
from labvault.catalog.types import Entry
from labvault.web.auth import require
from labvault.web.jsonbody import json_bytes
from labvault.web.session import Viewer, settings_of

router = APIRouter(tags=["catalog"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"at most {MAX_LIMIT}")]
NameQuery = Annotated[str | None, Query(description="only this name (exact, case-sensitive)")]
PrefixQuery = Annotated[str | None, Query(
    description="only names starting with this, case-sensitive (code point order: `raw/` finds `raw/img`, "
                "not `Raw/img`), as `name ~ 'PREFIX*'` in `where`")]
WhereQuery = Annotated[str | None, Query(
    description="a filter in the language of `labvault catalog search` (text matches and `~` globs are "
                "case-sensitive), e.g. `metrics.accuracy > 0.9 and name ~ 'clf*'`")]
Reader = Annotated[Viewer, Depends(require("viewer"))]
Editor = Annotated[Viewer, Depends(require("editor"))]
SINGULAR = {"datasets": "dataset", "models": "model", "runs": "run"}


def answer(doc: Any) -> Response:
    """``doc`` (plain values, dataclasses, tuples: the shapes ``to_json`` gives) as the response,
    encoded in one pass (``web.jsonbody``), without FastAPI's walk over it (``jsonable_encoder``)."""
    return Response(json_bytes(doc), media_type="application/json")


def page_json(items: Any, nxt: str | None) -> Response:
    return answer({"items": list(items), "next": nxt})


def _url(request: Request) -> str | None:
    return settings_of(request).catalog_url  # type: ignore[no-any-return]


def _shown(viewer: Viewer, entry: Entry) -> Entry:
    if not visible_to(viewer.reader, entry.path):
        raise HTTPException(404, f"unknown {entry.kind} {entry.name!r}")
    return entry


@router.get("/experiments")
def experiments(request: Request, viewer: Reader, limit: Limit = DEFAULT_LIMIT, after: str | None = None) -> Any:
    """Experiments with their number of runs and latest run (``labvault catalog experiments --json``)."""
    page = page_of(catalog_experiments(catalog_url=_url(request)), limit, after)
    return page_json(page.items, page.next)


@router.get("/lineage/{kind}/{ref:path}")
def lineage(
    request: Request, viewer: Reader, kind: Literal["dataset", "model", "run"], ref: str,
    direction: Literal["up", "down", "both"] = "both", depth: Annotated[int, Query(ge=1, le=10)] = 2,
    max_nodes: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> Any:
    """The lineage around REF, ``depth`` steps and ``max_nodes`` nodes at most, nearest first
    (``labvault catalog lineage --json`` plus ``truncated``)."""
    _shown(viewer, browse_entry(kind, ref, catalog_url=_url(request)))
    hood = lineage_neighbourhood(kind, ref, direction=direction, depth=depth, max_nodes=max_nodes,
                                 catalog_url=_url(request))
    return answer({**to_json(hood.graph), "truncated": hood.truncated})


class TagBody(BaseModel):
    tags: list[str] = Field(min_length=1, max_length=100)
    remove: bool = False


class RegisterBody(BaseModel):
    name: str = Field(min_length=1, max_length=512)
    version: str | None = None
    path: str | None = None
    content_hash: str | None = None
    size: int | None = Field(default=None, ge=0)
    description: str | None = None
    tags: list[str] = Field(default_factory=list, max_length=100)
    # models only
    architecture: str | None = None
    framework: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    datasets: list[str] = Field(default_factory=list, max_length=1000)


def _kind_routes(kind: str) -> None:
    one = SINGULAR[kind]

    @router.get(f"/{kind}", name=f"{kind}_list")
    def versions(
        request: Request, viewer: Reader, name: NameQuery = None, prefix: PrefixQuery = None, tag: str | None = None,
        where: WhereQuery = None, all: bool = False, limit: Limit = DEFAULT_LIMIT, after: str | None = None,
    ) -> Any:
        """Newest first: the latest version of each name (``all``: every version), filtered by exact
        ``name``, name ``prefix``, ``tag`` (or alias) and ``where`` (the search language of
        ``labvault catalog search``). Items as ``labvault catalog KIND --json``.

        Every name filter is case-sensitive, on SQLite and PostgreSQL alike and as in the CLI
        (``catalog KIND --name``, ``catalog search --where "name ~ 'raw/*'"``): ``prefix=raw/``
        finds ``raw/img``, not ``Raw/img``."""
        page = browse(kind, name=name, name_prefix=prefix, tag=tag, where=where, all_versions=all, limit=limit,
                      after=after, reader=viewer.reader, catalog_url=_url(request))
        return page_json(page.items, page.next)

    # Names may hold "/" (``team/raw``), so every NAME or REF is a path parameter; the routes ending
    # in /versions, /inputs, /outputs and /tags come first, so the show route only gets the rest.
    @router.get(f"/{kind}/{{name:path}}/versions", name=f"{kind}_versions")
    def all_versions(request: Request, viewer: Reader, name: str, limit: Limit = DEFAULT_LIMIT,
                     after: str | None = None) -> Any:
        """Every version of NAME (which may contain "/"), newest first."""
        browse_entry(one, name, catalog_url=_url(request))  # 404 for an unknown name
        page = browse(kind, name=name, all_versions=True, limit=limit, after=after, reader=viewer.reader,
                      catalog_url=_url(request))
        return page_json(page.items, page.next)

    for side in SIDES:
        _side_route(kind, side)

    @router.post(f"/{kind}/{{ref:path}}/tags", name=f"{kind}_tag")
    def tag(request: Request, viewer: Editor, ref: str, body: TagBody) -> Any:
        """Add (or ``remove``) tags (editor; ``labvault catalog tag --json``, bounded)."""
        _shown(viewer, browse_entry(one, ref, catalog_url=_url(request)))
        tagged = catalog_tag(one, ref, body.tags, remove=body.remove, catalog_url=_url(request))
        return to_json(browse_entry(one, tagged.ref, catalog_url=_url(request)))

    @router.get(f"/{kind}/{{ref:path}}", name=f"{kind}_show")
    def show(request: Request, viewer: Reader, ref: str) -> Any:
        """One version: NAME (the latest), NAME@VERSION or NAME@ALIAS (``labvault catalog show --json``,
        with at most ``LINK_CAP`` refs in ``inputs`` and in ``outputs``, their totals in ``inputs_total``
        and ``outputs_total``; ``.../inputs`` and ``.../outputs`` page them whole). NAME may contain "/"
        (``/api/v1/datasets/team/raw@v1``); a name that itself ends in ``/versions``, ``/inputs`` or
        ``/outputs`` is reached as NAME@VERSION."""
        return answer(_shown(viewer, browse_entry(one, ref, catalog_url=_url(request))))


def _side_route(kind: str, side: str) -> None:
    one = SINGULAR[kind]
    what = "the versions it was made from" if side == "inputs" else "the versions made from it"

    def refs(request: Request, viewer: Reader, ref: str, limit: Limit = DEFAULT_LIMIT, after: str | None = None) -> Any:
        page = lineage_refs(one, _shown(viewer, browse_entry(one, ref, catalog_url=_url(request))).ref, side,
                            limit=limit, after=after, catalog_url=_url(request))
        return answer({"items": list(page.items), "next": page.next})

    refs.__doc__ = (f"Every one of REF's ``{side}`` ({what}), a page of refs "
                    f"``KIND:NAME@VERSION`` in the order of their version ids: the entry's own ``{side}`` "
                    f"holds the first {LINK_CAP} of them, ``{side}_total`` counts them.")
    router.get(f"/{kind}/{{ref:path}}/{side}", name=f"{kind}_{side}")(refs)  # after __doc__: OpenAPI reads it


def _register(request: Request, kind: str, body: RegisterBody) -> Any:
    if kind == "datasets":
        made = catalog_register_dataset(body.name, version=body.version, path=body.path,
                                         content_hash=body.content_hash, size=body.size,
                                         description=body.description, tags=body.tags, catalog_url=_url(request))
    else:
        made = catalog_register_model(body.name, architecture=body.architecture, framework=body.framework,
                                       path=body.path, content_hash=body.content_hash, size=body.size,
                                       metrics=body.metrics, datasets=body.datasets, version=body.version,
                                       description=body.description, tags=body.tags, catalog_url=_url(request))
    return to_json(browse_entry(SINGULAR[kind], made.ref, catalog_url=_url(request)))


@router.post("/datasets")
def register_dataset(request: Request, viewer: Editor, body: RegisterBody) -> Any:
    """Register a dataset version (editor; ``labvault catalog register dataset --json``)."""
    return _register(request, "datasets", body)


@router.post("/models")
def register_model(request: Request, viewer: Editor, body: RegisterBody) -> Any:
    """Register a model version (editor; ``labvault catalog register model --json``)."""
    return _register(request, "models", body)


for _kind in SINGULAR:
    _kind_routes(_kind)
