"""``lifecycle plan``: which units move to which tier, and what that saves.

The catalog is read set-wise (:mod:`labvault.tiers.plan_rows`): bytes per tier and the unit
count from grouped queries; the live placements of only those units a rule or promotion may touch
(SQL narrows by tier, times, sizes and kinds; every rule is then evaluated here exactly); and one
query each for the labels the rules and pins name (tags and aliases), the inputs of recent runs
(lineage pins), recent read counts (promotion) and, only for units bound to an infrequent-access
class, their smallest file. No file is touched and no per-unit query is made.

Per unit: promotion on access first (``Promotion.reads`` reads within ``within_days`` bring the
hottest copy colder than the target up to it); then each other placement takes the first rule of
its tier that it matches. A demotion of a pinned unit, a move off a tier before its minimum
storage duration (unless ``allow_early``), a move of small objects to an IA class, and a move to
a tier that already holds a copy are listed as refused, with the reason (and fee).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import groupby
from operator import attrgetter

from labvault.catalog.store import Catalog
from labvault.tiers import plan_rows as _rows
from labvault.tiers import rules as _rules
from labvault.tiers.lab import LabConfig
from labvault.tiers.plan_types import Move, Plan, Refused
from labvault.tiers.rules import Candidate


def naive_utc(when: datetime) -> datetime:
    """``when`` as naive UTC, the form the catalog's timestamps have (naive input is taken as UTC)."""
    return when.astimezone(timezone.utc).replace(tzinfo=None) if when.tzinfo is not None else when


def plan_lifecycle(cat: Catalog, lab: LabConfig, as_of: datetime, allow_early: bool = False) -> Plan:
    as_of = naive_utc(as_of)
    names = {t.name for t in lab.tiers}
    with cat.read() as conn:
        wanted = frozenset(lab.pins.tags).union(*(r.tags for r in lab.rules))
        labels = _rows.labels(conn, wanted)
        active = _rows.active_inputs(conn, as_of - timedelta(days=lab.pins.active_run_days))
        reads = _rows.recent_reads(conn, lab, as_of)
        planner = _Planner(lab, as_of, allow_early, labels, active, reads)
        planner.totals(*_rows.tier_totals(conn))
        for _, group in groupby(_rows.candidates(conn, lab, as_of, bool(reads)), key=lambda c: c.unit_id):
            planner.unit([c for c in group if c.tier in names])
        smallest = _rows.smallest_files(conn, planner.ia_bound())
    planner.settle_small_objects(smallest)
    return planner.result()


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

    def totals(self, by_tier: dict[str, int], units: int) -> None:
        """Bytes of live placements per tier and units placed: every unit, touched by a rule or not."""
        self.units = units
        for tier, size in by_tier.items():
            if tier in self.before:
                self.before[tier] = size
            else:
                self.unknown.add(tier)

    def unit(self, placed: list[Candidate]) -> None:
        """Plan one unit from its live placements on configured tiers."""
        if not placed:
            return
        held = {c.tier for c in placed}
        labels = self.labels.get(placed[0].version_id, frozenset()) if placed[0].version_id is not None \
            else frozenset()
        promoted = self._promotion(placed, held) if self.reads else None
        for c in placed:
            if c is promoted:
                continue
            idle, age = c.idle_days(self.as_of), c.age_days(self.as_of)
            rule = _rules.first_rule(self.lab.rules, c, idle, age, labels)
            if rule is None or rule.to_tier == c.tier or rule.to_tier not in self.tiers:
                continue
            demote = self.rank[rule.to_tier] > self.rank[c.tier]
            pinned = self._pinned(c, labels) if demote else None
            reason = _rules.why(rule, c, idle, age)
            if pinned is not None:
                self._refuse(c, rule.to_tier, rule.name, "pinned", f"{pinned} ({reason})")
            elif self._propose(c, rule.to_tier, "demote" if demote else "promote", rule.name, reason, held,
                               idle, age):
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
        if self._propose(c, target, "promote", "promotion", reason, held, c.idle_days(self.as_of),
                         c.age_days(self.as_of)):
            held.discard(c.tier)
            held.add(target)
        return c

    def _propose(self, c: Candidate, dst: str, action: str, rule: str, reason: str, held: set[str], idle: float,
                 age: float) -> bool:
        """Add the move of ``c`` to ``dst``, or refuse it; True when it is planned. ``idle`` and ``age``
        (days as of the plan's date) go into the move."""
        if dst in held:
            self._refuse(c, dst, rule, "already_there", f"a copy is already on {dst} ({reason})")
            return False
        src = self.tiers[c.tier]
        remaining = _rules.early_days(src, c, self.as_of)
        fee = _rules.early_fee(src, c.size, remaining) if remaining > 0 else 0.0
        if remaining > 0 and not self.allow_early:
            self._refuse(c, dst, rule, "early_deletion",
                         f"on {src.name} for {_rules.days(self.as_of, c.placed_at):.1f} d of its "
                         f"{src.min_storage_days} d minimum: moving now bills {remaining:.1f} d more "
                         f"(${fee:.2f}); use --allow-early to pay it ({reason})", fee)
            return False
        move = Move(c.unit_id, c.kind, c.name, c.version, c.part, c.tier, c.location, dst, c.size, action, rule,
                    reason, c.last_access, idle, age, fee)
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
        order = attrgetter("unit_id", "src_location")
        return Plan(self.as_of, self.allow_early, tuple(sorted(self.moves, key=order)),
                    tuple(sorted(self.refused, key=order)), dict(self.before),
                    after, cost_before, cost_after, self.units, tuple(sorted(self.unknown)))
