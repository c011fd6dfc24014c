"""Keyset pages (catalog/browse.py): the pages of any list, concatenated, are that whole list in
order, whichever plan finds them (one name's versions, a set read first, or a walk newest first);
versions registered between two fetches never make a page repeat a version; the counts that pick
a plan, remembered across pages (``browse._SIZES``), never change a page, however wrong they are.
Model test on random catalogs, both backends."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault import api
from labvault.api.browse import browse
from labvault.catalog import NewVersion
from labvault.catalog import browse as browse_mod
from labvault.catalog.browse import PageKey, VersionFilter, page_rows
from labvault.catalog.filters import compile_filter
from labvault.catalog.schema import entities, tags, versions
from labvault.catalog.store import Catalog
from labvault.errors import UsageError

NAMES = {"dataset": ["raw/a", "raw/ab", "img/x"], "model": ["clf", "clf2", "gen"], "run": ["e1", "e2", "f1"]}
BASE = datetime(2025, 3, 1)

version = st.tuples(st.sampled_from(["dataset", "model", "run"]), st.integers(0, 2), st.integers(0, 5),
                    st.sets(st.sampled_from(["prod", "cand"])), st.sampled_from([0.1, 0.5, 0.9]))
catalogs = st.lists(version, min_size=2, max_size=25)
queries = st.fixed_dictionaries({
    "vkind": st.sampled_from(["dataset", "model", "run"]),
    "latest": st.booleans(),
    "prefix": st.sampled_from([None, None, None, "raw/a", "c", "e", "zz"]),
    "tag": st.sampled_from([None, None, "prod"]),
    "where": st.sampled_from([None, None, None, "metrics.acc > 0.3", "metrics.acc <= 0.5 and tag = cand",
                              "name ~ '*1'"]),
    "name": st.sampled_from([None, None, "e1", "clf"]),
    "limit": st.integers(1, 4),
})
CAPS = (1, 2, 1000)  # 1: nothing leads (a walk), 2: small sets lead, 1000: the smallest set leads


def _fill(cat: Catalog, spec: list[tuple[str, int, int, set[str], float]]) -> None:
    with cat.engine.begin() as conn:
        conn.execute(sa.delete(versions))
        conn.execute(sa.delete(entities))
    items = [NewVersion(kind, NAMES[kind][n], metrics={"acc": acc}, tags=tuple(sorted(tg)))
             for kind, n, _day, tg, acc in spec]
    api.register_many(items, catalog_url=cat.url)
    with cat.engine.begin() as conn:  # creation times with ties, not in id order
        ids = sorted(conn.execute(sa.select(versions.c.id)).scalars())
        for vid, (_k, _n, day, _t, _a) in zip(ids, spec, strict=True):
            conn.execute(sa.update(versions).where(versions.c.id == vid).values(created_at=BASE + timedelta(days=day)))


def _expected(cat: Catalog, q: dict[str, Any]) -> list[int]:
    """The whole list, by a plain reading: every row, filtered and ordered in Python."""
    with cat.read() as conn:
        rows = conn.execute(sa.select(versions.c.id, versions.c.entity_id, versions.c.seq, versions.c.created_at,
                                      entities.c.name).join(entities, entities.c.id == versions.c.entity_id)
                            .where(versions.c.kind == q["vkind"])).all()
        conds = [compile_filter(q["where"], q["vkind"])] if q["where"] else []
        if q["tag"]:
            conds.append(versions.c.id.in_(sa.select(tags.c.version_id).where(tags.c.tag == q["tag"])))
        allowed = set(conn.execute(sa.select(versions.c.id).join(entities, entities.c.id == versions.c.entity_id)
                                   .where(*conds)).scalars())
    newest: dict[int, int] = {}
    for r in rows:
        newest[r.entity_id] = max(newest.get(r.entity_id, 0), r.seq)
    kept = [r for r in rows if r.id in allowed
            and (not q["latest"] or q["vkind"] == "run" or newest[r.entity_id] == r.seq)
            and (q["prefix"] is None or r.name.startswith(q["prefix"]))
            and (q["name"] is None or r.name == q["name"])]
    return [r.id for r in sorted(kept, key=lambda r: (r.created_at, r.id), reverse=True)]


def _pages(cat: Catalog, q: dict[str, Any], cap: int, between: Any = None) -> list[list[int]]:
    f = VersionFilter(q["vkind"], name=q["name"], name_prefix=q["prefix"], tag=q["tag"], where=q["where"],
                      latest=q["latest"])
    pages: list[list[int]] = []
    after = None
    while True:
        with cat.read() as conn:
            rows = page_rows(conn, f, q["limit"], after, cap=cap)
        ids = [i for i, _ in rows[:q["limit"]]]
        after = PageKey(rows[q["limit"] - 1][1], rows[q["limit"] - 1][0]) if len(rows) > q["limit"] else None
        pages.append(ids)
        assert len(pages) <= 60, "the key does not lead on"
        if after is None:
            return pages
        if between is not None:
            between()


def test_pages_concatenated_are_the_whole_list(cat: Catalog) -> None:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(spec=catalogs, q=queries)
    def check(spec: list[tuple[str, int, int, set[str], float]], q: dict[str, Any]) -> None:
        _fill(cat, spec)
        whole = _expected(cat, q)
        for cap in CAPS:
            browse_mod.forget_sizes()
            assert [i for page in _pages(cat, q, cap) for i in page] == whole, (q, cap)
            for planted in (0, 1, cap - 1, cap):  # remembered counts, however wrong, only pick the plan
                with browse_mod._sizes_lock:
                    for key, (when, _) in list(browse_mod._SIZES.items()):
                        browse_mod._SIZES[key] = (when, max(planted, 0))
                assert [i for page in _pages(cat, q, cap) for i in page] == whole, (q, cap, planted)

    check()


def test_registering_between_fetches_never_repeats(cat: Catalog) -> None:
    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(spec=catalogs, q=queries, cap=st.sampled_from(CAPS), new=st.lists(st.tuples(st.sampled_from(["dataset", "model", "run"]),
                                                            st.integers(0, 2)), min_size=1, max_size=8))
    def check(spec: list[tuple[str, int, int, set[str], float]], q: dict[str, Any], cap: int,
              new: list[tuple[str, int]]) -> None:
        _fill(cat, spec)
        whole = _expected(cat, q)
        queue = list(new)

        def register() -> None:
            if queue:
                kind, n = queue.pop()
                api.register_many([NewVersion(kind, NAMES[kind][n], metrics={"acc": 0.9}, tags=("prod",))],
                                  catalog_url=cat.url)

        seen = [i for page in _pages(cat, q, cap, between=register) for i in page]
        assert len(seen) == len(set(seen)), q
        if q["latest"] and q["vkind"] != "run":  # a newer version replaces its old one: fewer, never another
            assert set(seen) <= set(whole) and seen == [i for i in whole if i in set(seen)]
        else:  # new versions sort before every cursor: the rest of the list is the list as it was
            assert seen == whole, q

    check()


def test_browse_api_pages_and_refuses_bad_input(cat: Catalog) -> None:
    _fill(cat, [("model", 0, 1, {"prod"}, 0.9), ("model", 0, 2, set(), 0.5), ("model", 1, 3, {"prod"}, 0.1),
                ("run", 0, 1, set(), 0.5), ("run", 0, 2, set(), 0.7), ("run", 2, 3, set(), 0.7)])
    first = browse("models", limit=1, catalog_url=cat.url)
    assert [e.ref for e in first.items] == ["clf2@1"] and first.next is not None
    second = browse("models", limit=1, after=first.next, catalog_url=cat.url)
    assert [e.ref for e in second.items] == ["clf@2"] and second.next is None
    every = browse("models", all_versions=True, tag="prod", catalog_url=cat.url)
    assert [e.ref for e in every.items] == ["clf2@1", "clf@1"] and every.next is None
    assert [e.ref for e in browse("models", name_prefix="clf2", catalog_url=cat.url).items] == ["clf2@1"]
    runs = browse("runs", name="e1", where="metrics.acc > 0.6", catalog_url=cat.url)
    assert [e.ref for e in runs.items] == ["e1@2"]
    with pytest.raises(UsageError, match="invalid cursor"):
        browse("models", after="not-a-cursor", catalog_url=cat.url)


def test_name_filters_match_case_on_both_backends(cat: Catalog) -> None:
    """A name prefix, an exact name and a glob (``name ~``) all match case-sensitively, in the API,
    the CLI's ``catalog search``/``--name`` and the dashboard alike."""
    for k, name in enumerate(["Raw/Img", "raw/img", "raw/IMG", "raw_x", "rawyx"]):
        api.catalog_register_dataset(name, version="v1", path=f"d/{k}", content_hash=f"{k:032x}", size=1,
                                     catalog_url=cat.url)

    def names(entries: Any) -> list[str]:
        return sorted(e.name for e in entries)

    assert names(browse("datasets", name_prefix="raw/", catalog_url=cat.url).items) == ["raw/IMG", "raw/img"]
    assert names(browse("datasets", name_prefix="Raw", catalog_url=cat.url).items) == ["Raw/Img"]
    assert names(browse("datasets", name="raw/img", catalog_url=cat.url).items) == ["raw/img"]
    assert names(api.catalog_list("datasets", name="RAW/IMG", catalog_url=cat.url)) == []
    for where, expected in [("name ~ 'raw/*'", ["raw/IMG", "raw/img"]), ("name ~ 'RAW*'", []),
                            ("name ~ '*img'", ["raw/img"]), ("name !~ 'raw*'", ["Raw/Img"]),
                            ("name ~ 'raw_*'", ["raw_x"]), ("name ~ 'raw?x'", ["raw_x", "rawyx"]),
                            ("name = 'Raw/Img'", ["Raw/Img"])]:
        assert names(api.catalog_search("datasets", where, catalog_url=cat.url)) == expected, where
        assert names(browse("datasets", where=where, catalog_url=cat.url).items) == expected, where


