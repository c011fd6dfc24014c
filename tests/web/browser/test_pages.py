"""Every dashboard page in headless chromium: it loads with no console error, no failed request and
no HTTP error, shows the seeded lab's data, stays within 500 KiB on first load, and leaves a
screenshot; the lists paginate to the end through their next links; the lineage graph expands on
click; the pages work with JavaScript turned off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser.chromium import MAX_FIRST_LOAD, launch, screenshot, transferred, watched

playwright_api = pytest.importorskip("playwright.sync_api")


def sign_in(context: Any, site: Any) -> None:
    """Through the login form, as a person would: the session cookie then signs every page."""
    with watched(context) as (page, watch):
        page.goto(site.url + "/datasets")
        assert "/login" in page.url  # not signed in yet: sent to the login page
        page.fill("input[name=username]", site.user)
        page.fill("input[name=password]", site.password)
        page.locator("form.login button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert page.url.rstrip("/").endswith("/datasets"), page.url  # back where it was going
        assert site.user in page.inner_text("header")
        assert not watch.problems, watch.problems


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def chromium(playwright: Any, site: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One signed-in browser for the module (a fresh profile)."""
    context = launch(playwright, tmp_path_factory.mktemp("chromium-profile"))
    try:
        sign_in(context, site)
        yield context
    finally:
        context.close()


def _pages(site: Any) -> list[tuple[str, str, list[str]]]:
    """(screenshot name, path, texts the page must show)."""
    s = site.seeded
    return [
        ("home", "/", ["Datasets", "Pipelines", "Alerts"]),
        ("datasets", "/datasets", [s.dataset]),
        ("models", "/models", [s.model]),
        ("experiments", "/experiments", [s.experiment]),
        ("dataset", f"/datasets/{s.dataset}", [s.dataset, "Versions", "Lineage", "Where it is stored"]),
        ("model", f"/models/{s.model}", [s.model, s.dataset]),
        ("experiment", f"/experiments/{s.experiment}", [s.metric]),
        ("lineage", f"/lineage?kind=dataset&ref={s.dataset}", [s.dataset, s.model]),
        ("pipeline", "/pipelines", [*s.stages, "fresh", "stale", "params"]),
        ("metrics", "/metrics", [s.metric_file, "Plots", s.plot_file]),
        ("tiers", "/tiers", [*s.tiers, "Lifecycle plan", "used (GiB)", "forecast"]),
        ("backups", "/backups", [s.backup_policy, "last success"]),
        ("alerts", "/alerts", ["Alerts"]),
    ]


def test_every_page_loads_clean_shows_the_lab_and_is_small(site: Any, chromium: Any) -> None:
    for name, path, texts in _pages(site):
        with watched(chromium) as (page, watch):
            response = page.goto(site.url + path)
            page.wait_for_load_state("networkidle")
            assert response is not None and response.status == 200, (path, response and response.status)
            body = page.inner_text("body")
            missing = [t for t in texts if t not in body]
            assert not missing, f"{path} does not show {missing}"
            size = transferred(page)
            assert 0 < size <= MAX_FIRST_LOAD, f"{path} transferred {size} bytes"
            screenshot(page, name)
            assert not watch.problems, f"{path}: {watch.problems}"


def _walk(page: Any, start: str) -> list[str]:
    """Follow the next links from ``start`` to the last page; the names in table order."""
    page.goto(start)
    names: list[str] = []
    for _ in range(200):
        names += page.locator("table.entries tbody tr td:first-child a").all_inner_texts()
        nxt = page.locator("a[rel=next]")
        if nxt.count() == 0:
            return names
        nxt.first.click()
        page.wait_for_load_state("networkidle")
    raise AssertionError("more than 200 pages")


def test_an_image_plot_is_drawn_on_the_metrics_page(site: Any, chromium: Any) -> None:
    with watched(chromium) as (page, watch):
        page.goto(site.url + "/metrics")
        page.wait_for_load_state("networkidle")
        image = page.locator("img.plot-image")
        assert image.count() == 1
        assert image.evaluate("i => [i.complete, i.naturalWidth, i.naturalHeight]") == [True, 64, 64]
        assert not watch.problems, watch.problems


