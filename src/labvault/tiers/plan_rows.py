"""The lifecycle planner's reads of the catalog: a few set-wise queries, never one per unit.

- :func:`tier_totals`: bytes of live placements per tier and the number of units placed, from
  grouped queries (every unit counts, whether a rule touches it or not).
- :func:`candidates`: the live placements of the units a rule or promotion could touch, as
  :class:`~labvault.tiers.rules.Candidate` rows ordered by unit. A unit is fetched (with all its
  live placements, so the planner knows which tiers already hold a copy) when one of its
  placements passes a rule's conditions that SQL can test (tier; last access, age: a cutoff one
  day looser than the rule; size bounds; kinds), or when it has enough recent reads for promotion.
  The SQL test only narrows: the planner evaluates every rule exactly on what it gets, so a
  placement left out is one that matches no rule (name globs and tags are left to the planner).
- :func:`labels`, :func:`active_inputs`, :func:`recent_reads`, :func:`smallest_files`: the tags
  and aliases the rules and pins name, the inputs of recent runs, recent read counts, and the
  smallest file of placements bound to an infrequent-access class.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from labvault.catalog.lab_schema import lab_access, lab_file_stats, lab_placements, lab_units
from labvault.catalog.schema import aliases, edges, tags, versions
from labvault.tiers.lab import LabConfig, Rule
from labvault.tiers.rules import Candidate
from labvault.tiers.units import DIR_SUFFIX, LIVE_STATES

# How much looser than a rule the SQL cutoffs on times are: far more than any rounding of days to
# microseconds, and enough that a timestamp stored in another text form (SQLite compares text) is
# still on the right side of it.
SLACK = timedelta(days=1)


def tier_totals(conn: sa.Connection) -> tuple[dict[str, int], int]:
    """(``tier -> bytes`` of its live placements, the number of units with a live placement)."""
    p, u = lab_placements, lab_units
    live = p.c.state.in_(LIVE_STATES)
    by_tier = (sa.select(p.c.tier, sa.func.coalesce(sa.func.sum(u.c.size), 0))
               .select_from(p.join(u, u.c.id == p.c.unit_id)).where(live).group_by(p.c.tier))
    units = (sa.select(sa.func.count(sa.distinct(p.c.unit_id)))
             .select_from(p.join(u, u.c.id == p.c.unit_id)).where(live))
    return {r[0]: int(r[1]) for r in conn.execute(by_tier)}, int(conn.execute(units).scalar() or 0)


def candidates(conn: sa.Connection, lab: LabConfig, as_of: datetime, promoted: bool) -> Iterator[Candidate]:
    """Live placements of the units a rule or promotion may touch (module doc), ordered by unit id
    then placement id; ``promoted``: units with enough recent reads are included."""
    u, p = lab_units, lab_placements
    names = {t.name for t in lab.tiers}
    wanted: list[sa.Select[Any]] = [_rule_units(r, as_of) for r in lab.rules if r.from_tier in names]
    if promoted:
        wanted.append(_reads_query(lab, as_of).with_only_columns(lab_access.c.unit_id))
    if not wanted:
        return
    q = (sa.select(u.c.id, u.c.kind, u.c.name, u.c.version, u.c.part, u.c.size, u.c.nfiles, u.c.version_id,
                   u.c.created_at, u.c.modified_at, u.c.last_access, p.c.id, p.c.tier, p.c.location, p.c.created_at)
         .select_from(p.join(u, u.c.id == p.c.unit_id))
         .where(p.c.state.in_(LIVE_STATES), p.c.unit_id.in_(sa.union(*wanted)))
         .order_by(p.c.unit_id, p.c.id))
    make = Candidate._make
    for part in conn.execute(q).partitions(10_000):
        yield from map(make, part)


def _rule_units(rule: Rule, as_of: datetime) -> sa.Select[Any]:
    """Units with a live placement on the rule's tier that passes its SQL-testable conditions."""
    u, p = lab_units, lab_placements
    cond: list[sa.ColumnElement[bool]] = [p.c.tier == rule.from_tier, p.c.state.in_(LIVE_STATES)]
    if rule.last_access_days is not None:
        cond.append(_at_or_before(sa.func.coalesce(u.c.last_access, u.c.created_at), as_of, rule.last_access_days))
    if rule.age_days is not None:
        cond.append(_at_or_before(sa.func.coalesce(u.c.modified_at, u.c.created_at), as_of, rule.age_days))
    if rule.min_size is not None:
        cond.append(u.c.size >= rule.min_size)
    if rule.max_size is not None:
        cond.append(u.c.size <= rule.max_size)
    if rule.kinds:
        cond.append(u.c.kind.in_(rule.kinds))
    return sa.select(p.c.unit_id).select_from(p.join(u, u.c.id == p.c.unit_id)).where(*cond)


