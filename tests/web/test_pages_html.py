"""The HTML pages on SQLite and PostgreSQL (the shared seeded lab and server): each answers 200
with the lab's data for a viewer, sends an anonymous visitor to the login page, pages the dataset
list through its next links, and hides what a unix-tied viewer may not read, as the JSON API does."""

from __future__ import annotations

import html
import re
from datetime import datetime

from labvault.api import users
from labvault.catalog.grants import Grant, set_grant
from labvault.catalog.protections import Protection, forget_protection, record_protection
from labvault.catalog.store import open_catalog
from tests.web.client import Client
from tests.web.conftest import N_DATASETS, Lab, RunningServer
from tests.web.test_api_catalog import walk

PAGES = {
    "/": ["Datasets", "Pipelines"],
    "/datasets": ["ds_00", "ds_06"],
    "/models": ["clf", "production"],
    "/experiments": ["train"],
    "/datasets/ds_00": ["Versions", "v1", "v2", "Lineage"],
    "/models/clf": ["logreg", "ds_00@v2"],
    "/experiments/train": ["accuracy"],
    "/lineage?kind=model&ref=clf": ["ds_00@v2", "ds_01@v2"],
    "/pipelines": ["prepare", "train", "stale", "fresh"],
    "/metrics": ["metrics.json", "v1", "0.875"],
    "/tiers": ["hot", "warm", "cold", "Lifecycle plan"],
    "/backups": ["daily", "weekly", "FAILED", "passed"],
    "/alerts": ["critical", "weekly"],
}


def _names(page: str) -> list[str]:
    return re.findall(r'<tr><td><a href="/datasets/[^"]+">([^<]+)</a></td>', page)


def test_every_page_shows_the_seeded_lab(as_role: dict[str, Client]) -> None:
    viewer = as_role["viewer"]
    for path, texts in PAGES.items():
        r = viewer.get(path)
        assert r.status == 200 and r.headers["content-type"].startswith("text/html"), (path, r.status, r.text[:200])
        text = html.unescape(r.text)
        missing = [t for t in texts if t not in text]
        assert not missing, f"{path} lacks {missing}"


def test_pages_need_a_signed_in_viewer(client: Client) -> None:
    for path in PAGES:
        r = client.get(path)
        assert r.status == 303 and r.headers["location"].startswith("/login?next="), (path, r.status)


def test_the_dataset_list_pages_to_the_end(as_role: dict[str, Client]) -> None:
    viewer = as_role["viewer"]
    path: str | None = "/datasets?limit=2"
    seen: list[str] = []
    while path is not None:
        page = viewer.get(path).text
        seen += _names(page)
        nxt = re.search(r'<a rel="next" href="([^"]+)"', page)
        path = html.unescape(nxt.group(1)) if nxt else None
    assert len(seen) == len(set(seen)), "a dataset shown twice"
    assert {f"ds_{i:02d}" for i in range(N_DATASETS)} | {"secret_set"} <= set(seen)
    assert seen == [i["name"] for i in walk(viewer, "/api/v1/datasets", limit=3)[0]]  # the JSON API's order


def test_pages_hide_what_a_unix_tied_viewer_may_not_read(server: RunningServer, lab: Lab) -> None:
    users.user_add("tied_pages", "viewer", unix="user:root", catalog_url=lab.catalog_url)
    c = Client(server.url, users.token_create("tied_pages", catalog_url=lab.catalog_url).token)
    cat = open_catalog(lab.catalog_url)
    now = datetime(2026, 1, 1)
    record_protection(cat, Protection("/srv/protected", "lab", "/srv/protected", None, False, now, "test"))
    try:
        assert "secret_set" not in _names(c.get("/datasets", limit=200).text)
        hidden = c.get("/datasets/secret_set")
        assert hidden.status == 404 and hidden.headers["content-type"].startswith("text/html")
        assert "unknown dataset" in hidden.text  # a page, saying why, and the same words as for a name never seen
        assert c.get("/lineage", kind="dataset", ref="secret_set").status == 404
        set_grant(cat, Grant("group", "root", "read", "/srv/protected", "/srv/protected", now, "test"),
                  "group", "root", "/srv/protected")
        assert "secret_set" in _names(c.get("/datasets", limit=200).text)
        assert c.get("/datasets/secret_set").status == 200
    finally:
        set_grant(cat, None, "group", "root", "/srv/protected")
        forget_protection(cat, "/srv/protected")


def test_a_bad_name_or_filter_is_one_line_on_a_page(as_role: dict[str, Client]) -> None:
    viewer = as_role["viewer"]
    missing = viewer.get("/datasets/no_such_set")
    assert missing.status == 404 and "no_such_set" in missing.text and "<html" in missing.text
    bad = viewer.get("/datasets", where="metrics.accuracy >>> 1")
    assert bad.status == 400 and "<html" in bad.text and 'class="error"' in bad.text
    assert viewer.get("/api/v1/datasets/no_such_set").json()["error"]  # the JSON API stays JSON
