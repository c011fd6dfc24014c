"""The lineage graph page: a depth-limited walk from one version, expanded node by node.

The URL holds the whole state (``kind``, ``ref``, ``depth``, the ``expand``-ed node ids and the nodes
whose fan-out is shown in ``full``), so every picture is a plain link and the back button works.
A click on a node adds it to ``expand``: the server walks one more step from it, merges the walks,
lays the union out again and answers with the page (or, asked by htmx, only the graph box).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from labvault.api.browse import browse_entry, lineage_neighbourhood, visible_to
from labvault.catalog.types import Lineage, LineageNode
from labvault.web.graph_svg import GraphNode, render_svg
from labvault.web.graph_view import lineage_picture, merge
from labvault.web.page_context import Reader, catalog_url, link
from labvault.web.render import name_path, render

router = APIRouter(include_in_schema=False)

MAX_EXPANDED = 40  # expansions carried in one URL
WALK_NODES = 600  # the start walk stops here (the picture collapses fan-out beyond its own caps)
STEP_NODES = 200  # one click's walk
KIND_PAGES = {"dataset": "/datasets", "model": "/models", "run": "/experiments"}


def _ids(text: str) -> list[int]:
    return list(dict.fromkeys(int(t) for t in text.split(",") if t.strip().isdigit()))[:MAX_EXPANDED]


def entry_href(n: LineageNode) -> str:
    """The page of a lineage node's version (a run's page is its experiment's)."""
    if n.kind == "run":
        return link(f"/experiments/{name_path(n.name)}")
    return link(f"{KIND_PAGES.get(n.kind, '/datasets')}/{name_path(n.name)}", version=n.version)


def neighbourhood_svg(graph: Lineage) -> str:
    """A small picture of a version's direct lineage: every node links to its own lineage page."""
    nodes, edges = merge([graph])
    boxes, lines, _ = lineage_picture(
        graph.root.id, nodes, edges, fanout=12, max_nodes=60,
        expand_href=lambda n: link("/lineage", kind=n.kind, ref=n.ref),
        more_href=lambda i: link("/lineage", kind=graph.root.kind, ref=graph.root.ref, depth=1, full=i),
    )
    return render_svg(boxes, lines, element_id="neighbourhood-svg")


@router.get("/lineage", response_class=HTMLResponse)
def lineage_page(
    request: Request,
    viewer: Reader,
    kind: str = Query("dataset", pattern="^(dataset|model|run)$"),
    ref: str = Query(..., min_length=1, max_length=300),
    depth: int = Query(2, ge=1, le=8),
    expand: str = Query("", max_length=2000),
    full: str = Query("", max_length=2000),
) -> Response:
    url = catalog_url(request)
    if not visible_to(viewer.reader, browse_entry(kind, ref, catalog_url=url).path):
        raise HTTPException(404, f"unknown {kind} {ref!r}")
    walk = lineage_neighbourhood(kind, ref, depth=depth, max_nodes=WALK_NODES, catalog_url=url)
    start, truncated = walk.graph, walk.truncated
    expanded, shown = _ids(expand), _ids(full)
    graphs = [start]
    known = {n.id: n for n in start.nodes}
    for node_id in expanded:  # in click order: a node is known once an earlier walk reached it
        n = known.get(node_id)
        if n is not None:
            step = lineage_neighbourhood(n.kind, n.ref, depth=1, max_nodes=STEP_NODES, catalog_url=url)
            g, truncated = step.graph, truncated or step.truncated
            graphs.append(g)
            known.update((m.id, m) for m in g.nodes)
    nodes, edges = merge(graphs)

    def here(exp: list[int], full_ids: list[int], d: int = depth) -> str:
        return link("/lineage", kind=kind, ref=ref, depth=d, expand=",".join(map(str, exp)),
                    full=",".join(map(str, full_ids)))

    def expand_href(n: LineageNode) -> str:
        exp = [i for i in expanded if i != n.id] if n.id in expanded else [*expanded, n.id]
        return here(exp, shown)

    boxes, lines, vis = lineage_picture(
        start.root.id, nodes, edges, show_all=frozenset(shown), expand_href=expand_href,
        more_href=lambda owner: here(expanded, [*shown, owner]),
    )
    marked = [GraphNode(b.id, b.label, b.kind + (" expanded" if b.id.isdigit() and int(b.id) in expanded else ""),
                        b.href, b.title, b.root) for b in boxes]
    template = "lineage_graph.html" if request.headers.get("HX-Request") else "lineage.html"
    return render(
        request, template, root=start.root, depth=depth, svg=render_svg(marked, lines),
        shown=[nodes[i] for i in vis.nodes], hidden=sum(vis.hidden.values()), edges=len(vis.edges),
        entry_href=entry_href, deeper=here(expanded, shown, min(depth + 1, 8)), truncated=truncated,
    )
