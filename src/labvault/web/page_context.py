"""What every page handler needs from the running server: its settings, as plain values."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request


def settings(request: Request) -> Any:
    return request.app.state.settings


def catalog_url(request: Request) -> str | None:
    url = getattr(settings(request), "catalog_url", None)
    return str(url) if url else None


def lab(request: Request) -> Path | None:
    path = getattr(settings(request), "lab", None)
    return Path(path) if path else None


def repos(request: Request) -> list[Path]:
    return [Path(p) for p in getattr(settings(request), "repos", ()) or ()]


def link(path: str, **params: object) -> str:
    """``path`` with the non-empty ``params`` as its query string."""
    query = urlencode({k: str(v) for k, v in params.items() if v not in (None, "", ())})
    return f"{path}?{query}" if query else path