def _at_or_before(when: sa.ColumnElement[datetime], as_of: datetime, days: float) -> sa.ColumnElement[bool]:
    """``when`` at least ``days`` before ``as_of``, loosened by SLACK (True/False past the calendar's ends)."""
    try:
        cutoff = as_of - timedelta(days=days)
    except OverflowError:
        return sa.false() if days > 0 else sa.true()
    try:
        return when <= cutoff + SLACK
    except OverflowError:
        return sa.true()


def labels(conn: sa.Connection, wanted: frozenset[str]) -> dict[int, frozenset[str]]:
    """``version id -> its tags and aliases`` among ``wanted``."""
    if not wanted:
        return {}
    found: dict[int, set[str]] = {}
    q = sa.union_all(sa.select(tags.c.version_id, tags.c.tag).where(tags.c.tag.in_(sorted(wanted))),
                     sa.select(aliases.c.version_id, aliases.c.alias).where(aliases.c.alias.in_(sorted(wanted))))
    for vid, label in conn.execute(q):
        found.setdefault(int(vid), set()).add(label)
    return {vid: frozenset(s) for vid, s in found.items()}


def active_inputs(conn: sa.Connection, since: datetime) -> frozenset[int]:
    """Versions that are inputs of runs started at or after ``since`` (a run's start, else its
    record time). Runs after the plan's date count too: their inputs are in use now."""
    started = sa.func.coalesce(versions.c.started_at, versions.c.created_at)
    q = (sa.select(edges.c.src_id).distinct().select_from(edges.join(versions, versions.c.id == edges.c.dst_id))
         .where(edges.c.relation == "input", versions.c.kind == "run", started >= since))
    return frozenset(int(r[0]) for r in conn.execute(q))


def _reads_query(lab: LabConfig, as_of: datetime) -> sa.Select[Any]:
    promo = lab.promotion
    total = sa.func.sum(lab_access.c.reads)
    return (sa.select(lab_access.c.unit_id, total)
            .where(lab_access.c.at >= as_of - timedelta(days=promo.within_days), lab_access.c.at <= as_of)
            .group_by(lab_access.c.unit_id).having(total >= promo.reads))


def recent_reads(conn: sa.Connection, lab: LabConfig, as_of: datetime) -> dict[int, int]:
    """``unit id -> reads`` within the promotion window, for units with at least ``reads`` reads."""
    if lab.promotion.reads <= 0:
        return {}
    return {int(r[0]): int(r[1]) for r in conn.execute(_reads_query(lab, as_of))}


def smallest_files(conn: sa.Connection, placement_ids: Iterable[int]) -> dict[int, int]:
    """``placement id -> its smallest file`` from the scan's stat cache (placements it knows; its
    folder rows left out)."""
    ids = sorted(set(placement_ids))
    found: dict[int, int] = {}
    for i in range(0, len(ids), 500):
        q = (sa.select(lab_file_stats.c.placement_id, sa.func.min(lab_file_stats.c.size))
             .where(lab_file_stats.c.placement_id.in_(ids[i:i + 500]), ~lab_file_stats.c.relpath.endswith(DIR_SUFFIX))
             .group_by(lab_file_stats.c.placement_id))
        found.update({int(r[0]): int(r[1]) for r in conn.execute(q)})
    return found
