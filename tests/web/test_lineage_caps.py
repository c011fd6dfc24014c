"""No unbounded lineage list in the dashboard: an entry of a list page, or of its own endpoint,
carries at most ``LINK_CAP`` inputs and outputs with their totals, and the rest pages through
``KIND/REF/inputs`` and ``KIND/REF/outputs``; the HTML list links "N more" to the version's page,
which lists every ref page by page. On SQLite and PostgreSQL, each on a catalog of its own (with
a dataset read by more runs than the cap, and a model made from more datasets than the cap),
against the full lists of ``api.catalog_get``."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest

from labvault import api
from labvault.api.browse import LINK_CAP, SIDES
from labvault.api.jsonshape import to_json
from labvault.catalog import store
from labvault.web.app import Settings
from tests.catalog.conftest import PgServer, new_catalog_url, pg_server  # noqa: F401  (fixture)
from tests.web.client import Client
from tests.web.conftest import RunningServer
from tests.web.test_api_catalog import walk

N_SOURCES = LINK_CAP + 13  # the datasets wide_model was made from
N_READS = 10 * LINK_CAP + 30  # the runs that read src_00: more than one page of its HTML page (100)


def _ref_id(ref: str, url: str) -> int:
    kind, _, rest = ref.partition(":")
    return api.catalog_get(kind, rest, catalog_url=url).id


def bounded(item: dict[str, Any], url: str) -> dict[str, Any]:
    """The plain way to the bounded shape: an entry's full ``--json`` form, each side's refs cut to
    the ``LINK_CAP`` of the lowest version ids (then in text order, as the full lists are), and the
    totals counted from the full lists."""
    out = dict(item)
    for side in SIDES:
        refs = item[side]
        out[f"{side}_total"] = len(refs)
        out[side] = sorted(sorted(refs, key=lambda r: _ref_id(r, url))[:LINK_CAP])
    return out


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def wide(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         pg_server: PgServer | None) -> Iterator[tuple[str, Client]]:  # noqa: F811
    """A catalog with src_00..src_NN, wide_model (made from all of them), narrow_model (from two),
    and N_READS runs of experiment "reads" each reading src_00; served to anonymous readers."""
    root = tmp_path_factory.mktemp(f"wide-{request.param}")
    url = new_catalog_url(request.param, root, pg_server)
    sources = [f"src_{i:02d}@v1" for i in range(N_SOURCES)]
    for i in range(N_SOURCES):
        api.catalog_register_dataset(f"src_{i:02d}", version="v1", path=f"data/src_{i:02d}",
                                     content_hash=f"{i:032x}", size=10 + i, catalog_url=url)
    api.catalog_register_model("wide_model", datasets=sources, version="v1", catalog_url=url)
    api.catalog_register_model("narrow_model", datasets=sources[1:3], version="v1", catalog_url=url)
    api.catalog_register_experiment("reads", catalog_url=url)
    for _ in range(N_READS):
        api.catalog_register_run("reads", inputs=["src_00@v1"], catalog_url=url)
    with RunningServer(Settings(catalog_url=url, auth_required=False)) as running:
        yield url, Client(running.url)
    store.forget(url)


def _full(url: str, kind: str, ref: str) -> dict[str, Any]:
    return to_json(api.catalog_get(kind, ref, catalog_url=url))  # type: ignore[no-any-return]


def test_list_items_carry_at_most_the_cap_with_the_totals(wide: tuple[str, Client]) -> None:
    url, c = wide
    seen: dict[str, dict[str, Any]] = {}
    for plural, kind in (("datasets", "dataset"), ("models", "model"), ("runs", "run")):
        items, _ = walk(c, f"/api/v1/{plural}", limit=7, all="true")
        assert len(items) == {"datasets": N_SOURCES, "models": 2, "runs": N_READS}[plural]
        for item in items:
            ref = f"{item['name']}@{item['version']}"
            full = _full(url, kind, ref)
            assert item == bounded(full, url), ref
            assert all(len(item[s]) <= LINK_CAP for s in SIDES)
            seen[ref] = item
    # the entries over the cap: capped, the totals right; under it: the full entry plus its totals
    src = seen["src_00@v1"]
    assert (len(src["outputs"]), src["outputs_total"]) == (LINK_CAP, N_READS + 1)
    model = seen["wide_model@v1"]
    assert (len(model["inputs"]), model["inputs_total"]) == (LINK_CAP, N_SOURCES)
    assert set(model["inputs"]) <= set(_full(url, "model", "wide_model@v1")["inputs"])
    narrow = seen["narrow_model@v1"]
    assert narrow == {**_full(url, "model", "narrow_model@v1"), "inputs_total": 2, "outputs_total": 0}
    assert seen["src_05@v1"] == {**_full(url, "dataset", "src_05@v1"), "inputs_total": 0, "outputs_total": 1}


def test_the_entry_endpoint_is_bounded_as_the_lists_are(wide: tuple[str, Client]) -> None:
    url, c = wide
    for path, kind, ref in (("datasets/src_00", "dataset", "src_00@v1"), ("models/wide_model@v1", "model", "wide_model@v1"),
                            ("models/narrow_model", "model", "narrow_model@v1"), ("runs/reads@3", "run", "reads@3")):
        r = c.get(f"/api/v1/{path}")
        assert r.status == 200, r.text
        assert r.json() == bounded(_full(url, kind, ref), url), path
    versions, _ = walk(c, "/api/v1/datasets/src_00/versions")
    assert versions == [bounded(_full(url, "dataset", "src_00@v1"), url)]


@pytest.mark.parametrize("limit", [1, 7, LINK_CAP, 500])
def test_every_ref_pages_through_once(wide: tuple[str, Client], limit: int) -> None:
    url, c = wide
    cases = [("datasets", "src_00@v1", "outputs"), ("models", "wide_model@v1", "inputs"),
             ("models", "narrow_model@v1", "inputs"), ("datasets", "src_05", "outputs"),
             ("datasets", "src_05", "inputs")]
    for plural, ref, side in cases:
        full = _full(url, plural[:-1], ref)[side]
        refs, pages = walk(c, f"/api/v1/{plural}/{ref}/{side}", limit=limit)
        assert len(refs) == len(set(refs)) == len(full), (ref, side)  # nothing repeated, nothing lost
        assert set(refs) == set(full)
        assert refs == sorted(full, key=lambda r: _ref_id(r, url))  # in the order of the version ids
        assert pages == max(1, -(-len(full) // limit))
        shown = c.get(f"/api/v1/{plural}/{ref}").json()[side]
        assert sorted(refs[:LINK_CAP]) == shown  # the entry carries the first page's refs


def test_paging_a_side_refuses_bad_input_in_one_line(wide: tuple[str, Client]) -> None:
    _url, c = wide
    r = c.get("/api/v1/datasets/src_00/outputs", after="not-a-cursor")
    assert r.status == 400 and "cursor" in r.json()["error"]
    version_cursor = c.get("/api/v1/datasets", limit=1).json()["next"]  # a cursor of another list
    assert c.get("/api/v1/datasets/src_00/outputs", after=version_cursor).status == 400
    assert c.get("/api/v1/datasets/src_00/outputs", limit=0).status == 422
    assert c.get("/api/v1/datasets/src_00/outputs", limit=501).status == 422
    assert c.get("/api/v1/datasets/no_such_set/inputs").status == 404
    assert c.get("/api/v1/datasets/src_00@v9/outputs").status == 404
    schema = c.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/datasets/{ref}/inputs", "/api/v1/models/{ref}/outputs", "/api/v1/runs/{ref}/inputs"} <= set(schema)
    assert "outputs_total" in schema["/api/v1/datasets/{ref}/outputs"]["get"]["description"]
    assert "inputs_total" in schema["/api/v1/datasets/{ref}"]["get"]["description"]


def _links(page: str) -> dict[str, str]:
    return {html.unescape(m.group(2)): html.unescape(m.group(1))
            for m in re.finditer(r'<a class="more" href="([^"]+)">([^<]+)</a>', page)}


def test_the_html_list_shows_n_more_and_the_page_lists_them_all(wide: tuple[str, Client]) -> None:
    url, c = wide
    page = c.get("/datasets", q="src_00").text
    more = _links(page)
    assert more == {f"{N_READS + 1 - LINK_CAP} more": "/datasets/src_00?version=v1#used-by"}
    shown = re.findall(r'<a href="(/[a-z]+/[^"]+)">([^<]+@[^<]+)</a>', page)
    assert len(shown) == LINK_CAP  # the cap's refs, each a link to its page
    narrow = c.get("/datasets", q="src_05").text
    assert _links(narrow) == {} and "used by" in narrow and "made from" not in narrow  # under the cap: all shown
    assert _links(c.get("/models").text) == {f"{N_SOURCES - LINK_CAP} more": "/models/wide_model?version=v1#made-from"}
    # the version's page: every ref of the side, a page at a time, through its next links
    path: str | None = more[f"{N_READS + 1 - LINK_CAP} more"].split("#")[0]
    listed: list[str] = []
    pages = 0
    while path is not None:
        text = c.get(path).text
        assert f"Used by <span class=\"muted\">({N_READS + 1})</span>" in text
        section = text.split('id="used-by"')[1].split("</nav>")[0]
        listed += [html.unescape(r) for r in re.findall(r"<li><a href=\"[^\"]+\">([^<]+)</a></li>", section)]
        nxt = re.search(r'<a rel="next" href="([^"]+)">next', section)
        path = html.unescape(nxt.group(1)).split("#")[0] if nxt else None
        pages += 1
        assert (pages > 1) == ("&larr; first</a>" in section)
    full = _full(url, "dataset", "src_00@v1")["outputs"]
    assert len(listed) == len(set(listed)) and sorted(listed) == full and pages == 2
    assert c.get("/datasets/src_00", outputs_after="bad").status == 400


def test_a_page_stays_small_whatever_the_fan_out(wide: tuple[str, Client]) -> None:
    """The list items of the widest entries take about as many bytes as those of narrow ones."""
    _url, c = wide
    wide_item = c.get("/api/v1/datasets", name="src_00").body
    narrow_item = c.get("/api/v1/datasets", name="src_05").body
    assert len(wide_item) < len(narrow_item) + LINK_CAP * 40
