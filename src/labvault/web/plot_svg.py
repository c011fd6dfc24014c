"""Line charts as server-rendered SVG: usage history, forecasts, metrics over revisions, dvc plots.

A chart is a few series of (x, y) points. When every x is a number the x axis is linear, otherwise
x values are categories (revisions, dates as text) spaced evenly in first-seen order. Axes get
"nice" ticks (1, 2 or 5 times a power of ten); each series has its own colour class and a legend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = 6  # CSS classes s0..s5 colour the series
MAX_POINTS = 2000  # per series: longer series are thinned evenly (first and last kept)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0]
    if hi == lo:
        hi, lo = hi + (abs(hi) or 1.0) * 0.5, lo - (abs(lo) or 1.0) * 0.5
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(t, 12))
    return ticks


def _fmt(v: float) -> str:
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
        return f"{v:.3g}"
    return f"{v:.6g}"


def _thin(points: Sequence[tuple[object, float]]) -> Sequence[tuple[object, float]]:
    if len(points) <= MAX_POINTS:
        return points
    step = (len(points) - 1) / (MAX_POINTS - 1)
    return [points[round(i * step)] for i in range(MAX_POINTS)]


def line_chart(
    series: Mapping[str, Sequence[tuple[object, float]]], *, title: str = "", x_label: str = "",
    y_label: str = "", width: int = 640, height: int = 260, y_format: str = "",
) -> str:
    """The SVG text of a line chart; an empty chart says so instead of drawing axes."""
    data = {name: _thin([(x, float(y)) for x, y in pts if isinstance(y, (int, float)) and math.isfinite(y)])
            for name, pts in series.items()}
    data = {k: v for k, v in data.items() if v}
    head = f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" ' \
           f'width="{width}" height="{height}" role="img" aria-label="{escape(title or "chart")}">'
    caption = f'<text class="title" x="{width / 2:.0f}" y="16" text-anchor="middle">{escape(title)}</text>'
    if not data:
        return (head + caption + f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle">'
                "no data</text></svg>")
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for pts in data.values() for x, _ in pts)
    cats: dict[object, int] = {}
    if not numeric:
        for pts in data.values():
            for x, _ in pts:
                cats.setdefault(str(x), len(cats))

    def xval(x: object) -> float:
        return float(x) if numeric else float(cats[str(x)])  # type: ignore[arg-type]

    xs = [xval(x) for pts in data.values() for x, _ in pts]
    ys = [y for pts in data.values() for _, y in pts]
    yt = nice_ticks(min(ys), max(ys))
    x0, x1 = min(xs), max(xs)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    left, right, top, bottom = 64.0, 16.0, 28.0, 44.0 + 16 * math.ceil(len(data) / 3)
    pw, ph = width - left - right, height - top - bottom

    def sx(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * pw

    def sy(v: float) -> float:
        return top + ph - (v - yt[0]) / ((yt[-1] - yt[0]) or 1.0) * ph

    out = [head, caption, f'<g class="axes"><path d="M{left:.0f} {top:.0f} V{top + ph:.0f} H{left + pw:.0f}"/>']
    for t in yt:
        out.append(f'<path class="grid" d="M{left:.0f} {sy(t):.1f} H{left + pw:.0f}"/>'
                   f'<text x="{left - 6:.0f}" y="{sy(t) + 4:.1f}" text-anchor="end">{escape(_fmt(t) + y_format)}</text>')
    if numeric:
        xt = [(t, _fmt(t)) for t in nice_ticks(x0, x1) if x0 <= t <= x1]
    else:
        every = max(1, math.ceil(len(cats) / 8))
        xt = [(float(i), str(c)[:14]) for c, i in cats.items() if i % every == 0]
    for t, label in xt:
        out.append(f'<text x="{sx(t):.1f}" y="{top + ph + 16:.0f}" text-anchor="middle">{escape(label)}</text>')
    out.append(f'<text x="{left + pw / 2:.0f}" y="{top + ph + 32:.0f}" text-anchor="middle">{escape(x_label)}</text>'
               f'<text x="12" y="{top + ph / 2:.0f}" text-anchor="middle" '
               f'transform="rotate(-90 12 {top + ph / 2:.0f})">{escape(y_label)}</text></g>')
    for i, (name, pts) in enumerate(data.items()):
        cls = f"s{i % PALETTE}"
        coords = " L".join(f"{sx(xval(x)):.1f} {sy(y):.1f}" for x, y in pts)
        out.append(f'<g class="series {cls}"><title>{escape(name)}</title><path d="M{coords}"/>')
        if len(pts) <= 60:
            out += [f'<circle cx="{sx(xval(x)):.1f}" cy="{sy(y):.1f}" r="2.5"><title>{escape(f"{name}: {x} = {_fmt(y)}")}'
                    '</title></circle>' for x, y in pts]
        out.append("</g>")
        lx, ly = left + (i % 3) * (pw / 3), top + ph + 48 + 16 * (i // 3)
        out.append(f'<g class="legend {cls}"><rect x="{lx:.0f}" y="{ly - 9:.0f}" width="10" height="10"/>'
                   f'<text x="{lx + 14:.0f}" y="{ly:.0f}">{escape(name[:40])}</text></g>')
    out.append("</svg>")
    return "".join(out)
