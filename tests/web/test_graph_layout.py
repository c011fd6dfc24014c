"""The server-side graph layout and its SVG: layers, crossings, collapsed fan-out, escaping."""

from __future__ import annotations

import itertools
import random
import re
import xml.etree.ElementTree as ET

from labvault.catalog.types import LineageEdge, LineageNode
from labvault.web.graph_layout import layout
from labvault.web.graph_svg import GraphNode, render_svg
from labvault.web.graph_view import lineage_picture, visible


def _crossings(lay, edges):
    """Pairs of single-layer edges that cross between the same two layers."""
    segs = [(lay.positions[u], lay.positions[v]) for u, v in edges]
    n = 0
    for (a1, a2), (b1, b2) in itertools.combinations(segs, 2):
        if a1.x == b1.x and a2.x == b2.x and (a1.y - b1.y) * (a2.y - b2.y) < 0:
            n += 1
    return n


def test_longest_path_layers_and_edge_direction() -> None:
    edges = [("a", "b"), ("b", "c"), ("a", "c"), ("c", "d")]
    lay = layout(["a", "b", "c", "d"], edges)
    xs = {n: p.x for n, p in lay.positions.items()}
    assert xs["a"] < xs["b"] < xs["c"] < xs["d"]
    assert lay.layers == 4
    long_edge = next(pts for u, v, pts in lay.routes if (u, v) == ("a", "c"))
    assert len(long_edge) == 3  # one bend point in b's layer
    assert {(u, v) for u, v, _ in lay.routes} == set(edges)


def test_cycle_does_not_loop_and_keeps_real_direction() -> None:
    lay = layout(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a"), ("a", "a")])
    assert {(u, v) for u, v, _ in lay.routes} == {("a", "b"), ("b", "c"), ("c", "a")}
    back = next(pts for u, v, pts in lay.routes if (u, v) == ("c", "a"))
    assert back[0] == lay.positions["c"] and back[-1] == lay.positions["a"]


def test_barycentre_sweeps_remove_crossings_of_a_shuffled_ladder() -> None:
    left = [f"l{i}" for i in range(12)]
    right = [f"r{i}" for i in range(12)]
    shuffled = right[:]
    random.Random(4).shuffle(shuffled)
    edges = [(f"l{i}", f"r{i}") for i in range(12)]
    lay = layout(left + shuffled, edges)
    assert _crossings(lay, edges) == 0
    # and the result does not depend on luck: the same input, the same picture
    assert layout(left + shuffled, edges) == lay


def test_no_two_nodes_share_a_place_at_500_nodes() -> None:
    rnd = random.Random(7)
    nodes = list(range(500))
    edges = [(rnd.randrange(0, i), i) for i in range(1, 500)] + [(rnd.randrange(0, 250), rnd.randrange(250, 500))
                                                                  for _ in range(200)]
    lay = layout(nodes, edges)
    assert len({(p.x, p.y) for p in lay.positions.values()}) == 500
    for u, v, pts in lay.routes:
        assert pts[0] == lay.positions[u] and pts[-1] == lay.positions[v]
        assert all(b.x > a.x for a, b in itertools.pairwise(pts))  # every edge runs left to right


def _star(n: int) -> tuple[dict[int, LineageNode], list[LineageEdge]]:
    nodes = {0: LineageNode(0, "dataset", "raw", "1", 0)}
    edges = []
    for i in range(1, n + 1):
        nodes[i] = LineageNode(i, "run", "train", str(i), 1)
        edges.append(LineageEdge(0, i, "input"))
    return nodes, edges


def test_wide_fanout_is_collapsed_into_a_more_box_until_shown_in_full() -> None:
    nodes, edges = _star(60)
    boxes, lines, vis = lineage_picture(0, nodes, edges, expand_href=lambda n: f"/x/{n.id}",
                                        more_href=lambda i: f"/all/{i}", fanout=25)
    assert len(vis.nodes) == 26 and vis.hidden == {(0, "down"): 35}
    more = [b for b in boxes if b.kind == "more"]
    assert [(m.label, m.href) for m in more] == [("+35 more", "/all/0")]
    assert ("0", more[0].id) in lines
    _, _, everything = lineage_picture(0, nodes, edges, expand_href=lambda n: "", more_href=lambda i: "",
                                       show_all=frozenset({0}), fanout=25)
    assert len(everything.nodes) == 61 and everything.hidden == {}


def test_node_cap_counts_what_it_cuts() -> None:
    ids = list(range(100))
    edges = [(i, i + 1) for i in range(99)]
    vis = visible(0, ids, edges, max_nodes=40)
    assert len(vis.nodes) == 40 and vis.hidden == {(39, "down"): 1}


def test_svg_is_well_formed_escaped_and_linked() -> None:
    boxes = [GraphNode("1", "<script>alert(1)</script>&co", "dataset", href="/l?a=1&b=2", root=True),
             GraphNode("2", "m" * 80, "model")]
    svg = render_svg(boxes, [("1", "2")])
    tree = ET.fromstring(svg)  # parses: everything escaped
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in tree.iter(f"{ns}text")]
    assert texts[0] == "<script>alert(1)</script>&co"
    assert texts[1] is not None and len(texts[1]) == 30
    assert [a.get("href") for a in tree.iter(f"{ns}a")] == ["/l?a=1&b=2"]
    assert "<script>" not in svg
    assert len(re.findall(r'class="node ', svg)) == 2 and 'class="node dataset root"' in svg


