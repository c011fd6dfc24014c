"""A planned search (one condition leads, the others are probed, or a walk newest first) selects
exactly what the plain filter selects, in the same order (model test, both backends)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault import api
from labvault.catalog import NewVersion
from labvault.catalog.filters import compile_node, parse
from labvault.catalog.schema import entities, versions
from labvault.catalog.search_plan import plan_condition
from labvault.catalog.store import Catalog

LEAVES = [
    "metrics.acc > 0.5", "metrics.acc <= 0.3", "metrics.acc = 0.7", "metrics.loss < 0.2",
    "params.lr <= 0.01", "params.lr > 0.001", "params.opt = adam", "params.opt != adam", "params.opt ~ 's*'",
    "tag = prod", "tag != prod", "tag ~ 'c*'", "alias = best", "alias != best",
    "created > 2026-01-10", "name ~ 'e1*'", "status = completed",
]


def _populate(cat: Catalog) -> None:
    rng = random.Random(7)
    items = []
    for i in range(60):
        kind = "run" if i % 3 else "model"
        metrics = {"acc": rng.choice([0.1, 0.3, 0.5, 0.7, 0.9])}
        if rng.random() < 0.5:
            metrics["loss"] = round(rng.random(), 2)
        params = {"lr": rng.choice([0.1, 0.01, 0.001, 0.0001])} if rng.random() < 0.8 else {}
        if rng.random() < 0.7:
            params["opt"] = rng.choice(["adam", "sgd", "sgdm"])
        tags = tuple(t for t in ("prod", "cand", "cold") if rng.random() < 0.3)
        items.append(NewVersion(kind, f"e{i % 4}" if kind == "run" else f"m{i % 5}", metrics=metrics,
                                params=params, tags=tags, status="completed" if rng.random() < 0.8 else "failed"))
    api.register_many(items, catalog_url=cat.url)
    with cat.engine.begin() as conn:  # spread creation times, with ties
        for vid in conn.execute(sa.select(versions.c.id)).scalars():
            conn.execute(sa.update(versions).where(versions.c.id == vid).values(
                created_at=datetime(2026, 1, 1) + timedelta(days=int(vid) % 20)))
    api.catalog_alias("model", "m1", "best", catalog_url=cat.url)
    api.catalog_alias("model", "m2", "best", catalog_url=cat.url)


def _ids(cat: Catalog, where: str, vkind: str, limit: int | None, cap: int | None) -> list[int]:
    tree = parse(where)
    with cat.read() as conn:
        cond = compile_node(tree, vkind) if cap is None else plan_condition(conn, tree, vkind, limit, cap)
        query = (sa.select(versions.c.id).join(entities, entities.c.id == versions.c.entity_id)
                 .where(versions.c.kind == vkind, cond).order_by(versions.c.created_at.desc(), versions.c.id.desc()))
        if limit is not None:
            query = query.limit(limit)
        return [int(i) for i in conn.execute(query).scalars()]


expressions = st.lists(st.sampled_from(LEAVES), min_size=1, max_size=4).flatmap(
    lambda leaves: st.sampled_from([
        " and ".join(leaves),
        " and ".join([*leaves[:-1], f"(not {leaves[-1]} or {leaves[0]})"]) if len(leaves) > 1 else leaves[0],
    ]))


def test_planned_search_selects_what_the_plain_filter_selects(cat: Catalog) -> None:
    _populate(cat)

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(where=expressions, vkind=st.sampled_from(["run", "model"]), limit=st.sampled_from([None, 3]),
           cap=st.sampled_from([1, 4, 1000]))
    def check(where: str, vkind: str, limit: int | None, cap: int) -> None:
        assert _ids(cat, where, vkind, limit, cap) == _ids(cat, where, vkind, limit, None), where

    check()
    # The searches the benchmark times, through the API, on this small catalog.
    found = api.catalog_search("runs", "params.lr <= 0.01 and metrics.acc > 0.5", catalog_url=cat.url)
    assert found and all(e.params["lr"] <= 0.01 and e.metrics["acc"] > 0.5 for e in found)
