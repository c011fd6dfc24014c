"""The catalog part of the JSON API against a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import urllib.parse
from typing import Any

from labvault import api
from tests.web.client import Client
from tests.web.conftest import N_DATASETS, N_RUNS, Lab


def walk(c: Client, path: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item of a paged list, and how many pages it took."""
    items: list[dict[str, Any]] = []
    after, pages = None, 0
    while True:
        r = c.get(path, after=after, **params)
        assert r.status == 200, r.text
        body = r.json()
        assert set(body) == {"items", "next"}
        items += body["items"]
        pages += 1
        after = body["next"]
        if after is None:
            return items, pages


def test_datasets_page_through_every_latest_version(as_role: dict[str, Client], lab: Lab) -> None:
    items, pages = walk(as_role["viewer"], "/api/v1/datasets", limit=3)
    names = [i["name"] for i in items]
    assert sorted(names) == sorted([f"ds_{i:02d}" for i in range(N_DATASETS)] + ["secret_set"])
    assert pages == -(-len(names) // 3)
    assert all(i["version"] == "v2" for i in items if i["name"].startswith("ds_"))
    # newest first, the order `catalog datasets` prints
    expected = [e.name for e in api.catalog_list("datasets", catalog_url=lab.catalog_url)]
    assert names == expected


def test_filters_prefix_tag_where_and_all_versions(as_role: dict[str, Client]) -> None:
    c = as_role["viewer"]
    clean, _ = walk(c, "/api/v1/datasets", tag="clean")
    assert {i["name"] for i in clean} == {f"ds_{i:02d}" for i in range(0, N_DATASETS, 2)}
    assert {i["name"] for i in walk(c, "/api/v1/datasets", prefix="ds_0")[0]} == {
        f"ds_{i:02d}" for i in range(N_DATASETS)}
    big, _ = walk(c, "/api/v1/datasets", where="size >= 10000", all="true")
    assert sorted((i["name"], i["version"]) for i in big) == sorted(
        (f"ds_{i:02d}", f"v{v}") for i in range(N_DATASETS) for v in (1, 2) if 1000 * (i + 1) * v >= 10000)
    runs, _ = walk(c, "/api/v1/runs", limit=5)
    assert len(runs) == N_RUNS and all(r["name"] == "train" and "accuracy" in r["metrics"] for r in runs)
    good, _ = walk(c, "/api/v1/runs", where="metrics.accuracy > 0.7")
    assert sorted(r["metrics"]["accuracy"] for r in good) == sorted(
        0.5 + r / 40 for r in range(N_RUNS) if 0.5 + r / 40 > 0.7)
    assert c.get("/api/v1/datasets", where="size >>> 3").status == 400


def test_entry_versions_and_lineage(as_role: dict[str, Client], lab: Lab) -> None:
    c = as_role["viewer"]
    one = c.get("/api/v1/models/clf@v1")
    assert one.status == 200 and one.json()["name"] == "clf" and one.json()["tags"] == ["production"]
    versions, _ = walk(c, "/api/v1/datasets/ds_03/versions", limit=1)
    assert [v["version"] for v in versions] == ["v2", "v1"]
    assert c.get("/api/v1/datasets/no_such_set").status == 404
    graph = c.get("/api/v1/lineage/model/clf@v1", direction="up", depth=1).json()
    assert {n["name"] for n in graph["nodes"]} == {"clf", "ds_00", "ds_01"} and graph["truncated"] is False
    capped = c.get("/api/v1/lineage/dataset/ds_00@v2", max_nodes=3).json()
    assert len(capped["nodes"]) == 3 and capped["truncated"] is True
    ids = {n["id"] for n in capped["nodes"]}
    assert all(e["src"] in ids and e["dst"] in ids for e in capped["edges"])


def test_bad_cursor_and_limits_are_one_clear_error(as_role: dict[str, Client]) -> None:
    c = as_role["viewer"]
    r = c.get("/api/v1/datasets", after="not-a-cursor")
    assert r.status == 400 and "cursor" in r.json()["error"]
    assert c.get("/api/v1/datasets", limit=501).status == 422
    assert c.get("/api/v1/datasets", limit=0).status == 422


def test_editor_registers_and_tags(as_role: dict[str, Client], lab: Lab) -> None:
    editor = as_role["editor"]
    r = editor.post_json("/api/v1/datasets", {"name": "from_web", "version": "v1", "path": "data/w.csv",
                                               "content_hash": "e" * 32, "size": 3})
    assert r.status == 200, r.text
    assert api.catalog_get("dataset", "from_web@v1", catalog_url=lab.catalog_url).size == 3
    r = editor.post_json("/api/v1/datasets/from_web@v1/tags", {"tags": ["reviewed"]})
    assert r.status == 200 and r.json()["tags"] == ["reviewed"]
    assert api.catalog_get("dataset", "from_web", catalog_url=lab.catalog_url).tags == ("reviewed",)


def test_names_with_slashes_and_encoded_characters(as_role: dict[str, Client], lab: Lab) -> None:
    editor, viewer = as_role["editor"], as_role["viewer"]
    made = (("team/raw", "v1"), ("team/raw", "v2"), ("team/raw/versions", "v1"), ("odd name%?#", "v1"))
    for k, (name, version) in enumerate(made):
        r = editor.post_json("/api/v1/datasets", {"name": name, "version": version, "path": f"data/{version}.csv",
                                                   "content_hash": f"{k:032x}", "size": 5})
        assert r.status == 200, r.text
    shown = viewer.get("/api/v1/datasets/team/raw")
    latest = api.catalog_get("dataset", "team/raw", catalog_url=lab.catalog_url)
    assert shown.status == 200 and (shown.json()["name"], shown.json()["version"]) == ("team/raw", latest.version)
    assert viewer.get("/api/v1/datasets/team/raw@v1").json()["version"] == "v1"
    assert viewer.get("/api/v1/datasets/team%2Fraw@v1").json()["name"] == "team/raw"  # an encoded "/" too
    odd = viewer.get("/api/v1/datasets/" + urllib.parse.quote("odd name%?#", safe=""))
    assert odd.status == 200 and odd.json()["name"] == "odd name%?#"
    versions, _ = walk(viewer, "/api/v1/datasets/team/raw/versions", limit=1)
    assert sorted((v["name"], v["version"]) for v in versions) == [("team/raw", "v1"), ("team/raw", "v2")]
    # a name ending in /versions: its list is at NAME/versions, the entry at NAME@VERSION
    assert [v["name"] for v in walk(viewer, "/api/v1/datasets/team/raw/versions/versions")[0]] == ["team/raw/versions"]
    assert viewer.get("/api/v1/datasets/team/raw/versions@v1").json()["name"] == "team/raw/versions"
    r = editor.post_json("/api/v1/datasets/team/raw@v1/tags", {"tags": ["slashed"]})
    assert r.status == 200 and r.json()["tags"] == ["slashed"]
    assert api.catalog_get("dataset", "team/raw@v1", catalog_url=lab.catalog_url).tags == ("slashed",)
    assert viewer.get("/api/v1/datasets/team/none").status == 404
    assert viewer.get("/api/v1/datasets/team/none/versions").status == 404
    assert viewer.get("/api/v1/datasets/../../etc/passwd").status == 404
    assert viewer.get("/api/v1/datasets/%2e%2e%2f%2e%2e%2fetc%2fpasswd").status == 404
    # the HTML pages link to the same names
    page = viewer.get("/datasets", q="team/")
    assert page.status == 200 and f'href="/datasets/team/raw?version={latest.version}"' in page.text
    assert 'href="/datasets/odd%20name%25%3F%23?version=v1"' in viewer.get("/datasets").text
    entry = viewer.get("/datasets/team/raw", version="v1")
    assert entry.status == 200 and "team/raw" in entry.text
    assert viewer.get("/datasets/" + urllib.parse.quote("odd name%?#", safe="")).status == 200


def test_name_filters_are_case_sensitive_as_in_the_cli(as_role: dict[str, Client], lab: Lab) -> None:
    c = as_role["viewer"]
    url = lab.catalog_url
    assert walk(c, "/api/v1/datasets", prefix="DS_")[0] == []
    assert walk(c, "/api/v1/datasets", name="DS_01")[0] == []
    assert api.catalog_list("datasets", name="DS_01", catalog_url=url) == []
    for where in ("name ~ 'DS_*'", "name ~ 'ds_0*'", "name = 'DS_01'", "name !~ 'ds*'"):
        got = sorted((i["name"], i["version"]) for i in walk(c, "/api/v1/datasets", where=where, all="true")[0])
        cli = sorted((e.name, e.version) for e in api.catalog_search("datasets", where, catalog_url=url))
        assert got == cli and (where != "name ~ 'ds_0*'" or len(got) == 2 * N_DATASETS), where
    assert walk(c, "/api/v1/datasets", where="name ~ 'DS_*'")[0] == []
    spec = c.get("/api/v1/openapi.json").json()
    described = {p["name"]: p.get("description", "") for p in spec["paths"]["/api/v1/datasets"]["get"]["parameters"]}
    assert all("case-sensitive" in described[p] for p in ("name", "prefix", "where"))