def test_lists_paginate_to_the_end_without_duplicates_or_gaps(site: Any, chromium: Any) -> None:
    with watched(chromium) as (page, watch):
        names = _walk(page, site.url + "/datasets?limit=25")
        assert len(names) == len(set(names)), "a dataset shown twice"
        assert sorted(names) == sorted(site.seeded.all_datasets)
        # and back: the previous link of the last page leads to the page before it
        page.locator("a[rel=prev]").first.click()
        page.wait_for_load_state("networkidle")
        before_last = page.locator("table.entries tbody tr td:first-child a").all_inner_texts()
        assert before_last and set(before_last) <= set(names) and before_last[-1] != names[-1]
        screenshot(page, "datasets-paged")
        assert not watch.problems, watch.problems


def test_search_filters_the_list(site: Any, chromium: Any) -> None:
    with watched(chromium) as (page, watch):
        page.goto(site.url + "/datasets")
        page.fill("input[name=q]", site.seeded.dataset)
        page.locator("form.filters button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        shown = page.locator("table.entries tbody tr td:first-child a").all_inner_texts()
        assert shown and all(n.startswith(site.seeded.dataset) for n in shown)
        assert not watch.problems, watch.problems


def test_lineage_graph_expands_on_click(site: Any, chromium: Any) -> None:
    s = site.seeded
    with watched(chromium) as (page, watch):
        page.goto(f"{site.url}/lineage?kind=dataset&ref={s.dataset}&depth=1")
        page.wait_for_load_state("networkidle")
        before = page.locator("#graph-box .node").count()
        assert s.far_node not in page.inner_text("#graph-box")
        page.locator("button.fit").click()  # the whole graph in view (a reader would pan or zoom)
        page.locator(f'#graph-box .node[data-id] >> text="{s.model_ref}"').first.click()
        page.wait_for_function(f"document.querySelectorAll('#graph-box .node').length > {before}")
        assert s.far_node in page.inner_text("#graph-box")
        assert "expand=" in page.url  # the expanded state is in the address, for back and reload
        screenshot(page, "lineage-expanded")
        assert not watch.problems, watch.problems


def test_pages_work_without_javascript(playwright: Any, site: Any, tmp_path: Path) -> None:
    context = launch(playwright, tmp_path / "profile", javascript=False)
    try:
        sign_in(context, site)
        page = context.new_page()
        names = _walk(page, site.url + "/datasets?limit=25")
        assert sorted(names) == sorted(site.seeded.all_datasets)
        page.goto(f"{site.url}/lineage?kind=dataset&ref={site.seeded.dataset}&depth=1")
        assert site.seeded.far_node not in page.inner_text("#graph-box")
        page.locator(f'#graph-box a >> text="{site.seeded.model_ref}"').first.click()
        page.wait_for_load_state("load")
        assert site.seeded.far_node in page.inner_text("#graph-box")
    finally:
        context.close()


def test_login_refuses_a_wrong_csrf_token_and_a_wrong_password(playwright: Any, site: Any, tmp_path: Path) -> None:
    context = launch(playwright, tmp_path / "profile")
    try:
        with watched(context) as (page, watch):
            watch.allow_status = {401, 403}
            page.goto(site.url + "/login")
            screenshot(page, "login")
            page.fill("input[name=username]", site.user)
            page.fill("input[name=password]", site.password)
            page.evaluate("document.querySelector('input[name=csrf_token]').value = 'forged'")
            with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as sent:
                page.locator("form.login button[type=submit]").click()
            assert sent.value.status == 403
            assert "CSRF" in page.inner_text("body")
            assert context.cookies() and "lv_session" not in {c["name"] for c in context.cookies()}

            page.goto(site.url + "/login")
            page.fill("input[name=username]", site.user)
            page.fill("input[name=password]", "not the password")
            page.locator("form.login button[type=submit]").click()
            page.wait_for_load_state("networkidle")
            assert "wrong user name or password" in page.inner_text("body")
            assert "lv_session" not in {c["name"] for c in context.cookies()}
            assert not [p for p in watch.problems if "HTTP" not in p and "status of 40" not in p], watch.problems
    finally:
        context.close()
