"""A layered (Sugiyama-style) layout for the dashboard's graphs: lineage and pipeline DAGs.

The layout runs on the server, so the browser only draws finished SVG. Steps, each linear or
near-linear in the size of the graph:

1. cycles are broken by reversing the back edges of a depth-first search (catalog lineage and
   pipelines are acyclic; this only keeps a corrupt graph from looping);
2. longest-path layering: a node sits one layer right of its deepest predecessor;
3. an edge spanning several layers gets one dummy point per layer crossed, so it bends around nodes;
4. crossings are reduced by barycentre sweeps: alternately left-to-right and right-to-left, each
   layer is re-sorted by the mean position of its neighbours in the layer just placed (ties keep
   their order, so the result is deterministic);
5. coordinates: layers are columns; within a column nodes keep their order, first packed and
   centred, then four passes (alternately left-to-right and right-to-left) move each node level
   with the mean of its neighbours in the column just placed, pushing nodes apart to keep them a
   row apart and shifting the column so that on average each node sits where its neighbours want it;
6. tall layers wrap: a layer of more than ``rows_cap`` nodes is drawn as k side-by-side sub-columns,
   its nodes dealt out in order (node j in sub-column j mod k), so step 5 packs them 1/k of a row
   apart and each sub-column still has a full row between its boxes. The cap is chosen so that the
   whole picture is about ``ASPECT`` times as wide as it is tall (at least ``MIN_ROWS`` rows), so a
   500-node neighbourhood fits a screen's shape instead of a column thousands of rows tall.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

SWEEPS = 6  # barycentre passes (3 each way); more rarely removes further crossings on lab graphs
ALIGN_PASSES = 4  # coordinate passes (2 each way) pulling nodes level with their neighbours
ASPECT = 1.6  # width / height a wrapped picture aims at (a screen's shape)
MIN_ROWS = 20  # a layer of at most this many nodes never wraps


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Layout:
    """Where each node goes (its centre) and the polyline of each edge, in layout units."""

    positions: dict[Hashable, Point]
    routes: tuple[tuple[Hashable, Hashable, tuple[Point, ...]], ...]
    width: float
    height: float
    layers: int


def _acyclic(nodes: Sequence[Hashable], edges: Sequence[tuple[Hashable, Hashable]]) -> list[tuple[Hashable, Hashable]]:
    """``edges`` with every back edge of an iterative depth-first search reversed (self-loops dropped)."""
    succ: dict[Hashable, list[Hashable]] = {n: [] for n in nodes}
    for u, v in edges:
        if u != v:
            succ[u].append(v)
    state: dict[Hashable, int] = {}  # 1: on the stack, 2: done
    back: set[tuple[Hashable, Hashable]] = set()
    for start in nodes:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(succ[start]))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
    return [(v, u) if (u, v) in back else (u, v) for u, v in edges if u != v]


def _layers(nodes: Sequence[Hashable], edges: Sequence[tuple[Hashable, Hashable]]) -> dict[Hashable, int]:
    """Longest-path layering (Kahn's order): sources in layer 0."""
    indeg = {n: 0 for n in nodes}
    succ: dict[Hashable, list[Hashable]] = {n: [] for n in nodes}
    for u, v in edges:
        succ[u].append(v)
        indeg[v] += 1
    layer = {n: 0 for n in nodes}
    ready = [n for n in nodes if indeg[n] == 0]
    while ready:
        u = ready.pop()
        for v in succ[u]:
            layer[v] = max(layer[v], layer[u] + 1)
            indeg[v] -= 1
            if indeg[v] == 0:
                ready.append(v)
    return layer


def _sweep(rows: list[list[Hashable]], adj_prev: dict[Hashable, list[Hashable]], order: range) -> None:
    """Re-sort each layer in ``order`` by the barycentre of its neighbours in the previous layer."""
    for i in order:
        prev = rows[i - 1] if order.step > 0 else rows[i + 1]
        pos = {n: k for k, n in enumerate(prev)}
        keyed = []
        for k, n in enumerate(rows[i]):
            near = [pos[m] for m in adj_prev.get(n, ()) if m in pos]
            keyed.append((sum(near) / len(near) if near else float(k), k, n))
        keyed.sort(key=lambda t: (t[0], t[1]))
        rows[i] = [n for _, _, n in keyed]


def _align(row: list[Hashable], near: dict[Hashable, list[Hashable]], ys: dict[Hashable, float], gap: float) -> None:
    """Move each node of ``row`` level with the mean of its ``near`` neighbours, keeping the row's
    order and at least ``gap`` between nodes: pushed apart downwards, then the whole row shifted
    back so that on average the nodes sit where their neighbours want them."""
    if not row:
        return
    want = [sum(ys[m] for m in near[n]) / len(near[n]) if near.get(n) else ys[n] for n in row]
    placed = [want[0]]
    for w in want[1:]:
        placed.append(max(w, placed[-1] + gap))
    shift = sum(w - p for w, p in zip(want, placed, strict=True)) / len(row)
    for n, p in zip(row, placed, strict=True):
        ys[n] = p + shift


def rows_cap(points: int, *, sub_gap: float, row_gap: float) -> int:
    """The rows a layer may have before it wraps: ``points`` nodes (dummies included) in a block
    about ``ASPECT`` times as wide as tall, were they all in one layer."""
    return max(MIN_ROWS, math.ceil(math.sqrt(points * sub_gap / (ASPECT * row_gap))))


def layout(
    nodes: Sequence[Hashable], edges: Sequence[tuple[Hashable, Hashable]], *,
    layer_gap: float = 260.0, row_gap: float = 34.0, sub_gap: float = 220.0,
) -> Layout:
    """Lay out ``nodes`` (in a stable preferred order) joined by ``edges`` (src, dst) left to right;
    a tall layer wraps into sub-columns ``sub_gap`` apart.

    Edges naming unknown nodes are ignored; duplicate edges are drawn once."""
    known = set(nodes)
    uniq = list(dict.fromkeys((u, v) for u, v in edges if u in known and v in known))
    dag = _acyclic(nodes, uniq)
    layer = _layers(nodes, dag)
    nlayers = max(layer.values(), default=-1) + 1
    rows: list[list[Hashable]] = [[] for _ in range(nlayers)]
    for n in nodes:
        rows[layer[n]].append(n)
    # Dummy points: an edge u -> v spanning k > 1 layers becomes a chain through k - 1 dummies.
    chains: list[tuple[Hashable, Hashable, list[Hashable]]] = []
    left: dict[Hashable, list[Hashable]] = {}  # neighbours one layer to the left
    right: dict[Hashable, list[Hashable]] = {}
    for idx, (u, v) in enumerate(dag):
        chain: list[Hashable] = [u]
        for lay in range(layer[u] + 1, layer[v]):
            dummy = ("~", idx, lay)
            rows[lay].append(dummy)
            chain.append(dummy)
        chain.append(v)
        for a, b in itertools.pairwise(chain):
            right.setdefault(a, []).append(b)
            left.setdefault(b, []).append(a)
        chains.append((u, v, chain))
    for s in range(SWEEPS):
        if s % 2 == 0:
            _sweep(rows, left, range(1, nlayers))
        else:
            _sweep(rows, right, range(nlayers - 2, -1, -1))
    cap = rows_cap(sum(len(r) for r in rows), sub_gap=sub_gap, row_gap=row_gap)
    subs = [max(1, math.ceil(len(r) / cap)) for r in rows]  # sub-columns of each layer
    gaps = [row_gap / k for k in subs]  # a wrapped layer's nodes are dealt 1/k of a row apart
    tallest = max((len(r) * g for r, g in zip(rows, gaps, strict=True)), default=0.0)
    ys: dict[Hashable, float] = {}
    for row, g in zip(rows, gaps, strict=True):
        offset = (tallest - len(row) * g) / 2
        ys.update((n, offset + k * g) for k, n in enumerate(row))
    for s in range(ALIGN_PASSES):
        if s % 2 == 0:
            for i in range(1, nlayers):
                _align(rows[i], left, ys, gaps[i])
        else:
            for i in range(nlayers - 2, -1, -1):
                _align(rows[i], right, ys, gaps[i])
    top = min(ys.values(), default=0.0)
    xs = list(itertools.accumulate((layer_gap + (k - 1) * sub_gap for k in subs[:-1]), initial=0.0))
    pos = {n: Point(xs[i] + (j % subs[i]) * sub_gap, ys[n] - top)
           for i, row in enumerate(rows) for j, n in enumerate(row)}
    tallest_y = max((p.y for p in pos.values()), default=0.0)
    given = set(uniq)
    reversed_edges = {(u, v) for u, v in dag if (u, v) not in given}
    routes = []
    for u, v, chain in chains:
        pts = tuple(pos[c] for c in chain)
        if (u, v) in reversed_edges:  # drawn in its real direction
            routes.append((v, u, pts[::-1]))
        else:
            routes.append((u, v, pts))
    return Layout(
        positions={n: pos[n] for n in nodes},
        routes=tuple(routes),
        width=xs[-1] + (subs[-1] - 1) * sub_gap if rows else 0.0,
        height=tallest_y,
        layers=nlayers,
    )
