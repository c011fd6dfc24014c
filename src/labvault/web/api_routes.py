"""The JSON API under ``/api/v1``: the routers of each part, gathered. Every list is a page
``{"items": [...], "next": cursor|null}`` of at most 500 items (``?limit=``, ``?after=``)."""

from __future__ import annotations

from fastapi import APIRouter

from labvault.web import api_admin, api_catalog, api_lab, api_repos

PREFIX = "/api/v1"

router = APIRouter(prefix=PREFIX)
router.include_router(api_lab.router)
router.include_router(api_admin.router)
router.include_router(api_repos.router)
router.include_router(api_catalog.router)
