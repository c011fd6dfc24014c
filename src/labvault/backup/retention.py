"""Which snapshots a retention policy keeps: restic's ``forget`` rules, exactly (restic 0.14).

Within each group (by default host and paths, as ``restic forget``), snapshots are walked newest
first (a stable sort on time, so equal times keep their given order). A snapshot is kept when:

* it carries every tag of one of the ``keep_tags`` sets (not counted against anything);
* ``within`` is set and its time is strictly after the latest snapshot's time of the group minus
  the duration (years, months, days by calendar arithmetic that normalizes like Go's
  ``AddDate``: March 31 minus one month is March 3 or 2; then hours);
* a counting rule has count left and the snapshot opens a new bucket for it: ``last`` (every
  snapshot is its own bucket), ``hourly`` (year, month, day, hour), ``daily``, ``weekly`` (ISO
  year and week), ``monthly``, ``yearly``, all read from the snapshot's own wall-clock time and
  UTC offset. A rule's bucket advances (and its count drops) only on snapshots in a new bucket,
  whether or not another rule already kept the snapshot.

An empty policy keeps everything ("policy is empty"). Reasons are restic's words.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from labvault.errors import UsageError


@dataclass(frozen=True)
class Duration:
    """A ``--keep-within`` duration such as ``1y2m3d4h``."""

    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0

    def is_zero(self) -> bool:
        return not (self.years or self.months or self.days or self.hours)

    def __str__(self) -> str:
        parts = [f"{n}{u}" for n, u in ((self.years, "y"), (self.months, "m"), (self.days, "d"), (self.hours, "h")) if n]
        return "".join(parts) or "0h"


_PART = re.compile(r"(\d+)([ymdh])")


def parse_duration(text: str) -> Duration:
    """``1y2m3d4h`` (any subset, in any order, each unit at most once) -> Duration."""
    pos = 0
    seen: dict[str, int] = {}
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None or m.group(2) in seen:
            raise UsageError(f"invalid duration {text!r}",
                             "write numbers with units y, m, d, h, e.g. 1y2m3d4h or 14d")
        seen[m.group(2)] = int(m.group(1))
        pos = m.end()
    if not seen:
        raise UsageError(f"invalid duration {text!r}", "write numbers with units y, m, d, h, e.g. 1y2m3d4h or 14d")
    return Duration(seen.get("y", 0), seen.get("m", 0), seen.get("d", 0), seen.get("h", 0))


@dataclass(frozen=True)
class Policy:
    last: int = 0
    hourly: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0
    within: Duration = Duration()
    keep_tags: tuple[frozenset[str], ...] = ()

    def __post_init__(self) -> None:
        for name in ("last", "hourly", "daily", "weekly", "monthly", "yearly"):
            if getattr(self, name) < 0:
                raise UsageError(f"keep-{name} must not be negative", "give 0 (not used) or a positive count")

    def is_empty(self) -> bool:
        counts = (self.last, self.hourly, self.daily, self.weekly, self.monthly, self.yearly)
        return not any(counts) and self.within.is_zero() and not self.keep_tags


@dataclass(frozen=True)
class Snapshot:
    """What retention needs of a snapshot. ``time`` must carry its UTC offset."""

    id: str
    time: dt.datetime
    hostname: str = ""
    paths: tuple[str, ...] = ()
    tags: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Decision:
    snapshot: Snapshot
    keep: bool
    reasons: tuple[str, ...]  # why it is kept (empty when removed)


@dataclass(frozen=True)
class GroupPlan:
    hostname: str | None
    paths: tuple[str, ...] | None
    tags: tuple[str, ...] | None
    decisions: tuple[Decision, ...]  # newest first

    @property
    def keep(self) -> tuple[Snapshot, ...]:
        return tuple(d.snapshot for d in self.decisions if d.keep)

    @property
    def remove(self) -> tuple[Snapshot, ...]:
        return tuple(d.snapshot for d in self.decisions if not d.keep)


def _minus(t: dt.datetime, d: Duration) -> dt.datetime:
    """Go's ``t.AddDate(-y, -m, -d).Add(-h hours)``: out-of-range days roll over."""
    total = t.year * 12 + (t.month - 1) - d.years * 12 - d.months
    first = t.replace(year=total // 12, month=total % 12 + 1, day=1)
    return first + dt.timedelta(days=t.day - 1 - d.days) - dt.timedelta(hours=d.hours)


def _bucketers() -> list[tuple[str, str, Callable[[dt.datetime, int], int]]]:
    return [
        ("last", "last snapshot", lambda t, nr: nr),
        ("hourly", "hourly snapshot", lambda t, nr: ((t.year * 100 + t.month) * 100 + t.day) * 100 + t.hour),
        ("daily", "daily snapshot", lambda t, nr: (t.year * 100 + t.month) * 100 + t.day),
        ("weekly", "weekly snapshot", lambda t, nr: t.isocalendar()[0] * 100 + t.isocalendar()[1]),
        ("monthly", "monthly snapshot", lambda t, nr: t.year * 100 + t.month),
        ("yearly", "yearly snapshot", lambda t, nr: t.year),
    ]


def apply_policy(snapshots: Sequence[Snapshot], policy: Policy) -> list[Decision]:
    """Keep/remove for one group, newest first (restic's ``ApplyPolicy``)."""
    ordered = sorted(snapshots, key=lambda s: s.time, reverse=True)  # stable: ties keep input order
    if policy.is_empty():
        return [Decision(s, True, ("policy is empty",)) for s in ordered]
    if not ordered:
        return []
    counts = {name: getattr(policy, name) for name, _, _ in _bucketers()}
    last: dict[str, int | None] = dict.fromkeys(counts)
    since = None if policy.within.is_zero() else _minus(ordered[0].time, policy.within)
    out: list[Decision] = []
    for nr, snap in enumerate(ordered):
        reasons: list[str] = []
        for tagset in policy.keep_tags:
            if tagset <= snap.tags:
                reasons.append(f"has tags [{', '.join(sorted(tagset))}]")
        if since is not None and snap.time > since:
            reasons.append(f"within {policy.within}")
        for name, reason, bucket in _bucketers():
            if counts[name] > 0:
                value = bucket(snap.time, nr)
                if value != last[name]:
                    last[name] = value
                    counts[name] -= 1
                    reasons.append(reason)
        out.append(Decision(snap, bool(reasons), tuple(reasons)))
    return out


def group_key(snap: Snapshot, by: Iterable[str]) -> tuple[str | None, tuple[str, ...] | None, tuple[str, ...] | None]:
    keys = set(by)
    unknown = keys - {"host", "paths", "tags"}
    if unknown:
        raise UsageError(f"unknown grouping {','.join(sorted(unknown))}", "group by host, paths and/or tags")
    return (snap.hostname if "host" in keys else None,
            tuple(sorted(snap.paths)) if "paths" in keys else None,
            tuple(sorted(snap.tags)) if "tags" in keys else None)


def plan_retention(
    snapshots: Sequence[Snapshot], policy: Policy, group_by: Iterable[str] = ("host", "paths")
) -> list[GroupPlan]:
    """Group the snapshots (restic's default: host and paths) and apply ``policy`` to each group."""
    by = tuple(group_by)
    groups: dict[tuple[str | None, tuple[str, ...] | None, tuple[str, ...] | None], list[Snapshot]] = {}
    for s in snapshots:
        groups.setdefault(group_key(s, by), []).append(s)
    plans = []
    for key in sorted(groups, key=lambda k: (k[0] or "", k[1] or (), k[2] or ())):
        host, paths, tags = key
        plans.append(GroupPlan(host, paths, tags, tuple(apply_policy(groups[key], policy))))
    return plans
