"""Debian's chromium driven by Playwright: every visit checked for console errors, failed requests
and HTTP errors, and a screenshot of each page kept under ``tests/artifacts/screenshots/``."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("LABVAULT_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
MAX_FIRST_LOAD = 500 * 1024  # bytes transferred by a page's first load, everything included


@dataclass
class Watch:
    """What went wrong while a page was open, and what it transferred."""

    problems: list[str] = field(default_factory=list)
    allow_status: set[int] = field(default_factory=set)

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} {r.failure}"))
        page.on("response", self._response)

    def _response(self, r: Any) -> None:
        if r.status >= 400 and r.status not in self.allow_status:
            self.problems.append(f"HTTP {r.status}: {r.url}")


TRANSFERRED = """() => performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource"))
    .reduce((n, e) => n + (e.transferSize || e.encodedBodySize || 0), 0)"""


def transferred(page: Any) -> int:
    """Bytes the page's load transferred (document and every resource, headers included)."""
    return int(page.evaluate(TRANSFERRED))


def launch(playwright: Any, user_data_dir: Path, javascript: bool = True) -> Any:
    """Chromium with a fresh profile in ``user_data_dir``."""
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}: run `make browser`")
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir), executable_path=str(CHROMIUM), args=ARGS, headless=True,
        viewport={"width": 1280, "height": 900}, java_script_enabled=javascript,
    )


@contextmanager
def watched(context: Any) -> Iterator[tuple[Any, Watch]]:
    """A fresh tab whose problems are collected; closed afterwards."""
    page = context.new_page()
    watch = Watch()
    watch.attach(page)
    try:
        yield page, watch
    finally:
        page.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=False)
    return path
