"""The forecast: a least-squares line through the usage history, a trend only when it fits."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labvault.tiers.forecast import MIN_POINTS, fit_line, trend_of

GIB = 1024**3
T0 = datetime(2026, 1, 1)


def _daily(values: list[int], every_hours: float = 24.0) -> list[tuple[datetime, int]]:
    return [(T0 + timedelta(hours=i * every_hours), v) for i, v in enumerate(values)]


def test_clean_linear_growth_gives_days_until_full_close_to_the_truth() -> None:
    # 100 GiB growing 2 GiB a day for 10 days (with a few KiB of jitter): 118 GiB of 200 GiB now.
    rng = random.Random(7)
    history = _daily([100 * GIB + 2 * GIB * i + rng.randrange(-4096, 4096) for i in range(10)])
    t = trend_of(history, 200 * GIB, 30.0)
    assert t.trend == "growing" and t.points == 10
    assert t.slope_per_day == pytest.approx(2 * GIB, rel=1e-4)
    assert t.days_until_full == pytest.approx((200 - 118) / 2, abs=0.01)
    assert t.r2 is not None and t.r2 > 0.999


def test_noise_around_a_level_is_no_trend() -> None:
    rng = random.Random(11)
    for _ in range(20):
        history = _daily([500 * GIB + rng.randrange(-5 * GIB, 5 * GIB) for _ in range(30)], every_hours=6)
        t = trend_of(history, 1000 * GIB, 30.0)
        assert t.trend == "no trend" and t.days_until_full is None


def test_too_few_points_or_one_instant_is_no_trend() -> None:
    assert trend_of(_daily([1, 2]), 10, 30.0).trend == "no trend"
    assert MIN_POINTS == 3
    same_time = [(T0, 1), (T0, 5), (T0, 9)]
    t = trend_of(same_time, 10, 30.0)
    assert t.trend == "no trend" and t.slope_per_day is None
    flat = trend_of(_daily([7, 7, 7, 7]), 10, 30.0)
    assert flat.trend == "no trend" and flat.slope_per_day == 0.0


def test_shrinking_and_unknown_total_give_no_days_until_full() -> None:
    down = trend_of(_daily([100 * GIB - GIB * i for i in range(8)]), 200 * GIB, 30.0)
    assert down.trend == "shrinking" and down.days_until_full is None
    up_no_total = trend_of(_daily([GIB * i for i in range(8)]), None, 30.0)
    assert up_no_total.trend == "growing" and up_no_total.days_until_full is None
    already_full = trend_of(_daily([GIB * i for i in range(8)]), 3 * GIB, 30.0)
    assert already_full.days_until_full == 0.0


def test_a_weak_slope_under_noise_is_not_a_trend() -> None:
    # +10 MiB a day under +-5 GiB of noise: the slope's standard error dwarfs it.
    rng = random.Random(3)
    history = _daily([GIB * 300 + 10 * 1024**2 * i + rng.randrange(-5 * GIB, 5 * GIB) for i in range(20)])
    assert trend_of(history, GIB * 1000, 30.0).trend == "no trend"


@settings(max_examples=200, deadline=None)
@given(
    slope=st.floats(-1e12, 1e12).filter(lambda s: abs(s) > 1e-3),
    intercept=st.floats(0, 1e15),
    xs=st.lists(st.floats(0, 365), min_size=3, max_size=60, unique=True).filter(
        lambda xs: max(xs) - min(xs) > 0.01),
)
def test_the_fit_on_exact_linear_data_recovers_the_slope(slope: float, intercept: float, xs: list[float]) -> None:
    ys = [intercept + slope * x for x in xs]
    fit = fit_line(xs, ys)
    assert fit is not None
    # What the doubles can carry: the slope's share of the values' magnitude.
    spread = max(xs) - min(xs)
    tolerance = 1e-9 * (abs(slope) + (abs(intercept) + abs(slope) * 365) / spread)
    assert fit.slope == pytest.approx(slope, abs=tolerance)


@settings(max_examples=100, deadline=None)
@given(
    per_day=st.integers(1024**2, 10 * GIB),  # a MiB a day or more: rounding to bytes is noise below 1e-4
    start=st.integers(0, 10**14),
    n=st.integers(3, 40),
    hours=st.floats(0.5, 48),
)
def test_exact_growth_in_bytes_is_a_growing_trend_with_the_true_rate(per_day: int, start: int, n: int,
                                                                     hours: float) -> None:
    history = [(T0 + timedelta(hours=i * hours), start + round(per_day * i * hours / 24)) for i in range(n)]
    total = start + per_day * 1000
    t = trend_of(history, total, 30.0)
    assert t.trend == "growing"
    assert t.slope_per_day == pytest.approx(per_day, rel=1e-3)
    assert t.days_until_full == pytest.approx((total - history[-1][1]) / per_day, rel=1e-3)
