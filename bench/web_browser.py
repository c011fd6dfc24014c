"""The pages side of bench/web_bench.py: headless chromium (Debian's, driven by Playwright) signs in
through the login form, then loads every page of the dashboard once with an empty cache, counting
the bytes transferred (document and every resource), and times the hub's lineage page until its
529 nodes are drawn and the page answers a script (interactive)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("LABVAULT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PAGES = ("/", "/datasets", "/models", "/experiments", "/datasets/bench/hub", "/models/models/model00001",
         "/experiments/exp0001", "/lineage?kind=dataset&ref=bench/hub@1&depth=3")
WITHOUT_LAB = ("/pipelines", "/metrics", "/tiers", "/backups", "/alerts")  # 404 when no lab or repo is served
TRANSFERRED = """() => performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource"))
    .reduce((n, e) => n + (e.transferSize || e.encodedBodySize || 0), 0)"""
HUB_NODES = 529


def _problem(problems: list[str]) -> Any:
    def on_response(r: Any) -> None:
        if r.status >= 400:
            problems.append(f"HTTP {r.status}: {r.url}")
    return on_response


def measure_pages(base: str, user: str, password: str, profile: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"no chromium at {CHROMIUM}: apt-get install -y chromium (or `make browser`)")
    out: dict[str, Any] = {"pages": {}}
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, args=ARGS,
                                                        headless=True, viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.goto(base + "/login")
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", password)
            page.locator("form.login button[type=submit]").click()
            page.wait_for_load_state("networkidle")
            if "/login" in page.url:
                raise SystemExit("the browser could not sign in")
            page.close()
            for path in PAGES + WITHOUT_LAB:
                problems: list[str] = []
                page = context.new_page()
                page.on("response", _problem(problems))
                page.on("pageerror", lambda e, p=problems: p.append(f"page error: {e}"))
                client = context.new_cdp_session(page)
                client.send("Network.enable")
                client.send("Network.setCacheDisabled", {"cacheDisabled": True})  # a first load
                t = time.perf_counter()
                page.goto(base + path)
                if path.startswith("/lineage"):
                    page.wait_for_function(f"document.querySelectorAll('#graph-box .node').length >= {HUB_NODES}",
                                           timeout=30_000)
                    page.evaluate("1")  # the main thread answers: interactive
                    out["lineage_page"] = {"interactive_s": round(time.perf_counter() - t, 3),
                                           "nodes": page.locator("#graph-box .node").count()}
                page.wait_for_load_state("networkidle")
                size = int(page.evaluate(TRANSFERRED))
                if path in WITHOUT_LAB and problems == [f"HTTP 404: {base}{path}"]:
                    out.setdefault("not_served", []).append(path)
                    print(f"  page {path:50} not served (no lab or repository in this benchmark)", flush=True)
                    page.close()
                    continue
                if problems:
                    raise SystemExit(f"page {path}: {problems[:3]}")
                out["pages"][path] = {"bytes": size, "kib": round(size / 1024, 1)}
                print(f"  page {path:50} {size / 1024:8.1f} KiB", flush=True)
                page.close()
        finally:
            context.close()
    print(f"  lineage page of the hub: {out['lineage_page']['nodes']} nodes, interactive in "
          f"{out['lineage_page']['interactive_s']:.2f} s", flush=True)
    return out
