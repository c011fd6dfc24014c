"""A lineage of more than 500 nodes in chromium: every node drawn with its label, the page within
the 500 KiB first-load budget, no console error; and a click expands in place through htmx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from labvault import api
from labvault.api import users
from labvault.catalog import store
from labvault.web.app import Settings
from labvault.web.render import HERE
from tests.web.browser.chromium import MAX_FIRST_LOAD, launch, screenshot, transferred, watched
from tests.web.browser.test_pages import playwright, sign_in  # noqa: F401  (fixture)
from tests.web.conftest import PASSWORD, RunningServer

WIDTH = 24  # runs made from the hub, and from each of their outputs: below the fan-out cap of 25


def seed_wide(url: str) -> int:
    """hub -> WIDTH runs -> one dataset each -> WIDTH - 4 runs each: the nodes within 3 steps."""
    api.catalog_register_dataset("hub", path="data/hub", catalog_url=url)
    nodes = 1
    for i in range(WIDTH):
        api.catalog_register_dataset(f"part-{i:02d}", path=f"data/part-{i:02d}", catalog_url=url)
        api.catalog_register_run("split", inputs=["hub@1"], outputs=[("dataset", f"part-{i:02d}@1")], catalog_url=url)
        nodes += 2
        for _ in range(WIDTH - 4):
            api.catalog_register_run(f"train-{i:02d}", inputs=[f"part-{i:02d}@1"], catalog_url=url)
            nodes += 1
    return nodes


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, int]]:
    base = tmp_path_factory.mktemp("widelab")
    url = f"sqlite:///{base}/catalog.db"
    nodes = seed_wide(url)
    users.user_add("reader", "viewer", PASSWORD, catalog_url=url)
    with RunningServer(Settings(catalog_url=url)) as running:
        yield type("Site", (), {"url": running.url, "user": "reader", "password": PASSWORD})(), nodes
    store.forget(url)


@pytest.fixture(scope="module")
def signed_in(playwright: Any, wide: tuple[Any, int], tmp_path_factory: pytest.TempPathFactory  # noqa: F811
              ) -> Iterator[Any]:
    context = launch(playwright, tmp_path_factory.mktemp("profile"))
    try:
        sign_in(context, wide[0])
        yield context
    finally:
        context.close()


def test_a_500_node_lineage_is_drawn_whole_and_small(signed_in: Any, wide: tuple[Any, int]) -> None:
    site, nodes = wide
    assert nodes >= 500
    with watched(signed_in) as (page, watch):
        page.goto(f"{site.url}/lineage?kind=dataset&ref=hub&depth=3")
        page.wait_for_load_state("networkidle")
        labels = page.locator("#graph-box .node text").all_text_contents()
        assert len(labels) == nodes and "hub@1" in labels and "train-23@20" in labels
        size = transferred(page)
        assert size <= MAX_FIRST_LOAD, f"{size} bytes"
        screenshot(page, "lineage-500")
        box = page.locator("#graph-box").bounding_box()
        root = page.locator("#graph-box .node.root").bounding_box()
        assert box is not None and root is not None
        # the opening view: 1:1, centred on the start node
        assert abs(view(page)[2] - box["width"]) < 2, (view(page), box)
        assert abs(root["x"] + root["width"] / 2 - (box["x"] + box["width"] / 2)) < 2
        assert abs(root["y"] + root["height"] / 2 - (box["y"] + box["height"] / 2)) < 2
        page.locator("button.fit").click()
        screenshot(page, "lineage-500-fit")
        # tall layers wrap into sub-columns, so the whole graph fits at a third of full size or more
        scale = view(page)[2] / box["width"]
        assert scale <= 3.0, scale
        assert not watch.problems, watch.problems


def view(page: Any) -> list[float]:
    return [float(v) for v in page.get_attribute("#graph-svg", "viewBox").split()]  # type: ignore[union-attr]


def test_expansion_swaps_the_graph_in_place_with_htmx(signed_in: Any, wide: tuple[Any, int]) -> None:
    if not (HERE / "static" / "vendor" / "htmx.min.js").is_file():
        pytest.skip("htmx is not in the static folder: run `make web-assets`")
    site, _ = wide
    with watched(signed_in) as (page, watch):
        page.goto(f"{site.url}/lineage?kind=dataset&ref=part-00&depth=1")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("typeof window.htmx") == "object"
        page.evaluate("window.stillHere = true")  # gone if the browser loaded a new page
        before = page.locator("#graph-box .node").count()
        page.locator("button.fit").click()
        assert "hub@1" not in page.inner_text("#graph-box")
        split = page.locator('#graph-box .node:has(text:text-is("split@1"))').first
        split_id, was, zoom = split.get_attribute("data-id"), split.bounding_box(), view(page)[2:]
        split.click()  # the run that made part-00
        page.wait_for_function(f"document.querySelectorAll('#graph-box .node').length > {before}")
        assert page.evaluate("window.stillHere === true")
        # the view survives the swap: the same zoom, the clicked node where it was on screen
        now = page.locator(f'#graph-box .node[data-id="{split_id}"]').bounding_box()
        assert was is not None and now is not None and view(page)[2:] == zoom
        assert abs(now["x"] - was["x"]) < 2 and abs(now["y"] - was["y"]) < 2, (was, now)
        assert "expand=" in page.url  # and the address was pushed, for back and reload
        assert "hub@1" in page.inner_text("#graph-box")
        assert not watch.problems, watch.problems


def test_the_picture_pans_and_zooms_without_following_links(signed_in: Any, wide: tuple[Any, int]) -> None:
    site, _ = wide
    with watched(signed_in) as (page, watch):
        page.goto(f"{site.url}/lineage?kind=dataset&ref=hub&depth=3")
        page.wait_for_load_state("networkidle")

        x0, y0, w0, h0 = view(page)
        box = page.locator("#graph-box").bounding_box()
        assert box is not None
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(cx, cy)
        page.mouse.down()
        page.mouse.move(cx - 200, cy - 150, steps=5)
        page.mouse.up()
        x1, y1, w1, h1 = view(page)
        assert abs(x1 - x0 - 200) < 2 and abs(y1 - y0 - 150) < 2 and (w1, h1) == (w0, h0)  # dragged at 1:1
        url = page.url
        page.mouse.wheel(0, 300)  # zoom out around the pointer
        page.wait_for_function(f"document.getElementById('graph-svg').viewBox.baseVal.width > {w1}")
        assert view(page)[2] > w1 and page.url == url  # nothing followed: the drag ended on no link
        assert not watch.problems, watch.problems
