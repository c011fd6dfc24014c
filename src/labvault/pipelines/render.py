"""Drawing the stage graph (``labvault dag``) and plain text tables.

A drawing is made from ``nodes`` (labels, in definition order) and ``edges`` (upstream, downstream).
Three forms: boxes in layers joined by arrows (for a terminal), a Mermaid ``flowchart TD`` and a
Graphviz ``strict digraph``. Each weakly connected part (a pipeline) is drawn on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from labvault.pipelines.dag import Graph, paths_overlap

Edge = tuple[str, str]


@dataclass(frozen=True)
class DagView:
    nodes: tuple[str, ...]  # in definition order
    edges: tuple[Edge, ...]  # (upstream, downstream)

    def ascii(self) -> str:
        return ascii_dag(self)

    def mermaid(self, markdown: bool = False) -> str:
        return mermaid(self, markdown)

    def dot(self) -> str:
        return dot(self)


def stage_view(g: Graph) -> DagView:
    """Stages and ``.dvc`` files (as DVC draws them: ``data/data.xml.dvc -> prepare``); the
    ``.dvc`` files first, in path order, then the stages in definition order."""
    pointers = sorted(g.pointers)
    order = [*pointers, *g.stages]
    pos = {a: i for i, a in enumerate(order)}
    edges = [(p, d) for p in pointers for d in sorted(g.pointer_users[p], key=pos.__getitem__)]
    edges += [(u, d) for u in g.stages for d in sorted(g.downstream[u], key=pos.__getitem__)]
    return DagView(tuple(order), tuple(edges))


def outs_view(g: Graph) -> DagView:
    """Outputs as nodes (those of ``.dvc`` files too): ``x -> y`` when the stage writing ``y``
    depends on (a path overlapping) output ``x``."""
    tracked = [o for p in sorted(g.pointers) for o in g.pointers[p]]
    nodes: list[str] = [*tracked, *(o.rel for s in g.stages.values() for o in s.outs)]
    pos = {n: i for i, n in enumerate(nodes)}
    edges: set[Edge] = set()
    for s in g.stages.values():
        for d in s.deps:
            sources = [x for x in tracked if paths_overlap(x, d.rel)]
            for producer in g.producers_of(d.rel):
                if producer != s.address:
                    sources += [x.rel for x in g.stages[producer].outs if paths_overlap(x.rel, d.rel)]
            edges |= {(x, y.rel) for x in sources for y in s.outs}
    return DagView(tuple(nodes), tuple(sorted(edges, key=lambda e: (pos[e[0]], pos[e[1]]))))


def upstream_of(view: DagView, targets: Sequence[str]) -> DagView:
    """Only ``targets`` and the nodes they (transitively) depend on."""
    ups: dict[str, list[str]] = {n: [] for n in view.nodes}
    for u, d in view.edges:
        ups[d].append(u)
    keep = set(targets)
    stack = list(targets)
    while stack:
        for u in ups.get(stack.pop(), []):
            if u not in keep:
                keep.add(u)
                stack.append(u)
    return DagView(
        tuple(n for n in view.nodes if n in keep), tuple(e for e in view.edges if e[0] in keep and e[1] in keep)
    )


def components(view: DagView) -> list[DagView]:
    parent = {n: n for n in view.nodes}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for u, d in view.edges:
        parent[find(u)] = find(d)
    groups: dict[str, list[str]] = {}
    for n in view.nodes:
        groups.setdefault(find(n), []).append(n)
    parts = []
    for members in groups.values():
        m = set(members)
        parts.append(DagView(tuple(members), tuple(e for e in view.edges if e[0] in m)))
    return parts


# --- Mermaid and Graphviz ------------------------------------------------------------------------
def mermaid(view: DagView, markdown: bool = False) -> str:
    lines = ["flowchart TD"]
    count = 0
    for part in components(view):
        ids: dict[str, str] = {}
        for n in sorted(part.nodes):
            count += 1
            ids[n] = f"node{count}"
            lines.append(f'\t{ids[n]}["{n}"]')
        lines.extend(f"\t{ids[u]}-->{ids[d]}" for u, d in sorted(part.edges))
    text = "\n".join(lines)
    return f"```mermaid\n{text}\n```" if markdown else text


def _dot_id(label: str) -> str:
    return '"' + label.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(view: DagView) -> str:
    lines = ["strict digraph {"]
    lines += [f"{_dot_id(n)};" for n in view.nodes]
    lines += [f"{_dot_id(u)} -> {_dot_id(d)};" for u, d in view.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- boxes in layers -----------------------------------------------------------------------------
GAP = 3


@dataclass
class _Node:
    label: str
    dummy: bool
    layer: int
    x: int = 0  # left column

    @property
    def width(self) -> int:
        return 1 if self.dummy else len(self.label) + 4

    @property
    def center(self) -> int:
        return self.x + self.width // 2


def _layers(view: DagView) -> tuple[list[list[_Node]], list[tuple[_Node, _Node]]]:
    ups: dict[str, list[str]] = {n: [] for n in view.nodes}
    for u, d in view.edges:
        ups[d].append(u)
    depth: dict[str, int] = {}

    def level(n: str) -> int:
        if n not in depth:
            depth[n] = 0  # no cycles reach here: the graph was checked when it was built
            depth[n] = max((level(u) + 1 for u in ups[n]), default=0)
        return depth[n]

    nodes = {n: _Node(n, False, level(n)) for n in view.nodes}
    layers: list[list[_Node]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for n in view.nodes:
        layers[nodes[n].layer].append(nodes[n])
    links: list[tuple[_Node, _Node]] = []
    for u, d in view.edges:
        prev = nodes[u]
        for layer in range(prev.layer + 1, nodes[d].layer):
            dummy = _Node(f"{u}->{d}#{layer}", True, layer)
            layers[layer].append(dummy)
            links.append((prev, dummy))
            prev = dummy
        links.append((prev, nodes[d]))
    # order each layer by the mean position of what feeds it (two sweeps)
    for _ in range(2):
        for li in range(1, len(layers)):
            index = {id(n): i for layer in layers for i, n in enumerate(layer)}

            def weight(n: _Node, index: dict[int, int] = index) -> float:
                feeds = [index[id(a)] for a, b in links if b is n]
                return sum(feeds) / len(feeds) if feeds else float(index[id(n)])

            layers[li].sort(key=weight)
    return layers, links


def _place(layers: list[list[_Node]], links: list[tuple[_Node, _Node]]) -> int:
    """Columns: the first layer packed; each node below centred under what feeds it, pushed right
    only as far as its left neighbour needs. Returns the width of the drawing."""
    for li, layer in enumerate(layers):
        right = None
        for n in layer:
            feeds = [a.center for a, b in links if b is n]
            wanted = round(sum(feeds) / len(feeds)) - n.width // 2 if li and feeds else (right or 0)
            n.x = wanted if right is None else max(wanted, right)
            right = n.x + n.width + GAP
    left = min((n.x for layer in layers for n in layer), default=0)
    for layer in layers:
        for n in layer:
            n.x -= left
    return max((n.x + n.width for layer in layers for n in layer), default=0)


def _band(width: int, pairs: list[tuple[int, int, bool]]) -> list[list[str]]:
    """Rows joining sources (x1) to targets (x2); ``arrow`` marks a real target."""
    tracks: list[list[tuple[int, int, int, int]]] = []
    placed: list[tuple[int, int, int, bool]] = []  # x1, x2, track, arrow
    for x1, x2, arrow in sorted(pairs, key=lambda p: (min(p[0], p[1]), max(p[0], p[1]))):
        if x1 == x2:
            placed.append((x1, x2, -1, arrow))
            continue
        lo, hi = min(x1, x2), max(x1, x2)
        for t, used in enumerate(tracks):
            if all(hi + 1 < a or lo - 1 > b or s == x1 or e == x2 for a, b, s, e in used):
                used.append((lo, hi, x1, x2))
                placed.append((x1, x2, t, arrow))
                break
        else:
            tracks.append([(lo, hi, x1, x2)])
            placed.append((x1, x2, len(tracks) - 1, arrow))
    height = len(tracks) + 2
    rows = [[" "] * width for _ in range(height)]
    for x1, x2, t, _ in placed:
        turn = t + 1
        for r in range(0, height - 1):
            if x1 == x2 or r <= turn:
                rows[r][x1] = "|"
            if x1 != x2 and r >= turn:
                rows[r][x2] = "|"
    for x1, x2, t, _ in placed:
        if x1 == x2:
            continue
        r = t + 1
        lo, hi = min(x1, x2), max(x1, x2)
        for c in range(lo + 1, hi):
            if rows[r][c] == " ":
                rows[r][c] = "-"
        rows[r][x1] = rows[r][x2] = "+"
    for _, x2, _, arrow in placed:
        rows[height - 1][x2] = "v" if arrow else "|"
    return rows


def ascii_dag(view: DagView) -> str:
    """Boxes, one layer of stages per row, with arrows from each stage to those that need it."""
    drawings = []
    for part in components(view):
        layers, links = _layers(part)
        width = _place(layers, links)
        canvas: list[list[str]] = []
        for li, layer in enumerate(layers):
            box = [[" "] * width for _ in range(3)]
            for n in layer:
                if n.dummy:
                    for row in box:
                        row[n.x] = "|"
                    continue
                edge = "+" + "-" * (n.width - 2) + "+"
                box[0][n.x : n.x + n.width] = list(edge)
                box[1][n.x : n.x + n.width] = list(f"| {n.label} |")
                box[2][n.x : n.x + n.width] = list(edge)
            canvas += box
            below = [(a.center, b.center, not b.dummy) for a, b in links if a.layer == li]
            if below:
                canvas += _band(width, below)
        drawings.append("\n".join("".join(row).rstrip() for row in canvas))
    return "\n\n".join(drawings)


# --- tables --------------------------------------------------------------------------------------
def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart, each at least two wider than its header, like DVC's
    plain tables."""
    widths = [max([len(h) + 2, *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in [headers, *rows]]
    return "\n".join(lines)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(h), 3, *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    return "\n".join(out) + "\n"
