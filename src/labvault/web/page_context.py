"""What every page handler needs from the running server (its settings, as plain values) and who
is asking (``Reader``: the viewer role at least)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request

from labvault.web.auth import require
from labvault.web.session import Viewer, settings_of

Reader = Annotated[Viewer, Depends(require("viewer"))]


def catalog_url(request: Request) -> str | None:
    url = settings_of(request).catalog_url
    return str(url) if url else None


def lab(request: Request) -> Path | None:
    path = settings_of(request).lab
    return Path(path) if path else None


def repos(request: Request) -> list[Path]:
    return [Path(p) for p in settings_of(request).repos]


def link(path: str, **params: object) -> str:
    """``path`` with the non-empty ``params`` as its query string."""
    query = urlencode({k: str(v) for k, v in params.items() if v not in (None, "", ())})
    return f"{path}?{query}" if query else path
