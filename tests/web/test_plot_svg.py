"""Server-rendered line charts: ticks, axes, categories, escaping, thinning."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from labvault.web.plot_svg import MAX_POINTS, line_chart, nice_ticks

NS = "{http://www.w3.org/2000/svg}"


def test_nice_ticks_cover_the_range_with_round_steps() -> None:
    assert nice_ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(3.0, 97.0) == [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    flat = nice_ticks(5.0, 5.0)
    assert flat[0] < 5.0 < flat[-1]


def _paths(svg: str) -> list[list[tuple[float, float]]]:
    tree = ET.fromstring(svg)
    out = []
    for g in tree.iter(f"{NS}g"):
        if "series" in (g.get("class") or ""):
            d = g.find(f"{NS}path").get("d")  # type: ignore[union-attr]
            out.append([(float(a), float(b)) for a, b in re.findall(r"([\d.]+) ([\d.]+)", d or "")])
    return out


def test_numeric_x_is_proportional_and_higher_y_is_drawn_higher() -> None:
    svg = line_chart({"loss": [(0, 1.0), (1, 0.5), (10, 0.25)]}, title="t")
    [pts] = _paths(svg)
    (x0, y0), (x1, y1), (x2, y2) = pts
    assert abs((x1 - x0) * 10 - (x2 - x0)) < 1.0  # x=1 sits a tenth of the way to x=10
    assert y0 < y1 < y2  # SVG y grows downwards: the largest value is highest


def test_text_x_values_are_categories_in_first_seen_order_and_escaped() -> None:
    svg = line_chart({"acc <b>": [("v1.0", 0.8), ("<v2>", 0.9)]}, title="a & b")
    tree = ET.fromstring(svg)
    texts = [t.text for t in tree.iter(f"{NS}text")]
    assert "a & b" in texts and "v1.0" in texts and "<v2>" in texts and "acc <b>" in texts
    [pts] = _paths(svg)
    assert pts[0][0] < pts[1][0]


def test_empty_and_long_series() -> None:
    assert "no data" in line_chart({"x": []}, title="nothing")
    assert "no data" in line_chart({"x": [(0, float("nan"))]})
    svg = line_chart({"big": [(i, float(i % 7)) for i in range(50_000)]})
    [pts] = _paths(svg)
    assert len(pts) == MAX_POINTS
    assert len(svg) < 120_000
