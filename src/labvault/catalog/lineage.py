"""Lineage: what a version was made from (upstream) and what was made from it (downstream).

Both walks are one recursive query over ``edges`` (indexed ``(src, dst)`` and ``(dst, src)``),
bounded by ``depth``. ``render_tree`` draws the result as text, ``render_mermaid`` as a Mermaid graph.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from labvault.catalog.refs import kinds, resolve
from labvault.catalog.schema import edges, entities, versions
from labvault.catalog.store import Catalog
from labvault.catalog.types import Lineage, LineageEdge, LineageNode
from labvault.errors import CatalogError

MAX_DEPTH = 100


def _walk(conn: sa.Connection, start: int, upstream: bool, depth: int) -> list[tuple[int, int, str, int]]:
    """Edges reachable from ``start`` against (upstream) or along (downstream) their direction."""
    near = edges.c.dst_id if upstream else edges.c.src_id
    walk = (sa.select(edges.c.src_id, edges.c.dst_id, edges.c.relation, sa.literal(1).label("level"))
            .where(near == start).cte("walk", recursive=True))
    step_edges = sa.alias(edges, "e")
    step_near = step_edges.c.dst_id if upstream else step_edges.c.src_id
    frontier = walk.c.src_id if upstream else walk.c.dst_id
    step = (sa.select(step_edges.c.src_id, step_edges.c.dst_id, step_edges.c.relation, walk.c.level + 1)
            .join(walk, step_near == frontier).where(walk.c.level < depth))
    walk = walk.union(step)
    return [(int(s), int(d), str(r), int(lv)) for s, d, r, lv in conn.execute(sa.select(walk))]


def lineage_nodes(conn: sa.Connection, levels: dict[int, int]) -> tuple[LineageNode, ...]:
    """The nodes of the version ids in ``levels`` (id -> depth), by id; ids gone meanwhile are left out."""
    ids = sorted(levels)
    info: dict[int, tuple[str, str, str]] = {}
    for i in range(0, len(ids), 500):
        for vid, vkind, name, version in conn.execute(
            sa.select(versions.c.id, versions.c.kind, entities.c.name, versions.c.version)
            .join(entities, entities.c.id == versions.c.entity_id).where(versions.c.id.in_(ids[i:i + 500]))
        ):
            info[int(vid)] = (vkind, name, version)
    return tuple(LineageNode(vid, *info[vid], depth=levels[vid]) for vid in ids if vid in info)


def lineage(cat: Catalog, kind: str, ref: str, *, direction: str = "both", depth: int | None = None) -> Lineage:
    """The graph around ``ref`` up to ``depth`` edges away (``direction``: up, down or both)."""
    if direction not in ("up", "down", "both"):
        raise CatalogError(f"bad lineage direction {direction!r}", "use up, down or both")
    if depth is not None and depth < 1:
        raise CatalogError("--depth must be at least 1")
    limit = min(depth or MAX_DEPTH, MAX_DEPTH)
    with cat.read() as conn:
        root_id = resolve(conn, kinds(kind)[1], ref)
        found: list[tuple[int, int, str, int]] = []
        levels: dict[int, int] = {root_id: 0}
        if direction in ("up", "both"):
            for s, d, r, lv in _walk(conn, root_id, True, limit):
                found.append((s, d, r, lv))
                if s not in levels or (levels[s] < 0 and -lv > levels[s]):
                    levels[s] = -lv
        if direction in ("down", "both"):
            for s, d, r, lv in _walk(conn, root_id, False, limit):
                found.append((s, d, r, lv))
                if d not in levels or (levels[d] > 0 and lv < levels[d]):
                    levels[d] = lv
        nodes = lineage_nodes(conn, levels)
    root = next(n for n in nodes if n.id == root_id)
    unique = sorted({(s, d, r) for s, d, r, _ in found})
    return Lineage(root=root, nodes=nodes, edges=tuple(LineageEdge(s, d, r) for s, d, r in unique))


def _label(node: LineageNode) -> str:
    return f"{node.kind} {node.ref}"


def render_tree(graph: Lineage) -> str:
    """An ASCII tree: the start, then its upstream and downstream branches."""
    by_id = {n.id: n for n in graph.nodes}
    parents: dict[int, list[tuple[int, str]]] = defaultdict(list)
    children: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for e in graph.edges:
        parents[e.dst].append((e.src, e.relation))
        children[e.src].append((e.dst, e.relation))
    lines = [_label(graph.root)]

    def branch(node: int, links: dict[int, list[tuple[int, str]]], prefix: str, seen: frozenset[int]) -> None:
        items = sorted(links.get(node, []), key=lambda x: (by_id[x[0]].kind, by_id[x[0]].ref))
        for i, (other, relation) in enumerate(items):
            last = i == len(items) - 1
            again = " (cycle)" if other in seen else ""
            lines.append(f"{prefix}{'└── ' if last else '├── '}{_label(by_id[other])}  [{relation}]{again}")
            if not again:
                branch(other, links, prefix + ("    " if last else "│   "), seen | {other})

    sections = [(name, links) for name, links in (("upstream (made from)", parents), ("downstream (used by)", children))
                if links.get(graph.root.id)]
    if not sections:
        lines.append("└── (no lineage recorded)")
    for i, (title, links) in enumerate(sections):
        last = i == len(sections) - 1
        lines.append(f"{'└── ' if last else '├── '}{title}")
        branch(graph.root.id, links, "    " if last else "│   ", frozenset({graph.root.id}))
    return "\n".join(lines)


def render_mermaid(graph: Lineage) -> str:
    """A Mermaid flowchart (``graph LR``): data flows left to right."""
    shapes = {"dataset": ('[("', '")]'), "model": ('[["', '"]]'), "run": ('("', '")')}
    lines = ["graph LR"]
    for n in graph.nodes:
        left, right = shapes.get(n.kind, ('["', '"]'))
        text = _label(n).replace('"', "'")
        lines.append(f"    n{n.id}{left}{text}{right}")
    for e in graph.edges:
        lines.append(f"    n{e.src} -->|{e.relation}| n{e.dst}")
    lines.append(f"    style n{graph.root.id} stroke-width:3px")
    return "\n".join(lines)
