"""Draw a laid-out graph as inline SVG: boxes with labels, edges as arrowed polylines.

Every node is a plain ``<a href>`` inside the SVG, so the picture works without JavaScript
(a click follows the link); ``static/graph.js`` adds pan/zoom and turns node clicks into an
in-place swap of the graph. Text is escaped; long labels are cut with the full one in ``<title>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from labvault.web.graph_layout import Layout, Point, layout

NODE_W = 200.0
NODE_H = 24.0
MARGIN = 16.0
LABEL_CHARS = 30


@dataclass(frozen=True)
class GraphNode:
    """One box: ``kind`` becomes its CSS class (dataset, model, run, stage, pointer, more, stale, fresh)."""

    id: str
    label: str
    kind: str
    href: str | None = None
    title: str = ""
    root: bool = False


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "\u2026"


def _path(points: Sequence[Point], dx: float, dy: float) -> str:
    """An edge from the right side of its source box to the left side of its target box."""
    first, last = points[0], points[-1]
    coords = [(first.x + NODE_W / 2, first.y)]
    coords += [(p.x, p.y) for p in points[1:-1]]
    coords.append((last.x - NODE_W / 2 - 3, last.y))
    return "M" + " L".join(f"{x + dx:.0f} {y + dy:.0f}" for x, y in coords)


def render_svg(nodes: Sequence[GraphNode], edges: Sequence[tuple[str, str]], *, element_id: str = "graph-svg",
               ) -> str:
    """The SVG text of ``nodes`` and ``edges`` laid out left to right (sources on the left)."""
    placed: Layout = layout([n.id for n in nodes], edges)
    dx, dy = MARGIN + NODE_W / 2, MARGIN + NODE_H / 2
    width = placed.width + NODE_W + 2 * MARGIN
    height = placed.height + NODE_H + 2 * MARGIN
    out = [
        f'<svg id="{escape(element_id)}" class="graph" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'role="img" aria-label="graph of {len(nodes)} nodes">',
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" '
        'orient="auto"><path d="M0 0 L8 4 L0 8 z"/></marker></defs>',
        '<g class="viewport"><g class="edges">',
    ]
    out += [f'<path d="{_path(pts, dx, dy)}"/>' for _, _, pts in placed.routes]
    out.append('</g><g class="nodes">')
    for n in nodes:
        p = placed.positions[n.id]
        x, y = p.x + dx - NODE_W / 2, p.y + dy - NODE_H / 2
        cls = f"node {escape(n.kind)}" + (" root" if n.root else "")
        tip = escape(n.title or n.label)
        box = (f'<g class="{cls}" data-id="{escape(n.id)}" transform="translate({x:.0f},{y:.0f})">'
               f'<title>{tip}</title><rect width="{NODE_W:.0f}" height="{NODE_H:.0f}" rx="4"/>'
               f'<text x="8" y="16">{escape(_cut(n.label))}</text></g>')
        out.append(f'<a href="{escape(n.href)}">{box}</a>' if n.href else box)
    out.append("</g></g></svg>")
    return "".join(out)
