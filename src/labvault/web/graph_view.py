"""What the lineage picture shows: the visible part of a lineage graph, with wide fan-out collapsed.

A walk from the start node adds neighbours breadth-first; a node with more than ``FANOUT`` unseen
neighbours on one side (upstream or downstream) shows the first ``FANOUT`` and one "+N more" box,
unless the reader asked to see all of them (``show_all``). The walk stops at ``MAX_NODES`` boxes;
what it could not show is counted in "+N more" boxes too, so nothing disappears silently.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from labvault.catalog.types import Lineage, LineageEdge, LineageNode
from labvault.web.graph_svg import GraphNode

FANOUT = 25
MAX_NODES = 600


@dataclass(frozen=True)
class Visible:
    """The nodes to draw (start first), the edges among them, and the hidden counts per (node, side)."""

    nodes: tuple[int, ...]
    edges: tuple[tuple[int, int], ...]
    hidden: dict[tuple[int, str], int]


def merge(graphs: Iterable[Lineage]) -> tuple[dict[int, LineageNode], list[LineageEdge]]:
    """The union of several lineage walks (the start's, and each expanded node's)."""
    nodes: dict[int, LineageNode] = {}
    edges: dict[tuple[int, int], LineageEdge] = {}
    for g in graphs:
        for n in g.nodes:
            nodes.setdefault(n.id, n)
        for e in g.edges:
            edges.setdefault((e.src, e.dst), e)
    return nodes, list(edges.values())


def visible(start: int, node_ids: Sequence[int], edges: Sequence[tuple[int, int]], *,
            show_all: frozenset[int] = frozenset(), fanout: int = FANOUT, max_nodes: int = MAX_NODES) -> Visible:
    """Walk from ``start`` and keep what fits (see the module docstring)."""
    known = set(node_ids)
    down: dict[int, list[int]] = {n: [] for n in node_ids}
    up: dict[int, list[int]] = {n: [] for n in node_ids}
    for s, d in edges:
        if s in known and d in known:
            down[s].append(d)
            up[d].append(s)
    seen = {start}
    order = [start]
    skipped: dict[tuple[int, str], list[int]] = {}
    queue = deque([start])
    while queue:
        u = queue.popleft()
        for side, near in (("up", up[u]), ("down", down[u])):
            fresh = [v for v in dict.fromkeys(near) if v not in seen]
            room = max_nodes - len(order)
            cap = room if u in show_all else min(fanout, room)
            for v in fresh[:cap]:
                seen.add(v)
                order.append(v)
                queue.append(v)
            if len(fresh) > cap:
                skipped[(u, side)] = fresh[cap:]
    hidden = {k: n for k, vs in skipped.items() if (n := sum(v not in seen for v in vs))}
    kept = tuple((s, d) for s, d in dict.fromkeys(edges) if s in seen and d in seen)
    return Visible(tuple(order), kept, hidden)


def lineage_picture(
    start: int, nodes: dict[int, LineageNode], edges: Sequence[LineageEdge], *,
    expand_href: Callable[[LineageNode], str], more_href: Callable[[int], str],
    show_all: frozenset[int] = frozenset(), fanout: int = FANOUT, max_nodes: int = MAX_NODES,
) -> tuple[list[GraphNode], list[tuple[str, str]], Visible]:
    """Boxes and edges for ``render_svg``: a click on a node expands it, on "+N more" shows all."""
    vis = visible(start, list(nodes), [(e.src, e.dst) for e in edges], show_all=show_all, fanout=fanout,
                  max_nodes=max_nodes)
    boxes = [
        GraphNode(id=str(i), label=f"{nodes[i].name}@{nodes[i].version}", kind=nodes[i].kind,
                  href=expand_href(nodes[i]), title=f"{nodes[i].kind} {nodes[i].ref}", root=i == start)
        for i in vis.nodes
    ]
    lines = [(str(s), str(d)) for s, d in vis.edges]
    for (owner, side), count in vis.hidden.items():
        more_id = f"more-{side}-{owner}"
        boxes.append(GraphNode(id=more_id, label=f"+{count} more", kind="more", href=more_href(owner),
                               title=f"{count} more {'inputs' if side == 'up' else 'outputs'} of {nodes[owner].ref}"))
        lines.append((more_id, str(owner)) if side == "up" else (str(owner), more_id))
    return boxes, lines, vis
