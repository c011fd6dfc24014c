"""Catalog pages: datasets, models and experiments lists (search, filters, keyset pages), and the
page of one dataset or model (versions, card, files, placements, lineage neighbourhood) or
experiment (its runs, their metrics as a table and as plots)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from labvault import api
from labvault.api.browse import (
    BoundedEntry,
    browse,
    browse_entry,
    lineage_neighbourhood,
    lineage_refs,
    page_of,
    visible_to,
)
from labvault.errors import LabvaultError
from labvault.web.page_context import Reader, catalog_url, lab, link
from labvault.web.pages_lineage import neighbourhood_svg
from labvault.web.plot_svg import line_chart
from labvault.web.render import name_path, render
from labvault.web.session import Viewer

router = APIRouter(include_in_schema=False)

PAGE_SIZES = (25, 50, 100, 200)
VERSIONS_SHOWN = 100
RUNS_SHOWN = 200
REFS_SHOWN = 100  # a page of a version's inputs or outputs on its own page
SIDE_TITLES = {"inputs": ("Made from", "made-from"), "outputs": ("Used by", "used-by")}
KINDS = {"datasets": "dataset", "models": "model", "experiments": "experiment"}


def _list_page(request: Request, viewer: Viewer, plural: str, q: str, tag: str, where: str, limit: int,
               after: str, back: str) -> Response:
    kind = KINDS[plural]
    if kind == "experiment":  # a short list, paged in memory as the JSON API pages it
        found = [e for e in api.catalog_experiments(catalog_url=catalog_url(request)) if e.name.startswith(q)]
        page: Any = page_of(found, limit, after or None)
    else:
        page = browse(plural, name_prefix=q or None, tag=tag or None, where=where or None, limit=limit,
                          after=after or None, reader=viewer.reader, catalog_url=catalog_url(request))
    trail = [c for c in back.split(" ") if c][-50:]  # the cursors of the pages before this one

    def here(cursor: str | None, crumbs: list[str]) -> str:
        return link(f"/{plural}", q=q, tag=tag, where=where, limit=limit if limit != 50 else None,
                    after=cursor, back=" ".join(crumbs))

    next_url = here(page.next, [*trail, after or "-"]) if page.next else None
    prev_url = None
    if after:
        prev = trail[-1] if trail else "-"
        prev_url = here(None if prev == "-" else prev, trail[:-1])
    return render(request, "entries.html", plural=plural, kind=kind, items=page.items, q=q, tag=tag,
                  where=where, limit=limit, sizes=PAGE_SIZES, next_url=next_url, prev_url=prev_url)


def _list_route(plural: str) -> None:
    @router.get(f"/{plural}", response_class=HTMLResponse, name=f"{plural}_page")
    def page(
        request: Request,
        viewer: Reader,
        q: str = Query("", max_length=200, description="name prefix (case-sensitive)"),
        tag: str = Query("", max_length=100),
        where: str = Query("", max_length=1000),
        limit: int = Query(50, ge=1, le=200),
        after: str = Query("", max_length=500),
        back: str = Query("", max_length=30000),
    ) -> Response:
        return _list_page(request, viewer, plural, q, tag, where, limit, after, back)


for _plural in KINDS:
    _list_route(_plural)


def _placements(request: Request, ref: str) -> tuple[list[Any], str | None]:
    """The lab units holding ``ref`` (tiers, copies, last access), or why there are none."""
    if lab(request) is None:
        return [], "no lab configuration given to the server"
    try:
        return list(api.where(ref, lab=lab(request), catalog_url=catalog_url(request)).units), None
    except LabvaultError as e:
        return [], str(e).splitlines()[0]


def _sides(request: Request, entry: BoundedEntry, after: dict[str, str]) -> list[dict[str, Any]]:
    """The version's inputs and outputs, a page of each from its cursor in ``after``, with the
    links to the first and the next page of each (the other side's page kept)."""
    out = []
    for side, (title, anchor) in SIDE_TITLES.items():
        page = lineage_refs(entry.kind, entry.ref, side, limit=REFS_SHOWN, after=after[side] or None,
                            catalog_url=catalog_url(request))

        def here(cursor: str | None, side: str = side, anchor: str = anchor) -> str:
            cursors = {f"{s}_after": c for s, c in {**after, side: cursor}.items()}
            return link(f"/{entry.kind}s/{name_path(entry.name)}", version=entry.version, **cursors) + f"#{anchor}"

        out.append({"side": side, "title": title, "anchor": anchor, "refs": page.items, "limit": REFS_SHOWN,
                    "total": getattr(entry, f"{side}_total"), "next_url": here(page.next) if page.next else None,
                    "first_url": here(None) if after[side] else None})
    return out


def _entry_page(request: Request, viewer: Viewer, kind: str, name: str, version: str,
                after: dict[str, str]) -> Response:
    url = catalog_url(request)
    entry = browse_entry(kind, f"{name}@{version}" if version else name, catalog_url=url)
    if not visible_to(viewer.reader, entry.path):  # as the JSON API: what a reader may not read is unknown
        raise HTTPException(404, f"unknown {kind} {name!r}")
    versions = list(browse(f"{kind}s", name=name, all_versions=True, limit=VERSIONS_SHOWN,
                               reader=viewer.reader, catalog_url=url).items)
    units, no_units = _placements(request, entry.ref)
    graph = lineage_neighbourhood(kind, entry.ref, depth=1, max_nodes=120, catalog_url=url).graph
    return render(request, "entry.html", entry=entry, versions=versions, capped=len(versions) == VERSIONS_SHOWN,
                  units=units, no_units=no_units, neighbourhood=neighbourhood_svg(graph),
                  lineage_url=link("/lineage", kind=kind, ref=entry.ref), plural=f"{kind}s",
                  sides=_sides(request, entry, after))


Cursor = Annotated[str, Query(max_length=500)]


@router.get("/datasets/{name:path}", response_class=HTMLResponse)
def dataset_page(request: Request, viewer: Reader, name: str, version: str = Query("", max_length=200),
                 inputs_after: Cursor = "", outputs_after: Cursor = "") -> Response:
    return _entry_page(request, viewer, "dataset", name, version, {"inputs": inputs_after, "outputs": outputs_after})


@router.get("/models/{name:path}", response_class=HTMLResponse)
def model_page(request: Request, viewer: Reader, name: str, version: str = Query("", max_length=200),
               inputs_after: Cursor = "", outputs_after: Cursor = "") -> Response:
    return _entry_page(request, viewer, "model", name, version, {"inputs": inputs_after, "outputs": outputs_after})


def metric_charts(runs: list[Any]) -> list[str]:
    """One chart per metric: its value at each run, oldest run first."""
    names = sorted({m for r in runs for m in r.metrics})
    ordered = sorted(runs, key=lambda r: r.id)
    return [line_chart({m: [(r.version, r.metrics[m]) for r in ordered if m in r.metrics]}, title=m,
                       x_label="run", width=420, height=220) for m in names[:12]]


@router.get("/experiments/{name:path}", response_class=HTMLResponse)
def experiment_page(request: Request, viewer: Reader, name: str) -> Response:
    runs = list(browse("runs", name=name, all_versions=True, limit=RUNS_SHOWN, reader=viewer.reader,
                           catalog_url=catalog_url(request)).items)
    metrics = sorted({m for r in runs for m in r.metrics})
    params = sorted({p for r in runs for p in r.params})[:8]
    return render(request, "experiment.html", name=name, runs=runs, metrics=metrics, params=params,
                  charts=metric_charts(runs), capped=len(runs) == RUNS_SHOWN)
