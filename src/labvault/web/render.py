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


PAGE_OF_KIND = {"dataset": "datasets", "model": "models", "run": "experiments"}


def ref_url(ref: str) -> str:
    """The page of a lineage ref ``KIND:NAME@VERSION``: the version's own page (a run's: its experiment's)."""
    kind, _, rest = ref.partition(":")
    name, _, version = rest.rpartition("@")
    path = f"/{PAGE_OF_KIND.get(kind, 'datasets')}/{name_path(name)}"
    return path if kind == "run" else f"{path}?version={quote(version, safe='')}"


HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
# htmx, copied from node_modules by `make web-assets`; the pages work without it
TEMPLATES.env.filters["name_path"] = name_path  # a catalog name in a link: "/" kept, the rest encoded
TEMPLATES.env.filters["ref_url"] = ref_url  # a lineage ref "KIND:NAME@VERSION" -> its page
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
