"""``lifecycle plan``: which units move to which tier, and what that saves.

One read of ``lab_units`` joined to the live placements (ordered by unit), plus one query each for
the labels the rules and pins name (tags and aliases), the inputs of recent runs (lineage pins),
recent read counts (promotion) and, only for units bound to an infrequent-access class, their
smallest file. No file is touched and no per-unit query is made.

Per unit: promotion on access first (``Promotion.reads`` reads within ``within_days`` bring the
hottest copy colder than the target up to it); then each other placement takes the first rule of
its tier that it matches. A demotion of a pinned unit, a move off a tier before its minimum
storage duration (unless ``allow_early``), a move of small objects to an IA class, and a move to
a tier that already holds a copy are listed as refused, with the reason (and fee).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from itertools import groupby

import sqlalchemy as sa

from labvault.catalog.lab_schema import lab_access, lab_file_stats, lab_placements, lab_units
from labvault.catalog.schema import aliases, edges, tags, versions
from labvault.catalog.store import Catalog
from labvault.tiers import rules as _rules
from labvault.tiers.lab import LabConfig
from labvault.tiers.plan_types import Move, Plan, Refused
from labvault.tiers.rules import Candidate
from labvault.tiers.units import DIR_SUFFIX, LIVE_STATES


def naive_utc(when: datetime) -> datetime:
    """``when`` as naive UTC, the form the catalog's timestamps have (naive input is taken as UTC)."""
    return when.astimezone(timezone.utc).replace(tzinfo=None) if when.tzinfo is not None else when


def plan_lifecycle(cat: Catalog, lab: LabConfig, as_of: datetime, allow_early: bool = False) -> Plan:
    as_of = naive_utc(as_of)
    names = {t.name for t in lab.tiers}
    with cat.read() as conn:
        wanted = frozenset(lab.pins.tags).union(*(r.tags for r in lab.rules))
        labels = _labels(conn, wanted)
        active = _active_inputs(conn, as_of - timedelta(days=lab.pins.active_run_days))
        reads = _recent_reads(conn, lab, as_of)
        planner = _Planner(lab, as_of, allow_early, labels, active, reads)
        for _, group in groupby(_candidates(conn), key=lambda c: c.unit_id):
            found = list(group)
            planner.unit([c for c in found if c.tier in names], [c for c in found if c.tier not in names])
        smallest = _smallest_files(conn, planner.ia_bound())
    planner.settle_small_objects(smallest)
    return planner.result()


def _candidates(conn: sa.Connection) -> Iterator[Candidate]:
    u, p = lab_units, lab_placements
    q = (sa.select(u.c.id, u.c.kind, u.c.name, u.c.version, u.c.part, u.c.size, u.c.nfiles, u.c.version_id,
                   u.c.created_at, u.c.modified_at, u.c.last_access, p.c.id, p.c.tier, p.c.location, p.c.created_at)
         .select_from(p.join(u, u.c.id == p.c.unit_id)).where(p.c.state.in_(LIVE_STATES))
         .order_by(u.c.id, p.c.id))
    for part in conn.execute(q).partitions(10_000):
        for r in part:
            yield Candidate(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), r[7], r[8], r[9], r[10],
                            int(r[11]), r[12], r[13], r[14])


def _labels(conn: sa.Connection, wanted: frozenset[str]) -> dict[int, frozenset[str]]:
    """``version id -> its tags and aliases`` among ``wanted``."""
    if not wanted:
        return {}
    found: dict[int, set[str]] = {}
    q = sa.union_all(sa.select(tags.c.version_id, tags.c.tag).where(tags.c.tag.in_(sorted(wanted))),
                     sa.select(aliases.c.version_id, aliases.c.alias).where(aliases.c.alias.in_(sorted(wanted))))
    for vid, label in conn.execute(q):
        found.setdefault(int(vid), set()).add(label)
    return {vid: frozenset(s) for vid, s in found.items()}


def _active_inputs(conn: sa.Connection, since: datetime) -> frozenset[int]:
    """Versions that are inputs of runs started at or after ``since`` (a run's start, else its
    record time). Runs after the plan's date count too: their inputs are in use now."""
    started = sa.func.coalesce(versions.c.started_at, versions.c.created_at)
    q = (sa.select(edges.c.src_id).distinct().select_from(edges.join(versions, versions.c.id == edges.c.dst_id))
         .where(edges.c.relation == "input", versions.c.kind == "run", started >= since))
    return frozenset(int(r[0]) for r in conn.execute(q))


def _recent_reads(conn: sa.Connection, lab: LabConfig, as_of: datetime) -> dict[int, int]:
    """``unit id -> reads`` within the promotion window, for units with at least ``reads`` reads."""
    promo = lab.promotion
    if promo.reads <= 0:
        return {}
    total = sa.func.sum(lab_access.c.reads)
    q = (sa.select(lab_access.c.unit_id, total)
         .where(lab_access.c.at >= as_of - timedelta(days=promo.within_days), lab_access.c.at <= as_of)
         .group_by(lab_access.c.unit_id).having(total >= promo.reads))
    return {int(r[0]): int(r[1]) for r in conn.execute(q)}


def _smallest_files(conn: sa.Connection, placement_ids: Iterable[int]) -> dict[int, int]:
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


