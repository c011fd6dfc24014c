"""Days until full: a least-squares line through the recorded usage, trusted only when it fits.

The rule (docs/design.md, "Monitor"): over the points of the last ``window_days`` (at least
:data:`MIN_POINTS`), fit ``used = a + b * t`` by ordinary least squares, ``t`` in days. The line is
a trend only when

* the slope is significant: ``|b| >= T_MIN * se(b)``, where ``se(b)`` is the slope's standard error
  (``sqrt(SSR / (n - 2) / Sxx)``; exact data has ``se = 0``), and
* it explains the data: ``R^2 >= R2_MIN``.

Then the trend is "growing" (b > 0) or "shrinking" (b < 0); otherwise "no trend" (noise, a flat
line, too few points, or all points at one instant), which is never an alarm. Days until full are
given only when growing and the capacity is known: ``(total - used_now) / b``, counted from the
newest point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

MIN_POINTS = 3
T_MIN = 3.0
R2_MIN = 0.5
DAY = 86400.0


@dataclass(frozen=True)
class Fit:
    """A least-squares line: ``used = intercept + slope * days`` (days since the first point)."""

    points: int
    slope: float  # bytes per day
    intercept: float
    r2: float  # 1.0 when the data is exactly a line (or does not vary)
    slope_stderr: float


@dataclass(frozen=True)
class Trend:
    """What the history says: ``trend`` is "growing", "shrinking" or "no trend"; slope in bytes a
    day; ``days_until_full`` only for a growing trend with a known total."""

    trend: str
    points: int
    window_days: float
    slope_per_day: float | None
    r2: float | None
    slope_stderr: float | None
    days_until_full: float | None


def fit_line(xs: Sequence[float], ys: Sequence[float]) -> Fit | None:
    """Ordinary least squares; None with fewer than 2 points or when every x is the same."""
    n = len(xs)
    if n < 2 or n != len(ys):
        return None
    mx, my = math.fsum(xs) / n, math.fsum(ys) / n
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    if sxx <= 0.0:
        return None
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    syy = math.fsum((y - my) ** 2 for y in ys)
    slope = sxy / sxx
    intercept = my - slope * mx
    ssr = math.fsum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    # Residuals within the rounding of doubles are zero: exact data gives r2 1 and stderr 0.
    scale = max(abs(y) for y in ys)
    if ssr <= n * (scale * 1e-13) ** 2:
        ssr = 0.0
    r2 = 1.0 if syy <= 0.0 or ssr == 0.0 else max(0.0, 1.0 - ssr / syy)
    stderr = math.sqrt(ssr / (n - 2) / sxx) if n > 2 else math.inf
    return Fit(n, slope, intercept, r2, stderr)


def trend_of(history: Sequence[tuple[datetime, int]], total: int | None, window_days: float) -> Trend:
    """The trend of ``(at, used)`` points (any order) against ``total`` bytes (None or 0: unknown)."""
    points = sorted(history)
    if len(points) < MIN_POINTS:
        return Trend("no trend", len(points), window_days, None, None, None, None)
    t0 = points[0][0]
    xs = [(at - t0).total_seconds() / DAY for at, _ in points]
    ys = [float(used) for _, used in points]
    fit = fit_line(xs, ys)
    if fit is None:
        return Trend("no trend", len(points), window_days, None, None, None, None)
    significant = fit.slope != 0.0 and abs(fit.slope) >= T_MIN * fit.slope_stderr
    kind = "no trend"
    if significant and fit.r2 >= R2_MIN:
        kind = "growing" if fit.slope > 0 else "shrinking"
    days = None
    if kind == "growing" and total:
        days = max(0.0, (total - ys[-1]) / fit.slope)
    stderr = fit.slope_stderr if math.isfinite(fit.slope_stderr) else None
    return Trend(kind, fit.points, window_days, fit.slope, round(fit.r2, 6), stderr, days)
