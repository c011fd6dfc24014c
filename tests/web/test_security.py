"""The dashboard's security: who may do what, tokens, CSRF, sessions, path traversal, bounded lists,
and refusing to serve a public address without authentication."""

from __future__ import annotations

import time
from typing import Any

import pytest

from labvault.api import users
from labvault.api.browse import LINK_CAP, SIDES
from labvault.errors import UsageError
from labvault.web.server import server_settings
from tests.web.client import Client
from tests.web.conftest import PASSWORD, Lab, RunningServer

WRITE = ("/api/v1/datasets/ds_01@v2/tags", {"tags": ["x"]})


def test_anonymous_reads_and_writes_nothing(client: Client) -> None:
    assert client.get("/api/v1/datasets").status == 401
    assert client.get("/api/v1/me").status == 401
    assert client.post_json(*WRITE).status in (401, 403)
    page = client.get("/")
    assert page.status == 303 and page.headers["location"].startswith("/login")


def test_viewer_cannot_write_editor_can(as_role: dict[str, Client]) -> None:
    r = as_role["viewer"].post_json(*WRITE)
    assert r.status == 403 and "editor" in r.json()["error"]
    assert as_role["editor"].post_json(*WRITE).status == 200


def test_revoked_and_expired_tokens_stop_working(server: RunningServer, lab: Lab) -> None:
    new = users.token_create("viewer", catalog_url=lab.catalog_url)
    c = Client(server.url, new.token)
    assert c.get("/api/v1/me").json()["name"] == "viewer"
    users.token_revoke(new.info.id, catalog_url=lab.catalog_url)
    assert c.get("/api/v1/me").status == 401
    short = users.token_create("viewer", expires_days=1 / 86400 / 2, catalog_url=lab.catalog_url)  # 0.5 s
    time.sleep(1.0)
    assert Client(server.url, short.token).get("/api/v1/me").status == 401
    assert Client(server.url, "lv_" + "A" * 43).get("/api/v1/me").status == 401


def test_token_role_is_at_most_its_users(lab: Lab, server: RunningServer) -> None:
    low = users.token_create("admin", role="viewer", catalog_url=lab.catalog_url)
    c = Client(server.url, low.token)
    assert c.get("/api/v1/me").json()["role"] == "viewer"
    assert c.post_json(*WRITE).status == 403
    with pytest.raises(UsageError):
        users.token_create("viewer", role="admin", catalog_url=lab.catalog_url)


def test_login_session_and_csrf(server: RunningServer) -> None:
    c = Client(server.url)
    r = c.login("editor", PASSWORD)
    assert r.status == 303 and r.headers["location"] == "/"
    session = c.cookie("lv_session")
    assert session is not None
    cookie_line = r.headers["set-cookie"].lower()
    assert "httponly" in cookie_line and "samesite=lax" in cookie_line
    assert c.get("/api/v1/me").json() == {"name": "editor", "role": "editor", "via": "session", "unix": None}
    # a write by the session needs the session's CSRF token
    assert c.post_json(*WRITE).status == 403
    assert c.post_json(*WRITE, headers={"X-CSRF-Token": "wrong"}).status == 403
    assert c.post_form("/logout", {"csrf_token": "wrong"}).status == 403
    token = _csrf_of_page(c)
    assert c.post_json(*WRITE, headers={"X-CSRF-Token": token}).status == 200
    assert c.post_form("/logout", {"csrf_token": token}).status == 303


def _csrf_of_page(c: Client) -> str:
    import re

    page = c.get("/").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def test_login_form_without_csrf_is_refused(server: RunningServer) -> None:
    c = Client(server.url)
    r = c.post_form("/login", {"username": "editor", "password": PASSWORD})
    assert r.status == 403 and c.cookie("lv_session") is None


