"""Server-rendered pages: the Jinja2 environment over ``templates/`` and ``render``."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from labvault import __version__
from labvault.web.session import CSRF_COOKIE, CSRF_FIELD, csrf_token, current, settings_of


def name_path(name: str) -> str:
    """A catalog name as a URL path segment: "/" stays (the routes take ``{name:path}``), every
    other reserved character (``?``, ``#``, ``%``, space) is percent-encoded."""
    return quote(name, safe="/@")


HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
# htmx, copied from node_modules by `make web-assets`; the pages work without it
TEMPLATES.env.filters["name_path"] = name_path  # a catalog name in a link: "/" kept, the rest encoded
TEMPLATES.env.globals["vendor_htmx"] = (HERE / "static" / "vendor" / "htmx.min.js").is_file()


def render(request: Request, template: str, status_code: int = 200, **ctx: Any) -> Response:
    """``template`` with ``ctx`` plus ``viewer`` (the signed-in user or None), ``csrf_token`` and
    ``csrf_field`` (the hidden input every form must carry), and ``version``."""
    token = csrf_token(request)
    response = TEMPLATES.TemplateResponse(
        request, template,
        {"viewer": current(request), "csrf_token": token, "csrf_field": CSRF_FIELD, "version": __version__, **ctx},
        status_code=status_code,
    )
    new = getattr(request.state, "new_csrf", None)
    if new is not None:
        response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict",
                            secure=settings_of(request).secure_cookies, path="/")
    return response
