"""Property test of the lifecycle planner over random object histories (placement ages, reads,
sizes, tiers, pins), against what each rule of the plan means, worked out here the plain way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault.catalog import labels, record, runs
from labvault.catalog.store import Catalog
from labvault.remotes.classes import IA_MIN_OBJECT_BYTES
from labvault.tiers.lab import LabConfig, Pins, Promotion, Rule, Tier
from labvault.tiers.plan import plan_lifecycle
from tests.tiers.labrows import GIB, KIB, MIB, NOW, add_reads, add_unit, clear

TIERS = (Tier("hot", path=Path("/lab/hot"), price_per_gb_month=0.15),
         Tier("ia", url="s3://lab/ia", storage_class="STANDARD_IA", price_per_gb_month=0.0125, min_storage_days=30),
         Tier("deep", url="s3://lab/deep", storage_class="DEEP_ARCHIVE", price_per_gb_month=0.001,
              min_storage_days=180))
RANK = {t.name: i for i, t in enumerate(TIERS)}
PROMOTION = Promotion(reads=2, within_days=5)


@dataclass(frozen=True)
class Obj:
    size: int
    tier: str
    created: float
    placed: float  # days ago, <= created
    read: float | None
    reads: tuple[float, ...]
    label: str  # "": none, "production": tagged, "run": input of a recent run
    pinned_name: bool


objects = st.builds(
    lambda size, tier, created, placed_frac, read_frac, reads, label, pinned_name: Obj(
        size, tier, created, round(created * placed_frac, 2),
        None if read_frac is None else round(created * read_frac, 2), tuple(reads), label, pinned_name),
    size=st.sampled_from([KIB, IA_MIN_OBJECT_BYTES - 1, IA_MIN_OBJECT_BYTES, 3 * MIB, GIB, 5 * GIB]),
    tier=st.sampled_from([t.name for t in TIERS]),
    created=st.floats(0, 400).map(lambda d: round(d, 2)),
    placed_frac=st.floats(0, 1),
    read_frac=st.none() | st.floats(0, 1),
    reads=st.lists(st.floats(0, 10).map(lambda d: round(d, 2)), max_size=3),
    label=st.sampled_from(["", "", "production", "run"]),
    pinned_name=st.booleans(),
)
rules = st.tuples(st.floats(0, 60), st.floats(0, 200), st.floats(0, 400)).map(lambda t: (
    Rule("hot->ia", "hot", "ia", last_access_days=round(t[0], 1)),
    Rule("ia->deep", "ia", "deep", last_access_days=round(t[1], 1)),
    Rule("deep->hot", "deep", "hot", age_days=round(t[2], 1), max_size=GIB),
    Rule("ia->hot", "ia", "hot", max_size=MIB)))


_MADE: dict[str, dict[str, int | None]] = {}


def _versions(cat: Catalog) -> dict[str, int | None]:
    """A version tagged production and one used by a run, made once per catalog."""
    if cat.url in _MADE:
        return _MADE[cat.url]
    tagged = record.record_dataset_version(cat, "tagged", "1" * 32, None, 1, 1).id
    used = record.record_dataset_version(cat, "used", "2" * 32, None, 1, 1).id
    labels.tag(cat, "dataset", "tagged@1", ["production"])
    runs.register_run(cat, "train", inputs=["used@1"], started=NOW + timedelta(days=60))  # active at every as_of
    _MADE[cat.url] = {"": None, "production": tagged, "run": used}
    return _MADE[cat.url]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(objects, min_size=1, max_size=12), rule_set=rules, allow_early=st.booleans(),
       later=st.floats(0, 60).map(lambda d: round(d, 2)))
def test_plan_keeps_its_promises(cat: Catalog, history: list[Obj], rule_set: tuple[Rule, ...], allow_early: bool,
                                 later: float) -> None:
    clear(cat)
    vids = _versions(cat)
    lab = LabConfig(source=None, tiers=TIERS, rules=rule_set, pins=Pins(names=("keep*",), active_run_days=14),
                    promotion=PROMOTION)
    as_of = NOW + timedelta(days=later)
    ids = []
    for i, o in enumerate(history):
        uid = add_unit(cat, f"{'keep' if o.pinned_name else 'unit'}{i}", o.tier, o.size, created=o.created,
                       placed=o.placed, read=o.read, version_id=vids[o.label])
        add_reads(cat, uid, *o.reads)
        ids.append(uid)
    plan = plan_lifecycle(cat, lab, as_of, allow_early=allow_early)
    by_unit = dict(zip(ids, history, strict=True))
    # Every move is of a real placement, once, and its size is the unit's.
    assert len({m.unit_id for m in plan.moves}) == len(plan.moves)
    for m in plan.moves:
        o = by_unit[m.unit_id]
        assert (m.src_tier, m.size) == (o.tier, o.size) and m.dst_tier != m.src_tier
        on_tier = later + o.placed
        early = TIERS[RANK[m.src_tier]].min_storage_days - on_tier
        # No early-deletion fee without allow_early.
        if not allow_early:
            assert early <= 1e-6 and m.early_fee == 0
        elif early <= 1e-6:
            assert m.early_fee == 0
        # Small objects never go to the IA class.
        if m.dst_tier == "ia":
            assert o.size >= IA_MIN_OBJECT_BYTES
        # A pinned unit is never demoted: tag, name, lineage, or read often lately.
        if RANK[m.dst_tier] > RANK[m.src_tier]:
            recent = sum(1 for r in o.reads if r + later <= PROMOTION.within_days)
            assert o.label == "" and not o.pinned_name and recent < PROMOTION.reads
    # Refused moves are never planned too.
    assert not {r.unit_id for r in plan.refused} & {m.unit_id for m in plan.moves}
    assert all(r.fee >= 0 for r in plan.refused)
    # Bytes before are the live placements; after, each moved unit counted on its destination.
    before = dict.fromkeys(RANK, 0)
    after = dict.fromkeys(RANK, 0)
    dest = {m.unit_id: m.dst_tier for m in plan.moves}
    for uid, o in by_unit.items():
        before[o.tier] += o.size
        after[dest.get(uid, o.tier)] += o.size
    assert plan.bytes_before == before and plan.bytes_after == after
    # Cost after is the per-tier bytes times the prices.
    expect = sum(after[t.name] / GIB * t.price_per_gb_month for t in TIERS)
    assert abs(plan.monthly_cost_after - expect) < 1e-9
    assert abs(plan.saving - (sum(before[t.name] / GIB * t.price_per_gb_month for t in TIERS) - expect)) < 1e-9