class _Planner:
    """Collects moves and refusals unit by unit, then the totals."""

    def __init__(self, lab: LabConfig, as_of: datetime, allow_early: bool, labels: dict[int, frozenset[str]],
                 active: frozenset[int], reads: dict[int, int]) -> None:
        self.lab, self.as_of, self.allow_early = lab, as_of, allow_early
        self.labels, self.active, self.reads = labels, active, reads
        self.tiers = {t.name: t for t in lab.tiers}
        self.rank = {t.name: i for i, t in enumerate(lab.tiers)}  # 0 = hottest
        self.moves: list[Move] = []
        self.refused: list[Refused] = []
        self.before = dict.fromkeys(self.tiers, 0)
        self.unknown: set[str] = set()
        self.units = 0
        self._pending: list[tuple[Move, Candidate]] = []  # bound to an IA tier: small objects checked later

    def unit(self, placed: list[Candidate], elsewhere: list[Candidate]) -> None:
        self.units += 1
        self.unknown.update(c.tier for c in elsewhere)
        for c in placed:
            self.before[c.tier] += c.size
        if not placed:
            return
        held = {c.tier for c in placed}
        labels = self.labels.get(placed[0].version_id, frozenset()) if placed[0].version_id is not None \
            else frozenset()
        promoted = self._promotion(placed, held)
        for c in placed:
            if c is promoted:
                continue
            rule = _rules.first_rule(self.lab.rules, c, self.as_of, labels)
            if rule is None or rule.to_tier == c.tier or rule.to_tier not in self.tiers:
                continue
            demote = self.rank[rule.to_tier] > self.rank[c.tier]
            pinned = self._pinned(c, labels) if demote else None
            reason = _rules.why(rule, c, self.as_of)
            if pinned is not None:
                self._refuse(c, rule.to_tier, rule.name, "pinned", f"{pinned} ({reason})")
            elif self._propose(c, rule.to_tier, "demote" if demote else "promote", rule.name, reason, held):
                held.discard(c.tier)
                held.add(rule.to_tier)

    def _pinned(self, c: Candidate, labels: frozenset[str]) -> str | None:
        count = self.reads.get(c.unit_id)
        if count is not None:
            return f"pinned: {count} reads within {self.lab.promotion.within_days:g} d (promotion on access)"
        return _rules.pin_reason(self.lab.pins, c, labels, self.active)

    def _promotion(self, placed: list[Candidate], held: set[str]) -> Candidate | None:
        count = self.reads.get(placed[0].unit_id)
        promo = self.lab.promotion
        target = promo.to_tier or self.lab.hottest.name
        if count is None or target not in self.tiers:
            return None
        rank = self.rank[target]
        if any(self.rank[c.tier] <= rank for c in placed):  # a copy is that hot already
            return None
        c = min(placed, key=lambda c: self.rank[c.tier])
        reason = f"promotion: {count} reads within {promo.within_days:g} d (>= {promo.reads})"
        if self._propose(c, target, "promote", "promotion", reason, held):
            held.discard(c.tier)
            held.add(target)
        return c

    def _propose(self, c: Candidate, dst: str, action: str, rule: str, reason: str, held: set[str]) -> bool:
        """Add the move of ``c`` to ``dst``, or refuse it; True when it is planned."""
        if dst in held:
            self._refuse(c, dst, rule, "already_there", f"a copy is already on {dst} ({reason})")
            return False
        src = self.tiers[c.tier]
        remaining = _rules.early_days(src, c, self.as_of)
        fee = _rules.early_fee(src, c.size, remaining)
        if remaining > 0 and not self.allow_early:
            self._refuse(c, dst, rule, "early_deletion",
                         f"on {src.name} for {_rules.days(self.as_of, c.placed_at):.1f} d of its "
                         f"{src.min_storage_days} d minimum: moving now bills {remaining:.1f} d more "
                         f"(${fee:.2f}); use --allow-early to pay it ({reason})", fee)
            return False
        move = Move(c.unit_id, c.kind, c.name, c.version, c.part, c.tier, c.location, dst, c.size, action, rule,
                    reason, c.last_access, c.idle_days(self.as_of), c.age_days(self.as_of),
                    fee if remaining > 0 else 0.0)
        if self.tiers[dst].infrequent_access:
            self._pending.append((move, c))
        else:
            self.moves.append(move)
        return True

    def _refuse(self, c: Candidate, dst: str, rule: str, cause: str, reason: str, fee: float = 0.0) -> None:
        self.refused.append(Refused(c.unit_id, c.kind, c.name, c.version, c.part, c.tier, c.location, dst, c.size,
                                    rule, cause, reason, fee))

    def ia_bound(self) -> list[int]:
        return [c.placement_id for _, c in self._pending if c.nfiles > 1]

    def settle_small_objects(self, smallest: dict[int, int]) -> None:
        for move, c in self._pending:
            small = _rules.small_objects(self.tiers[move.dst_tier], c, smallest.get(c.placement_id))
            if small is None:
                self.moves.append(move)
            else:
                self._refuse(c, move.dst_tier, move.rule, "small_objects", f"{small} ({move.reason})")
        self._pending = []

    def result(self) -> Plan:
        after = dict(self.before)
        for m in self.moves:
            after[m.src_tier] -= m.size
            after[m.dst_tier] += m.size
        cost_before = {t: self.tiers[t].monthly_cost(n) for t, n in self.before.items()}
        cost_after = {t: self.tiers[t].monthly_cost(n) for t, n in after.items()}
        return Plan(self.as_of, self.allow_early, tuple(sorted(self.moves, key=lambda m: (m.unit_id, m.src_location))),
                    tuple(sorted(self.refused, key=lambda r: (r.unit_id, r.src_location))), dict(self.before),
                    after, cost_before, cost_after, self.units, tuple(sorted(self.unknown)))
