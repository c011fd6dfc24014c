"""Lineage over a generated graph, checked against a breadth-first walk done in Python."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from labvault import api
from labvault.catalog import NewVersion
from labvault.errors import CatalogError


def _build(url: str, seed: int = 7) -> dict[str, set[str]]:
    """Layers of datasets joined by runs: raw -> run -> prepared -> run -> features -> run -> model.
    Returns the expected downstream adjacency between 'kind:name@version' refs."""
    rng = random.Random(seed)
    down: dict[str, set[str]] = defaultdict(set)
    api.register_many([NewVersion("dataset", f"raw{i}", content_hash=f"raw{i}") for i in range(6)], catalog_url=url)
    previous = [f"raw{i}" for i in range(6)]
    for layer, kind in (("prep", "dataset"), ("feat", "dataset"), ("model", "model")):
        made = []
        for j in range(4):
            inputs = rng.sample(previous, 2)
            out = (f"models/{layer}{j}.pth" if kind == "model" else f"data/{layer}{j}", f"{layer}{j}", kind)
            hashes = [i.split("/")[-1].removesuffix(".pth") if "/" in i else i for i in inputs]
            run = api.record_run("pipeline", f"make_{layer}", {"j": j}, {}, "completed", None, None, "rev",
                                 hashes, [out], catalog_url=url)
            out_ref = f"{kind}:{out[0]}@1"
            for i in inputs:
                src_kind = "dataset"
                down[f"{src_kind}:{i}@1"].add(f"run:{run.ref}")
            down[f"run:{run.ref}"].add(out_ref)
            made.append(out[0])
        previous = made
    return down


def _bfs(start: str, adj: dict[str, set[str]], depth: int) -> set[str]:
    seen, frontier = set(), {start}
    for _ in range(depth):
        frontier = {n for f in frontier for n in adj.get(f, ())} - seen - {start}
        seen |= frontier
    return seen


def _refs(graph: api.Lineage, sign: int) -> set[str]:
    return {f"{n.kind}:{n.ref}" for n in graph.nodes if n.depth * sign > 0}


def test_lineage_matches_a_python_walk(catalog_url: str) -> None:
    down = _build(catalog_url)
    up: dict[str, set[str]] = defaultdict(set)
    for src, dsts in down.items():
        for d in dsts:
            up[d].add(src)
    model = "model:models/model0.pth@1"
    for depth in (1, 2, 5, 6):
        g = api.catalog_lineage("model", "models/model0.pth@1", direction="up", depth=depth, catalog_url=catalog_url)
        assert _refs(g, -1) == _bfs(model, up, depth)
        assert all(n.depth >= -depth for n in g.nodes)
    raw = "dataset:raw0@1"
    g = api.catalog_lineage("dataset", "raw0", direction="down", catalog_url=catalog_url)
    assert _refs(g, 1) == _bfs(raw, down, 100)
    both = api.catalog_lineage("dataset", "data/feat1", depth=2, catalog_url=catalog_url)
    assert _refs(both, -1) == _bfs("dataset:data/feat1@1", up, 2)
    assert _refs(both, 1) == _bfs("dataset:data/feat1@1", down, 2)
    assert both.root.ref == "data/feat1@1" and both.root.depth == 0


def test_tree_and_mermaid_rendering(catalog_url: str) -> None:
    api.catalog_register_dataset("sentiment_dataset", version="v1.0", catalog_url=catalog_url)
    api.catalog_register_model("sentiment_classifier", datasets=["sentiment_dataset@v1.0"], catalog_url=catalog_url)
    api.catalog_register_run("eval", inputs=["model:sentiment_classifier@1"], catalog_url=catalog_url)
    g = api.catalog_lineage("model", "sentiment_classifier", catalog_url=catalog_url)
    assert api.catalog_render_lineage(g) == "\n".join([
        "model sentiment_classifier@1",
        "├── upstream (made from)",
        "│   └── dataset sentiment_dataset@v1.0  [trained_on]",
        "└── downstream (used by)",
        "    └── run eval@1  [input]",
    ])
    mermaid = api.catalog_render_lineage(g, "mermaid")
    assert mermaid.startswith("graph LR\n")
    assert mermaid.count("-->|") == 2 and 'sentiment_dataset@v1.0")]' in mermaid


def test_cycles_and_bad_depth_are_handled(catalog_url: str) -> None:
    api.catalog_register_dataset("a", catalog_url=catalog_url)
    api.catalog_register_run("loop", inputs=["a@1"], outputs=[("dataset", "a@1")], catalog_url=catalog_url)
    g = api.catalog_lineage("dataset", "a", catalog_url=catalog_url)
    assert {n.ref for n in g.nodes} == {"a@1", "loop@1"}
    assert "(cycle)" in api.catalog_render_lineage(g)
    with pytest.raises(CatalogError, match="depth"):
        api.catalog_lineage("dataset", "a", depth=0, catalog_url=catalog_url)
