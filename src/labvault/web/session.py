"""Who is asking: an API token, a signed session cookie, or (when the server allows it) anonymous.

The session cookie (``lv_session``) is ``{"u": user id, "n": name, "p": stamp, "c": CSRF token}``
(the stamp: ``api.users.session_stamp``, a digest of the password hash) signed with the server's secret (itsdangerous, timestamped: it expires after ``Settings.session_hours``); the
user is read back from the catalog on every request, so a removed user or a changed role counts at
once. Before signing in, forms carry the token of the ``lv_csrf`` cookie (double submit).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from labvault.api.access_control import Access, access_for
from labvault.api.users import ROLES, User, authenticate_token, user_for_session

SESSION_COOKIE = "lv_session"
CSRF_COOKIE = "lv_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Viewer:
    """The one asking: ``via`` is token, session or anonymous; ``reader`` filters what it sees."""

    name: str
    role: str
    via: str
    user: User | None = None
    reader: Access | None = None

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def settings_of(request: Request) -> Any:
    return request.app.state.settings


def serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings_of(request).secret, salt="labvault-session")


def session_data(request: Request) -> dict[str, Any] | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    s = settings_of(request)
    try:
        data = serializer(request).loads(raw, max_age=int(s.session_hours * 3600))
    except BadSignature:
        return None
    return data if isinstance(data, dict) and {"u", "n", "c", "p"} <= set(data) else None


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _reader(user: User, request: Request) -> Access | None:
    if user.unix_principal is None:
        return None
    s = settings_of(request)
    return access_for(user.unix_principal, s.lab, s.catalog_url)


def current(request: Request) -> Viewer | None:
    """The viewer of this request (None: nobody signed in and anonymous reading is off)."""
    if hasattr(request.state, "viewer"):
        return request.state.viewer  # type: ignore[no-any-return]
    s = settings_of(request)
    viewer: Viewer | None = None
    token = bearer(request)
    if token is not None:
        user = authenticate_token(token, s.catalog_url)
        if user is not None:
            viewer = Viewer(user.name, user.role, "token", user, _reader(user, request))
    else:
        data = session_data(request)
        user = user_for_session(int(data["u"]), str(data["n"]), str(data["p"]), s.catalog_url) if data else None
        if user is not None:
            viewer = Viewer(user.name, user.role, "session", user, _reader(user, request))
        elif not s.auth_required:
            viewer = Viewer("anonymous", "viewer", "anonymous")
    request.state.viewer = viewer
    return viewer


def csrf_token(request: Request) -> str:
    """The token a form of this page must send back: the session's, else the ``lv_csrf`` cookie's
    (a new one when absent: ``render`` sets the cookie)."""
    data = session_data(request)
    if data is not None:
        return str(data["c"])
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return str(token)
