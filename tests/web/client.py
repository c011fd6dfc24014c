"""A small HTTP client for the tests (the standard library's urllib): JSON, forms, cookies,
redirects not followed, every status returned rather than raised."""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Client:
    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base.rstrip("/")
        self.token = token
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def request(self, method: str, path: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
                params: dict[str, Any] | None = None) -> Reply:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        h = dict(headers or {})
        if self.token:
            h.setdefault("Authorization", f"Bearer {self.token}")
        req = urllib.request.Request(url, data=data, headers=h, method=method)
        try:
            with self.opener.open(req, timeout=60) as resp:
                return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
        except urllib.error.HTTPError as e:
            return Reply(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())

    def get(self, path: str, **params: Any) -> Reply:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None} or None)

    def post_json(self, path: str, value: Any, headers: dict[str, str] | None = None) -> Reply:
        return self.request("POST", path, data=json.dumps(value).encode(),
                            headers={"Content-Type": "application/json", **(headers or {})})

    def post_form(self, path: str, fields: dict[str, str]) -> Reply:
        return self.request("POST", path, data=urllib.parse.urlencode(fields).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def login(self, name: str, password: str) -> Reply:
        """GET the login page (for its CSRF cookie), then POST the form with that token."""
        self.get("/login")
        return self.post_form("/login", {"username": name, "password": password,
                                         "csrf_token": self.cookie("lv_csrf") or "", "next": "/"})
