"""Retention: invariants on random histories (Hypothesis), and the rules restic documents."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labvault.backup.retention import (
    Duration,
    Policy,
    Snapshot,
    apply_policy,
    parse_duration,
    plan_retention,
)
from labvault.errors import UsageError

UTC = dt.timezone.utc
zones = st.sampled_from([UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=-7, minutes=-30))])
times = st.datetimes(min_value=dt.datetime(2018, 1, 1), max_value=dt.datetime(2024, 12, 31), timezones=zones)
snapshots = st.lists(
    st.builds(lambda t, h, p, tags: (t, h, p, tags), times, st.sampled_from(["h1", "h2"]),
              st.sampled_from([("/a",), ("/b",), ("/a", "/b")]), st.frozensets(st.sampled_from(["x", "y"]))),
    max_size=40,
).map(lambda rows: [Snapshot(f"s{i:03d}", *row) for i, row in enumerate(rows)])
counts = st.integers(min_value=0, max_value=5)
policies = st.builds(Policy, counts, counts, counts, counts, counts, counts,
                     st.builds(Duration, st.integers(0, 1), st.integers(0, 3), st.integers(0, 20), st.integers(0, 30)),
                     st.lists(st.frozensets(st.sampled_from(["x", "y"]), min_size=1), max_size=2).map(tuple))


@settings(max_examples=300, deadline=None)
@given(snapshots, policies, st.sampled_from([("host", "paths"), ("host",), (), ("tags",)]))
def test_every_snapshot_in_exactly_one_set(snaps: list[Snapshot], policy: Policy, by: tuple[str, ...]) -> None:
    plans = plan_retention(snaps, policy, by)
    kept = [s.id for p in plans for s in p.keep]
    removed = [s.id for p in plans for s in p.remove]
    assert len(kept) == len(set(kept)) and len(removed) == len(set(removed))
    assert set(kept) | set(removed) == {s.id for s in snaps} and not set(kept) & set(removed)
    for p in plans:
        for d in p.decisions:
            assert d.keep == bool(d.reasons)
        if not policy.is_empty():
            assert sum(1 for d in p.decisions if "last snapshot" in d.reasons) == min(policy.last, len(p.decisions))


@settings(max_examples=300, deadline=None)
@given(snapshots, st.integers(1, 45))
def test_keep_last_keeps_the_newest(snaps: list[Snapshot], n: int) -> None:
    decisions = apply_policy(snaps, Policy(last=n))
    newest = sorted(snaps, key=lambda s: s.time, reverse=True)[:n]
    assert [d.snapshot.id for d in decisions if d.keep] == [s.id for s in newest]


utc_snapshots = st.lists(st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2020, 3, 1),
                                      timezones=st.just(UTC)), max_size=40, unique=True).map(
    lambda ts: [Snapshot(f"s{i:03d}", t) for i, t in enumerate(ts)])


@settings(max_examples=200, deadline=None)
@given(utc_snapshots, st.integers(1, 6))
def test_daily_keeps_the_newest_of_each_of_the_latest_days(snaps: list[Snapshot], n: int) -> None:
    """In one time zone: the newest snapshot of each of the n latest days that have one."""
    newest_of_day: dict[dt.date, Snapshot] = {}
    for s in sorted(snaps, key=lambda s: s.time, reverse=True):
        newest_of_day.setdefault(s.time.date(), s)
    want = [newest_of_day[day].id for day in sorted(newest_of_day, reverse=True)[:n]]
    assert [d.snapshot.id for d in apply_policy(snaps, Policy(daily=n)) if d.keep] == want


def test_empty_policy_keeps_everything() -> None:
    t = dt.datetime(2020, 1, 1, tzinfo=UTC)
    d = apply_policy([Snapshot("a", t), Snapshot("b", t + dt.timedelta(hours=1))], Policy())
    assert [(x.snapshot.id, x.keep, x.reasons) for x in d] == [("b", True, ("policy is empty",)),
                                                               ("a", True, ("policy is empty",))]


def test_within_uses_calendar_arithmetic_like_go() -> None:
    latest = dt.datetime(2021, 3, 31, 12, tzinfo=UTC)
    # Go: 2021-03-31 minus one month = 2021-02-31 = 2021-03-03; strictly after is kept
    at = dt.datetime(2021, 3, 3, 12, tzinfo=UTC)
    snaps = [Snapshot("new", latest), Snapshot("edge", at), Snapshot("in", at + dt.timedelta(seconds=1))]
    kept = {d.snapshot.id for d in apply_policy(snaps, Policy(within=parse_duration("1m"))) if d.keep}
    assert kept == {"new", "in"}


@pytest.mark.parametrize("text,want", [("1y2m3d4h", Duration(1, 2, 3, 4)), ("14d", Duration(days=14)),
                                       ("5h2y", Duration(years=2, hours=5))])
def test_durations(text: str, want: Duration) -> None:
    assert parse_duration(text) == want


@pytest.mark.parametrize("text", ["", "1", "d", "1w", "1d1d", "-1d", "1.5d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)
