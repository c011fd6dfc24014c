"""Model test of the lifecycle planner: over random catalogs, the plan (SQL-narrowed candidates,
grouped totals) equals a plain evaluation of the rules written here, placement by placement, from
the generated objects. Times are whole days so that rule thresholds often fall exactly on a
unit's idle days or age (the edge the SQL cutoffs must not cut)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from fnmatch import fnmatchcase
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
         Tier("warm", path=Path("/lab/warm"), price_per_gb_month=0.035),
         Tier("ia", url="s3://lab/ia", storage_class="STANDARD_IA", price_per_gb_month=0.0125, min_storage_days=30))
RANK = {t.name: i for i, t in enumerate(TIERS)}
NAMES = ("imagenet", "mnist", "keep", "bert")
DAYS = st.integers(0, 40).map(float)


@dataclass(frozen=True)
class Obj:
    name: str
    kind: str
    size: int
    nfiles: int
    files: tuple[int, ...]  # the stat cache's file sizes ((): none recorded)
    placements: tuple[tuple[str, float], ...]  # (tier, placed days ago); "gone" is a tier the config lacks
    created: float
    modified: float | None
    read: float | None
    reads: tuple[float, ...]
    label: str  # "": none, "production": tagged, "run": input of a recent run, "done": tagged done
    state: str


objects = st.builds(
    lambda name, kind, size, files, tiers, created, modified, read, reads, label, state: Obj(
        f"{name}{len(tiers)}", kind, size, max(1, len(files)), tuple(files),
        tuple((t, min(p, created)) for t, p in tiers), created, modified, read, tuple(reads), label, state),
    name=st.sampled_from(NAMES), kind=st.sampled_from(["dataset", "model"]),
    size=st.sampled_from([KIB, IA_MIN_OBJECT_BYTES, 3 * MIB, GIB]),
    files=st.lists(st.sampled_from([KIB, IA_MIN_OBJECT_BYTES, MIB]), max_size=3),
    tiers=st.lists(st.tuples(st.sampled_from(["hot", "warm", "ia", "gone"]), DAYS), min_size=1, max_size=2,
                   unique_by=lambda t: t[0]),
    created=DAYS, modified=st.none() | DAYS, read=st.none() | DAYS, reads=st.lists(DAYS, max_size=3),
    label=st.sampled_from(["", "", "production", "run", "done"]), state=st.sampled_from(["present", "present",
                                                                                          "verified", "missing"]))


@st.composite
def rules(draw: st.DrawFn) -> tuple[Rule, ...]:
    out = []
    for i in range(draw(st.integers(1, 4))):
        src, dst = draw(st.sampled_from(["hot", "warm", "ia"])), draw(st.sampled_from(["hot", "warm", "ia", "none"]))
        # Times half the time, every other condition a quarter of the time: a rule that names
        # everything matches almost nothing.
        when = lambda: draw(st.none() | DAYS)  # noqa: E731
        some = lambda s: draw(st.sampled_from([False, False, False, True])) and draw(s)  # noqa: E731
        out.append(Rule(f"r{i}", src, dst, last_access_days=when(), age_days=when(),
                        min_size=some(st.sampled_from([MIB, GIB])) or None,
                        max_size=some(st.sampled_from([MIB, GIB])) or None,
                        kinds=some(st.sampled_from([("dataset",), ("model",)])) or (),
                        names=some(st.sampled_from([("imagenet*",), ("*1",)])) or (),
                        tags=some(st.just(("done",))) or ()))
    return tuple(out)


def plain_plan(objs: dict[int, Obj], lab: LabConfig, later: float, allow_early: bool) -> dict[str, object]:
    """The plan's rules (docs/design.md, "Lifecycle plan") applied one placement at a time."""
    tiers = {t.name: t for t in lab.tiers}
    moves: list[tuple[object, ...]] = []
    refused: list[tuple[object, ...]] = []
    before, unknown, units = dict.fromkeys(tiers, 0), set(), 0
    for uid, o in objs.items():
        live = [] if o.state == "missing" else list(o.placements)
        units += bool(live)
        unknown.update(t for t, _ in live if t not in tiers)
        for t, _ in live:
            if t in tiers:
                before[t] += o.size
        _plain_unit(uid, o, [(t, p) for t, p in live if t in tiers], lab, later, allow_early, moves, refused)
    return {"moves": sorted(moves), "refused": sorted(refused), "before": before, "unknown": sorted(unknown),
            "units": units}