def test_tampered_session_is_nobody(server: RunningServer) -> None:
    c = Client(server.url)
    c.login("viewer", PASSWORD)
    raw = c.cookie("lv_session") or ""
    # One character of the signature changed, well before its end: the last base64 character
    # carries padding bits, so replacing the tail could decode to the very same signature.
    i = len(raw) - 10
    forged_cookie = raw[:i] + ("A" if raw[i] != "A" else "B") + raw[i + 1:]
    assert forged_cookie != raw
    forged = Client(server.url)
    r = forged.request("GET", "/api/v1/me", headers={"Cookie": f"lv_session={forged_cookie}"})
    assert r.status == 401


def test_login_rate_limit(server: RunningServer) -> None:
    c = Client(server.url)
    codes = [c.login("admin", f"wrong-{i}").status for i in range(5)]
    assert codes == [401] * 5
    assert c.login("admin", PASSWORD).status == 429  # even the right password, for a while
    assert Client(server.url).login("viewer", PASSWORD).status == 303  # another user name is not blocked


def test_no_open_redirect_after_login(server: RunningServer) -> None:
    c = Client(server.url)
    c.get("/login")
    r = c.post_form("/login", {"username": "viewer", "password": PASSWORD, "csrf_token": c.cookie("lv_csrf") or "",
                               "next": "//evil.example/"})
    assert r.status == 303 and r.headers["location"] == "/"


@pytest.mark.parametrize("path", [
    "/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/static//etc/passwd", "/static/%2fetc%2fpasswd",
])
def test_static_files_stay_in_their_folder(client: Client, path: str) -> None:
    r = client.get(path)
    assert r.status in (400, 404), (path, r.status)
    assert b"create_app" not in r.body and b"root:" not in r.body


def test_static_file_is_served(client: Client) -> None:
    r = client.get("/static/labvault.css")
    assert r.status == 200 and b"body" in r.body


def _get_routes(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(path, ops["get"]) for path, ops in spec["paths"].items() if "get" in ops]


# Concrete paths for the GET routes with path parameters that answer pages, and the query a route
# needs to answer at all; every other route with a path parameter answers one object.
PATH_EXAMPLES = {
    "/api/v1/datasets/{name}/versions": "/api/v1/datasets/ds_00/versions",
    "/api/v1/models/{name}/versions": "/api/v1/models/clf/versions",
    "/api/v1/runs/{name}/versions": "/api/v1/runs/train/versions",
    "/api/v1/lifecycle/{part}": "/api/v1/lifecycle/moves",
    "/api/v1/datasets/{ref}/inputs": "/api/v1/datasets/ds_00@v2/inputs",
    "/api/v1/datasets/{ref}/outputs": "/api/v1/datasets/ds_00@v2/outputs",
    "/api/v1/models/{ref}/inputs": "/api/v1/models/clf/inputs",
    "/api/v1/models/{ref}/outputs": "/api/v1/models/clf/outputs",
    "/api/v1/runs/{ref}/inputs": "/api/v1/runs/train@1/inputs",
    "/api/v1/runs/{ref}/outputs": "/api/v1/runs/train@1/outputs",
}
ONE_OBJECT = {
    "/api/v1/datasets/{ref}", "/api/v1/models/{ref}", "/api/v1/runs/{ref}", "/api/v1/lineage/{kind}/{ref}",
    "/api/v1/repos/{name}/dag", "/api/v1/repos/{name}/metrics",
}
NEEDS = {"/api/v1/usage": {"tier": "hot"}}


def _refs_bounded(route: str, entry: Any) -> None:
    """A catalog entry's lineage lists hold at most LINK_CAP refs, their totals alongside."""
    if isinstance(entry, dict) and "inputs" in entry:
        for side in SIDES:
            assert len(entry[side]) == min(entry[f"{side}_total"], LINK_CAP), (route, side)


