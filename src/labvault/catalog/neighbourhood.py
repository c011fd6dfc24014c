"""The lineage neighbourhood of one version: what a lineage page draws, bounded in depth and nodes.

Unlike ``lineage.lineage`` (every path up to ``depth``, one recursive query per direction, however
many nodes that reaches), this is a breadth-first walk, one level at a time, up, down or both: each level is one indexed query per
direction over the frontier (``edges`` primary key ``(src, dst)`` downstream, ``ix_edges_dst_src``
upstream), reading at most ``EDGE_FACTOR * max_nodes`` edges. A node is added while fewer than
``max_nodes`` are known; past that, the walk stops and the result says it was cut
(``truncated``), so a page can offer to expand further from any node. The work is at most
``2 * depth`` queries over ``EDGE_FACTOR * max_nodes`` edges each, whatever the catalog's size.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from labvault.catalog.lineage import lineage_nodes
from labvault.catalog.refs import kinds, resolve
from labvault.catalog.schema import edges
from labvault.catalog.store import Catalog
from labvault.catalog.types import Lineage, LineageEdge
from labvault.errors import CatalogError

DEPTH_DEFAULT = 3
DEPTH_MAX = 10
NODES_DEFAULT = 500
NODES_MAX = 2_000
EDGE_FACTOR = 4
CHUNK = 500


@dataclass(frozen=True)
class Neighbourhood:
    graph: Lineage
    truncated: bool  # nodes beyond ``max_nodes`` were left out (the farthest first)


def _step(conn: sa.Connection, frontier: list[int], upstream: bool, room: int) -> tuple[list[tuple[int, int, str]], bool]:
    """Edges touching ``frontier`` on its upstream or downstream side, at most ``room``; and
    whether there were more."""
    near = edges.c.dst_id if upstream else edges.c.src_id
    found: list[tuple[int, int, str]] = []
    for i in range(0, len(frontier), CHUNK):
        rows = conn.execute(sa.select(edges.c.src_id, edges.c.dst_id, edges.c.relation)
                            .where(near.in_(frontier[i:i + CHUNK])).limit(room - len(found) + 1)).all()
        found += [(int(s), int(d), str(r)) for s, d, r in rows]
        if len(found) > room:
            return found[:room], True
    return found, False


def neighbourhood(cat: Catalog, kind: str, ref: str, *, direction: str = "both", depth: int = DEPTH_DEFAULT,
                  max_nodes: int = NODES_DEFAULT) -> Neighbourhood:
    """The graph around ``ref`` up to ``depth`` edges away (``direction``: up, down or both), at most
    ``max_nodes`` nodes, the nearest levels first."""
    if direction not in ("up", "down", "both"):
        raise CatalogError(f"bad lineage direction {direction!r}", "use up, down or both")
    if not 1 <= depth <= DEPTH_MAX:
        raise CatalogError(f"lineage depth {depth} is out of range", f"use 1 to {DEPTH_MAX}")
    if not 1 <= max_nodes <= NODES_MAX:
        raise CatalogError(f"lineage node cap {max_nodes} is out of range", f"use 1 to {NODES_MAX}")
    with cat.read() as conn:
        root_id = resolve(conn, kinds(kind)[1], ref)
        levels: dict[int, int] = {root_id: 0}
        kept: set[tuple[int, int, str]] = set()
        frontiers = {True: [root_id] if direction != "down" else [], False: [root_id] if direction != "up" else []}
        truncated = False
        for level in range(1, depth + 1):
            for upstream in (True, False):
                if not frontiers[upstream]:
                    continue
                found, more = _step(conn, frontiers[upstream], upstream, EDGE_FACTOR * max_nodes)
                truncated |= more
                nxt: list[int] = []
                for s, d, r in found:
                    other = s if upstream else d
                    if other not in levels:
                        if len(levels) >= max_nodes:
                            truncated = True
                            continue
                        levels[other] = -level if upstream else level
                        nxt.append(other)
                    kept.add((s, d, r))
                frontiers[upstream] = nxt
        nodes = lineage_nodes(conn, levels)
    root = next(n for n in nodes if n.id == root_id)
    graph = Lineage(root=root, nodes=nodes, edges=tuple(LineageEdge(*e) for e in sorted(kept)))
    return Neighbourhood(graph, truncated)
