"""The FastAPI application: settings, routers, error mapping, static files."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from labvault import __version__
from labvault.errors import LabvaultError, NotFound

STATIC = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class Settings:
    """What one server shows and how it guards it.

    ``auth_required`` False lets anonymous visitors read (never write); ``labvault serve`` allows it
    only on a loopback address when the catalog has no users."""

    catalog_url: str | None = None
    lab: str | None = None
    repos: tuple[str, ...] = ()
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    auth_required: bool = True
    secure_cookies: bool = False
    session_hours: float = 12.0
    login_attempts: int = 5  # failed logins per client and user name ...
    login_window: float = 300.0  # ... within this many seconds, before 429


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# exit code -> HTTP status: bad input; a conflict with the workspace or protected data; another
# process held a lock past the timeout, or archived objects are being restored (both: retry later).
_STATUS = {2: 400, 4: 409, 5: 503, 10: 503}


def _status_of(exc: LabvaultError) -> int:
    """404 for a name that names nothing known (the error says so by its class), else by exit code."""
    if isinstance(exc, NotFound):
        return 404
    return _STATUS.get(exc.exit_code, 500)


def create_app(settings: Settings) -> FastAPI:
    """The dashboard application for ``settings``: JSON API under /api/v1, pages, static files."""
    from labvault.web import api_routes, auth, pages
    from labvault.web.render import render

    app = FastAPI(title="labvault", version=__version__, docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/v1/openapi.json", dependencies=[Depends(auth.csrf_protect)])
    app.state.settings = settings
    app.state.limiter = auth.LoginLimiter(settings.login_attempts, settings.login_window)

    def wants_page(request: Request) -> bool:
        return not request.url.path.startswith(("/api/", "/static/")) and request.method == "GET"

    @app.exception_handler(LabvaultError)
    async def _labvault_error(request: Request, exc: LabvaultError) -> Response:
        if wants_page(request):  # a page answers with a page: the one line, and what to do
            return render(request, "error.html", _status_of(exc), message=exc.line())
        return JSONResponse({"error": exc.line()}, status_code=_status_of(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 401 and wants_page(request):
            return RedirectResponse(auth.login_url(request), status_code=303)
        if wants_page(request) and exc.status_code in (403, 404):
            return render(request, "error.html", exc.status_code, message=str(exc.detail))
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    app.include_router(auth.router)
    app.include_router(api_routes.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