def test_nodes_sit_level_with_their_neighbours_a_row_apart() -> None:
    edges = [("hub", f"p{i}") for i in range(3)] + [(f"p{i}", f"t{i}{j}") for i in range(3) for j in range(5)]
    nodes = ["hub", *[f"p{i}" for i in range(3)], *[f"t{i}{j}" for i in range(3) for j in range(5)]]
    lay = layout(nodes, edges, row_gap=34.0)
    y = {n: p.y for n, p in lay.positions.items()}
    for i in range(3):  # each part level with the middle of its five outputs
        assert abs(y[f"p{i}"] - sum(y[f"t{i}{j}"] for j in range(5)) / 5) < 1e-6
    parts = sorted(y[f"p{i}"] for i in range(3))
    assert all(b - a >= 34.0 - 1e-6 for a, b in itertools.pairwise(parts))
    assert abs(y["hub"] - sum(parts) / 3) < 1e-6
    assert min(y.values()) == 0.0 and lay.height == max(y.values())


def test_a_tall_layer_wraps_into_sub_columns_of_a_screens_shape() -> None:
    """hub -> 30 parts -> 15 runs each (481 nodes): the runs' layer wraps, the picture is about
    as wide as a screen's shape, and no two boxes of a sub-column come closer than a row."""
    parts = [f"p{i}" for i in range(30)]
    runs = [f"r{i}-{j}" for i in range(30) for j in range(15)]
    edges = [("hub", p) for p in parts] + [(f"p{i}", f"r{i}-{j}") for i in range(30) for j in range(15)]
    lay = layout(["hub", *parts, *runs], edges, layer_gap=260.0, row_gap=34.0, sub_gap=220.0)
    run_columns = sorted({lay.positions[r].x for r in runs})
    assert len(run_columns) > 1 and min(run_columns) > max(lay.positions[p].x for p in parts)
    assert all(b - a == 220.0 for a, b in itertools.pairwise(run_columns))
    assert 1.0 <= lay.width / lay.height <= 2.5, (lay.width, lay.height)
    unwrapped = 34.0 * (len(runs) - 1)
    assert lay.height < unwrapped / 4
    by_column: dict[float, list[float]] = {}
    for p in lay.positions.values():
        by_column.setdefault(p.x, []).append(p.y)
    for ys in by_column.values():
        ys.sort()
        assert all(b - a >= 34.0 - 1e-6 for a, b in itertools.pairwise(ys))
    for _, _, pts in lay.routes:
        assert all(b.x > a.x for a, b in itertools.pairwise(pts))
    # a part still sits level with the middle of its runs
    for i in (0, 14, 29):
        mean = sum(lay.positions[f"r{i}-{j}"].y for j in range(15)) / 15
        assert abs(lay.positions[f"p{i}"].y - mean) < 34.0 * 3