def _plain_unit(uid: int, o: Obj, placed: list[tuple[str, float]], lab: LabConfig, later: float, allow_early: bool,
                moves: list[tuple[object, ...]], refused: list[tuple[object, ...]]) -> None:
    tiers = {t.name: t for t in lab.tiers}
    held = {t for t, _ in placed}
    idle = later + (o.read if o.read is not None else o.created)
    age = later + (o.modified if o.modified is not None else o.created)
    count = sum(1 for r in o.reads if 0 <= later + r <= lab.promotion.within_days)
    hot = count >= lab.promotion.reads > 0

    def propose(t: str, p: float, dst: str, action: str, rule: str) -> None:
        on = later + p
        early = max(0.0, tiers[t].min_storage_days - on) if tiers[t].min_storage_days else 0.0
        if dst in held:
            refused.append((uid, t, dst, rule, "already_there"))
        elif early > 0 and not allow_early:
            refused.append((uid, t, dst, rule, "early_deletion"))
        else:
            held.discard(t)
            held.add(dst)
            smallest = min(o.files) if o.files and o.nfiles > 1 else o.size // o.nfiles
            if tiers[dst].infrequent_access and smallest < IA_MIN_OBJECT_BYTES:
                refused.append((uid, t, dst, rule, "small_objects"))
            else:
                moves.append((uid, t, dst, action, rule, round(idle, 2), round(age, 2), early > 0))

    promoted = None
    if hot and placed and all(RANK[t] > 0 for t, _ in placed):
        promoted = min(placed, key=lambda tp: RANK[tp[0]])
        propose(*promoted, "hot", "promote", "promotion")
    for t, p in placed:
        if (t, p) == promoted:
            continue
        rule = next((r for r in lab.rules if r.from_tier == t
                     and (r.last_access_days is None or idle >= r.last_access_days)
                     and (r.age_days is None or age >= r.age_days)
                     and (r.min_size is None or o.size >= r.min_size)
                     and (r.max_size is None or o.size <= r.max_size)
                     and (not r.kinds or o.kind in r.kinds)
                     and (not r.names or any(fnmatchcase(o.name, g) for g in r.names))
                     and (not r.tags or o.label in r.tags)), None)
        if rule is None or rule.to_tier in (t, "none"):
            continue
        pinned = hot or o.label in ("production", "run") or o.name.startswith("keep")
        if RANK[rule.to_tier] > RANK[t] and pinned:
            refused.append((uid, t, rule.to_tier, rule.name, "pinned"))
        else:
            propose(t, p, rule.to_tier, "demote" if RANK[rule.to_tier] > RANK[t] else "promote", rule.name)


_MADE: dict[str, dict[str, int | None]] = {}


def _versions(cat: Catalog) -> dict[str, int | None]:
    if cat.url not in _MADE:
        ids = {lab: record.record_dataset_version(cat, lab or "plain", str(i) * 32, None, 1, 1).id
               for i, lab in enumerate(["production", "run", "done"], 1)}
        labels.tag(cat, "dataset", "production@1", ["production"])
        labels.tag(cat, "dataset", "done@1", ["done"])
        runs.register_run(cat, "train", inputs=["run@1"], started=NOW + timedelta(days=60))
        _MADE[cat.url] = {"": None, **ids}
    return _MADE[cat.url]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(objects, min_size=5, max_size=12), rule_set=rules(), allow_early=st.booleans(),
       later=DAYS, promote=st.sampled_from([0, 1, 2]))
def test_plan_equals_plain_evaluation(cat: Catalog, history: list[Obj], rule_set: tuple[Rule, ...],
                                      allow_early: bool, later: float, promote: int) -> None:
    clear(cat)
    vids = _versions(cat)
    lab = LabConfig(source=None, tiers=TIERS, rules=rule_set, pins=Pins(names=("keep*",), active_run_days=14),
                    promotion=Promotion(reads=promote, within_days=5))
    objs: dict[int, Obj] = {}
    for i, o in enumerate(history):
        (first, placed), *also = o.placements
        uid = add_unit(cat, f"{o.name}", first, o.size, kind=o.kind, part=str(i), nfiles=o.nfiles,
                       created=o.created, modified=o.modified, read=o.read, placed=placed, also=tuple(also),
                       version_id=vids[o.label], state=o.state, file_sizes=o.files)
        add_reads(cat, uid, *o.reads)
        objs[uid] = o
    plan = plan_lifecycle(cat, lab, NOW + timedelta(days=later), allow_early=allow_early)
    want = plain_plan(objs, lab, later, allow_early)
    got_moves = sorted((m.unit_id, m.src_tier, m.dst_tier, m.action, m.rule, m.idle_days, m.age_days,
                        m.early_fee > 0) for m in plan.moves)
    assert [(*m[:5], round(m[5], 2), round(m[6], 2), m[7]) for m in got_moves] == want["moves"]
    assert sorted((r.unit_id, r.src_tier, r.dst_tier, r.rule, r.cause) for r in plan.refused) == want["refused"]
    assert plan.bytes_before == want["before"]
    assert list(plan.unknown_tiers) == want["unknown"]
    assert plan.units == want["units"]
    assert [m.unit_id for m in plan.moves] == sorted(m.unit_id for m in plan.moves)
