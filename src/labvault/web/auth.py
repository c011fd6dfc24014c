"""Signing in and out, role dependencies, CSRF protection and the login rate limit.

Roles: viewers read; editors also register and tag catalog entries; admins also act on tiers,
backups and access. There is no sign-up: users are made with ``labvault user add``.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from labvault.api.users import authenticate_password, session_stamp
from labvault.web.render import render
from labvault.web.session import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    Viewer,
    bearer,
    csrf_token,
    current,
    serializer,
    settings_of,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded",)
MAX_FORM_BYTES = 64 * 1024

router = APIRouter(tags=["auth"])


class LoginLimiter:
    """At most ``attempts`` failed logins per (client address, user name) within ``window`` seconds."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], at: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= at - self.window:
            q.popleft()
        return q

    def blocked(self, key: tuple[str, str]) -> bool:
        with self._lock:
            return len(self._recent(key, time.monotonic())) >= self.attempts

    def failed(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._recent(key, time.monotonic()).append(time.monotonic())
            if len(self._failures) > 10_000:  # bounded memory: forget the quiet keys
                for k in [k for k, q in self._failures.items() if not q]:
                    del self._failures[k]

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)


def viewer_required(request: Request) -> Viewer:
    v = current(request)
    if v is None:
        raise HTTPException(401, "sign in first (POST /login) or send `Authorization: Bearer TOKEN`",
                            headers={"WWW-Authenticate": "Bearer"})
    return v


def require(role: str) -> Callable[..., Awaitable[Viewer]]:
    """A dependency letting through viewers of ``role`` or above (401 when nobody, 403 when too low)."""

    # async: a check of the role, no I/O; FastAPI runs a sync dependency on a worker thread,
    # a hop that costs more than the check
    async def dependency(viewer: Annotated[Viewer, Depends(viewer_required)]) -> Viewer:
        if not viewer.may(role):
            raise HTTPException(403, f"this needs the {role} role; {viewer.name} is {viewer.role}")
        return viewer

    dependency.__name__ = f"require_{role}"
    return dependency


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form body (the last value of each); {} for other bodies."""
    if request.headers.get("content-type", "").split(";")[0].strip() not in FORM_TYPES:
        return {}
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, f"form larger than {MAX_FORM_BYTES} bytes")
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


async def csrf_protect(request: Request) -> None:
    """Every unsafe request not signed by an API token must carry the CSRF token of its session
    (or of the ``lv_csrf`` cookie before signing in), as the form field or the X-CSRF-Token header."""
    if request.method in SAFE_METHODS or bearer(request) is not None:
        return
    sent = request.headers.get(CSRF_HEADER) or (await read_form(request)).get(CSRF_FIELD, "")
    expected = csrf_token(request)
    if getattr(request.state, "new_csrf", None) is not None or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and submit the form again")


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='')}"


def _safe_next(value: str | None) -> str:
    """Only a path on this server (no scheme, no host, no `//`): no open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    form = await read_form(request)
    name, password, nxt = form.get("username", ""), form.get("password", ""), _safe_next(form.get("next"))
    key = (request.client.host if request.client else "-", name)
    limiter: LoginLimiter = request.app.state.limiter
    if limiter.blocked(key):
        return render(request, "login.html", 429, next=nxt, error="too many failed attempts: wait a few minutes")
    user = authenticate_password(name, password, settings_of(request).catalog_url)
    if user is None:
        limiter.failed(key)
        return render(request, "login.html", 401, next=nxt, error="wrong user name or password")
    limiter.succeeded(key)
    response = RedirectResponse(nxt, status_code=303)
    s = settings_of(request)
    stamp = session_stamp(user.id, s.catalog_url)
    cookie = serializer(request).dumps({"u": user.id, "n": user.name, "p": stamp, "c": secrets.token_urlsafe(32)})
    response.set_cookie(SESSION_COOKIE, cookie, max_age=int(s.session_hours * 3600), httponly=True,
                        samesite="lax", secure=s.secure_cookies, path="/")
    return response


@router.post("/logout", include_in_schema=False)
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/api/v1/me")
def me(viewer: Annotated[Viewer, Depends(viewer_required)]) -> dict[str, Any]:
    """Who the server takes you for: name, role, how you signed in, the unix principal you stand for."""
    return {"name": viewer.name, "role": viewer.role, "via": viewer.via,
            "unix": viewer.user.unix_principal if viewer.user else None}