def test_a_lead_set_that_grows_past_the_cap_is_not_cut(cat: Catalog) -> None:
    """Between counting a set (under the cap) and reading its ids, other writers tag more versions:
    on PostgreSQL each statement sees them, so the read may return a full cap of ids; the page must
    then not be led by that cut list (it walks). On SQLite the read transaction's snapshot hides
    them, and the page is the one counted."""
    _fill(cat, [("run", 0, 1, {"prod"}, 0.5), ("run", 1, 2, {"prod"}, 0.5), ("run", 2, 3, set(), 0.5)])
    f = VersionFilter("run", tag="prod")
    state = {"counted": False, "added": False}
    browse_mod.forget_sizes()  # the set is counted here, not taken from an earlier test's count

    def grow(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM tags" not in statement or state["added"]:
            return
        if "count(" in statement:
            state["counted"] = True
        elif state["counted"]:  # reading the lead's ids: two more tagged versions land first
            state["added"] = True
            api.register_many([NewVersion("run", "e2", metrics={"acc": 0.9}, tags=("prod",)) for _ in range(2)],
                              catalog_url=cat.url)

    sa.event.listen(cat.engine, "before_cursor_execute", grow)
    try:
        with cat.read() as conn:
            rows = page_rows(conn, f, 10, cap=3)
    finally:
        sa.event.remove(cat.engine, "before_cursor_execute", grow)
    assert state["added"]
    with cat.read() as conn:
        tagged = set(conn.execute(sa.select(tags.c.version_id).where(tags.c.tag == "prod")).scalars())
    assert len(tagged) == 4
    seen = {i for i, _ in rows}
    if cat.dialect == "postgresql":
        assert seen == tagged  # all four: none lost to a list cut at the cap
    else:
        assert len(seen) == 2 and seen < tagged