def test_every_list_endpoint_is_bounded(as_role: dict[str, Client]) -> None:
    """Walk the OpenAPI schema: every GET answering a page takes a capped limit, and no answer
    holds more than the cap, however large a limit is asked for; no catalog entry, in a page or
    alone, holds more than LINK_CAP lineage refs a side."""
    c = as_role["admin"]
    spec = c.get("/api/v1/openapi.json").json()
    paged, single = 0, set()
    for route, op in _get_routes(spec):
        names = {p["name"]: p for p in op.get("parameters", [])}
        if any(p["in"] == "path" for p in names.values()) and route not in PATH_EXAMPLES:
            single.add(route)
            continue
        path = PATH_EXAMPLES.get(route, route)
        r = c.get(path, **NEEDS.get(route, {}), **({"limit": 500} if "limit" in names else {}))
        assert r.status == 200, (path, r.status, r.text[:200])
        body = r.json()
        assert not isinstance(body, list), f"{route} answers a bare list"
        if "items" in body:
            paged += 1
            assert "limit" in names and names["limit"]["schema"].get("maximum") == 500, route
            assert c.get(path, limit=501, **NEEDS.get(route, {})).status == 422, route
            assert len(body["items"]) <= 500 and set(body) == {"items", "next"}, route
            for item in body["items"]:
                _refs_bounded(route, item)
    assert single == ONE_OBJECT
    wide = c.get("/api/v1/datasets/ds_00@v2").json()  # read by every run of "train" and by clf
    assert wide["outputs_total"] > LINK_CAP
    for entry in (wide, c.get("/api/v1/models/clf").json(), c.get("/api/v1/runs/train@1").json()):
        _refs_bounded("entry", entry)
    assert paged >= 14


def test_refuses_public_address_without_admin(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    with pytest.raises(UsageError, match=r"refusing to serve on 0\.0\.0\.0"):
        server_settings("0.0.0.0", catalog_url=url)
    loopback = server_settings("127.0.0.1", catalog_url=url)
    assert loopback.auth_required is False  # no users: anonymous read-only, on loopback only
    users.user_add("boss", "admin", PASSWORD, catalog_url=url)
    public = server_settings("0.0.0.0", catalog_url=url)
    assert public.auth_required is True
    assert server_settings("127.0.0.1", catalog_url=url).auth_required is True  # a user exists


def test_passwords_are_hashed_with_argon2(lab: Lab) -> None:
    from labvault.catalog.store import open_catalog
    from labvault.catalog.web_schema import web_tokens, web_users

    cat = open_catalog(lab.catalog_url)
    with cat.read() as conn:
        hashes = [r.password_hash for r in conn.execute(web_users.select()) if r.password_hash is not None]
        token_hashes = [r.token_hash for r in conn.execute(web_tokens.select())]
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    assert all(t not in token_hashes for t in lab.tokens.values())
    assert users.authenticate_password("viewer", PASSWORD, lab.catalog_url) is not None
    assert users.authenticate_password("viewer", PASSWORD + "x", lab.catalog_url) is None
    assert users.authenticate_password("nobody", PASSWORD, lab.catalog_url) is None


def test_removing_a_user_ends_its_sessions_and_tokens(server: RunningServer, lab: Lab) -> None:
    users.user_add("leaver", "editor", PASSWORD, catalog_url=lab.catalog_url)
    token = users.token_create("leaver", catalog_url=lab.catalog_url).token
    by_token, by_session = Client(server.url, token), Client(server.url)
    assert by_session.login("leaver", PASSWORD).status == 303
    assert by_token.get("/api/v1/me").status == 200 and by_session.get("/api/v1/me").status == 200
    users.user_remove("leaver", catalog_url=lab.catalog_url)
    assert by_token.get("/api/v1/me").status == 401
    assert by_session.get("/api/v1/me").status == 401
    users.user_add("leaver", "admin", PASSWORD, catalog_url=lab.catalog_url)  # the same name again
    assert by_session.get("/api/v1/me").status == 401  # the old cookie names the old user's id
