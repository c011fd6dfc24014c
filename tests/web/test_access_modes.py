"""What each visitor sees: a user tied to a unix principal sees protected data only with a grant;
a lab without users is readable anonymously (on loopback) and writable by nobody."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from labvault import api
from labvault.api import users
from labvault.catalog.grants import Grant, set_grant
from labvault.catalog.protections import Protection, forget_protection, record_protection
from labvault.catalog.store import open_catalog
from labvault.web.server import server_settings
from tests.web.client import Client
from tests.web.conftest import Lab, RunningServer
from tests.web.test_api_catalog import walk

PROTECTED = "/srv/protected"


def test_grants_filter_what_a_unix_tied_user_sees(server: RunningServer, lab: Lab) -> None:
    users.user_add("tied", "viewer", unix="user:root", catalog_url=lab.catalog_url)
    c = Client(server.url, users.token_create("tied", catalog_url=lab.catalog_url).token)
    everyone = Client(server.url, lab.tokens["viewer"])
    cat = open_catalog(lab.catalog_url)
    now = datetime(2026, 1, 1)
    record_protection(cat, Protection(PROTECTED, "lab", PROTECTED, None, False, now, "test"))
    try:
        assert "secret_set" not in {i["name"] for i in walk(c, "/api/v1/datasets", limit=2)[0]}
        assert c.get("/api/v1/datasets/secret_set").status == 404
        assert c.get("/api/v1/lineage/dataset/secret_set").status == 404
        assert c.get("/api/v1/datasets/secret_set/inputs").status == 404
        assert c.get("/api/v1/datasets/secret_set/outputs").status == 404
        assert "secret_set" in {i["name"] for i in walk(everyone, "/api/v1/datasets")[0]}  # no unix principal
        set_grant(cat, Grant("group", "root", "read", PROTECTED, PROTECTED, now, "test"), "group", "root", PROTECTED)
        assert "secret_set" in {i["name"] for i in walk(c, "/api/v1/datasets", limit=2)[0]}
        assert c.get("/api/v1/datasets/secret_set").json()["path"] == "/srv/protected/secret_set"
        assert c.get("/api/v1/datasets/secret_set/outputs").json() == {"items": [], "next": None}
    finally:
        set_grant(cat, None, "group", "root", PROTECTED)
        forget_protection(cat, PROTECTED)


def test_a_lab_without_users_reads_anonymously_on_loopback_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'open.sqlite'}"
    api.catalog_register_dataset("open_set", version="v1", path="data/o.csv", catalog_url=url)
    settings = server_settings("127.0.0.1", catalog_url=url)
    assert settings.auth_required is False
    with RunningServer(settings) as running:
        c = Client(running.url)
        assert [i["name"] for i in c.get("/api/v1/datasets").json()["items"]] == ["open_set"]
        assert c.get("/api/v1/me").json()["via"] == "anonymous"
        c.get("/")  # the page hands out the CSRF cookie
        token = c.cookie("lv_csrf") or ""
        r = c.post_json("/api/v1/datasets/open_set@v1/tags", {"tags": ["x"]}, headers={"X-CSRF-Token": token})
        assert r.status == 403 and "editor" in r.json()["error"]
        assert api.catalog_get("dataset", "open_set", catalog_url=url).tags == ()
