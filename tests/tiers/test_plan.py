"""The lifecycle planner on SQLite and PostgreSQL: rules, pins, early-deletion fees, IA object sizes,
promotion on access, as-of dates, the JSON shape and the command line."""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from labvault.catalog import labels, record, runs, store
from labvault.catalog.store import Catalog
from labvault.remotes.classes import IA_MIN_OBJECT_BYTES
from labvault.tiers.lab import Pins, Promotion, Rule, Tier
from labvault.tiers.plan import plan_lifecycle
from labvault.tiers.plan_types import Plan
from tests.conftest import Runner
from tests.tiers.labrows import GIB, KIB, MIB, NOW, add_reads, add_unit, days_ago, three_tiers


def _moves(plan: Plan) -> dict[str, tuple[str, str, str]]:
    return {m.name: (m.src_tier, m.dst_tier, m.rule) for m in plan.moves}


def _refused(plan: Plan) -> dict[str, str]:
    return {r.name: r.cause for r in plan.refused}


def test_first_matching_rule_by_last_access_age_size_kind_and_name(cat: Catalog) -> None:
    lab = three_tiers(rules=(
        Rule("models-out", "hot", "warm", last_access_days=7, kinds=("model",)),
        Rule("old-to-cold", "hot", "cold", age_days=60, names=("old_*",)),
        Rule("big-idle", "hot", "warm", last_access_days=7, min_size=MIB),
        Rule("tiny-idle", "hot", "cold", last_access_days=7, max_size=64 * KIB),
        Rule("warm-idle", "warm", "cold", last_access_days=30),
    ))
    add_unit(cat, "big", "hot", 2 * MIB, read=10)
    add_unit(cat, "medium", "hot", 100 * KIB, read=10)           # between the size rules: stays
    add_unit(cat, "tiny", "hot", 10 * KIB, read=10)
    add_unit(cat, "resnet", "hot", 10 * KIB, kind="model", read=10)
    add_unit(cat, "old_logs", "hot", 2 * MIB, modified=90, read=1)
    add_unit(cat, "fresh", "hot", 2 * MIB, created=3)              # never read, first seen 3 days ago
    add_unit(cat, "forgotten", "hot", 2 * MIB, created=10)         # never read, first seen 10 days ago
    add_unit(cat, "in_use", "warm", GIB, read=29)
    add_unit(cat, "stale", "warm", GIB, read=31)
    plan = plan_lifecycle(cat, lab, NOW)
    assert _moves(plan) == {
        "big": ("hot", "warm", "big-idle"), "tiny": ("hot", "cold", "tiny-idle"),
        "resnet": ("hot", "warm", "models-out"), "old_logs": ("hot", "cold", "old-to-cold"),
        "forgotten": ("hot", "warm", "big-idle"), "stale": ("warm", "cold", "warm-idle")}
    assert plan.refused == () and plan.units == 9
    by_name = {m.name: m for m in plan.moves}
    assert by_name["forgotten"].reason.startswith("rule big-idle: never read, first seen 10.0 d (>= 7)")
    assert by_name["stale"].reason == "rule warm-idle: not read for 31.0 d (>= 30)"
    assert by_name["old_logs"].reason == "rule old-to-cold: age 90.0 d (>= 60); name old_logs"
    assert by_name["big"].last_access == days_ago(10) and round(by_name["big"].age_days) == 100
    hot = 2 * MIB + 100 * KIB + 10 * KIB + 10 * KIB + 2 * MIB + 2 * MIB + 2 * MIB
    assert plan.bytes_before == {"hot": hot, "warm": 2 * GIB, "cold": 0}
    assert plan.bytes_after == {"hot": 100 * KIB + 2 * MIB, "warm": GIB + 2 * MIB + 10 * KIB + 2 * MIB,
                                "cold": 10 * KIB + 2 * MIB + GIB}
    assert plan.cost_after["warm"] == pytest.approx(plan.bytes_after["warm"] / GIB * 0.035)
    assert plan.saving == pytest.approx(plan.monthly_cost_before - plan.monthly_cost_after) and plan.saving > 0


def test_as_of_moves_the_clock_and_takes_any_time_zone(cat: Catalog) -> None:
    lab = three_tiers(rules=(Rule("hot->warm", "hot", "warm", last_access_days=7),))
    add_unit(cat, "recent", "hot", MIB, read=3)
    assert plan_lifecycle(cat, lab, NOW).moves == ()
    later = plan_lifecycle(cat, lab, NOW + timedelta(days=5))
    assert _moves(later) == {"recent": ("hot", "warm", "hot->warm")}
    aware = (NOW + timedelta(days=5)).replace(tzinfo=timezone.utc).astimezone(timezone(timedelta(hours=-5)))
    assert plan_lifecycle(cat, lab, aware) == later
    assert plan_lifecycle(cat, lab, NOW - timedelta(days=30)).moves == ()  # read "in the future": not idle


def test_pins_by_tag_alias_name_and_lineage_of_recent_runs(cat: Catalog) -> None:
    def version(name: str) -> int:
        return record.record_dataset_version(cat, name, f"{abs(hash(name)):032x}", None, GIB, 1).id

    tagged, aliased, used, used_long_ago, done = (version(n) for n in ("tagged", "aliased", "used", "used_old",
                                                                       "done"))
    labels.tag(cat, "dataset", "tagged@1", ["production"])
    labels.alias(cat, "dataset", "aliased@1", "production")
    labels.tag(cat, "dataset", "done@1", ["finished"])
    runs.register_run(cat, "train", inputs=["used@1"], started=NOW - timedelta(days=3))
    runs.register_run(cat, "train", inputs=["used_old@1"], started=NOW - timedelta(days=30))
    lab = three_tiers(rules=(Rule("finished", "warm", "cold", tags=("finished",)),
                             Rule("idle", "warm", "cold", last_access_days=7),
                             Rule("back", "cold", "warm", last_access_days=7)),
                      pins=Pins(tags=("production",), names=("golden_*",), active_run_days=14))
    for name, vid in (("tagged", tagged), ("aliased", aliased), ("used", used), ("used_old", used_long_ago),
                      ("done", done)):
        add_unit(cat, name, "warm", GIB, read=20, version_id=vid)
    add_unit(cat, "golden_set", "warm", GIB, read=20)
    add_unit(cat, "plain", "warm", GIB, read=20)
    add_unit(cat, "golden_cold", "cold", GIB, read=20)  # a pin stops demotion only
    plan = plan_lifecycle(cat, lab, NOW)
    assert _moves(plan) == {"used_old": ("warm", "cold", "idle"), "done": ("warm", "cold", "finished"),
                            "plain": ("warm", "cold", "idle"), "golden_cold": ("cold", "warm", "back")}
    assert _refused(plan) == dict.fromkeys(("tagged", "aliased", "used", "golden_set"), "pinned")
    reasons = {r.name: r.reason for r in plan.refused}
    assert reasons["tagged"].startswith("pinned: tag production (rule idle:")
    assert reasons["aliased"].startswith("pinned: tag production")
    assert reasons["golden_set"].startswith("pinned: name matches golden_*")
    assert reasons["used"].startswith("pinned: input of a run started within 14 d")
    assert {m.name: m.action for m in plan.moves}["golden_cold"] == "promote"
    assert plan.bytes_after == {"hot": 0, "warm": 5 * GIB, "cold": 3 * GIB}


def _cloud_lab(**rule: float) -> tuple[Tier, ...]:
    return (Tier("hot", path=Path("/lab/hot"), price_per_gb_month=0.15),
            Tier("ia", url="s3://lab/ia", storage_class="STANDARD_IA", price_per_gb_month=0.0125,
                 min_storage_days=30),
            Tier("deep", url="s3://lab/deep", storage_class="DEEP_ARCHIVE", price_per_gb_month=0.00099,
                 min_storage_days=180))


def test_early_deletion_is_refused_with_its_fee_unless_allowed(cat: Catalog) -> None:
    tiers = _cloud_lab()
    lab = three_tiers(rules=(Rule("ia->deep", "ia", "deep", last_access_days=5),
                             Rule("deep->hot", "deep", "hot", last_access_days=0)))
    lab = type(lab)(source=None, tiers=tiers, rules=lab.rules, pins=lab.pins, promotion=lab.promotion)
    add_unit(cat, "young", "ia", 3 * GIB, created=100, placed=10, read=50)
    add_unit(cat, "settled", "ia", 3 * GIB, created=100, placed=40, read=50)
    add_unit(cat, "frozen", "deep", GIB, created=400, placed=170, read=50)
    plan = plan_lifecycle(cat, lab, NOW)
    assert _moves(plan) == {"settled": ("ia", "deep", "ia->deep")}
    assert _refused(plan) == {"young": "early_deletion", "frozen": "early_deletion"}
    fees = {r.name: r.fee for r in plan.refused}
    assert fees["young"] == pytest.approx(20 / 30 * 3 * 0.0125)
    assert fees["frozen"] == pytest.approx(10 / 30 * 1 * 0.00099)
    young = next(r for r in plan.refused if r.name == "young")
    assert "on ia for 10.0 d of its 30 d minimum: moving now bills 20.0 d more ($0.03)" in young.reason
    assert all(m.early_fee == 0 for m in plan.moves) and plan.early_fees == 0
    allowed = plan_lifecycle(cat, lab, NOW, allow_early=True)
    assert _moves(allowed) == {"settled": ("ia", "deep", "ia->deep"), "young": ("ia", "deep", "ia->deep"),
                               "frozen": ("deep", "hot", "deep->hot")}
    assert allowed.refused == () and allowed.early_fees == pytest.approx(fees["young"] + fees["frozen"])
    assert _refused(plan_lifecycle(cat, lab, NOW + timedelta(days=11))) == {"young": "early_deletion"}


def test_small_objects_are_not_sent_to_infrequent_access(cat: Catalog) -> None:
    tiers = _cloud_lab()
    rule = Rule("hot->ia", "hot", "ia", last_access_days=7)
    lab = three_tiers(rules=(rule,))
    lab = type(lab)(source=None, tiers=tiers, rules=lab.rules, pins=lab.pins, promotion=lab.promotion)
    add_unit(cat, "small_file", "hot", IA_MIN_OBJECT_BYTES - 1, read=10)
    add_unit(cat, "file", "hot", IA_MIN_OBJECT_BYTES, read=10)
    add_unit(cat, "mixed_dir", "hot", 10 * MIB, nfiles=3, read=10, file_sizes=(5 * MIB, 5 * MIB - KIB, KIB))
    add_unit(cat, "big_dir", "hot", 10 * MIB, nfiles=2, read=10, file_sizes=(5 * MIB, 5 * MIB))
    add_unit(cat, "unscanned_dir", "hot", 100 * KIB * 10, nfiles=10, read=10)  # mean 100 KiB
    plan = plan_lifecycle(cat, lab, NOW)
    assert sorted(_moves(plan)) == ["big_dir", "file"]
    assert _refused(plan) == dict.fromkeys(("small_file", "mixed_dir", "unscanned_dir"), "small_objects")
    mixed = next(r for r in plan.refused if r.name == "mixed_dir")
    assert mixed.reason.startswith("objects under 128 KiB (smallest 1.0 KiB) are billed as 128 KiB each in "
                                   "STANDARD_IA; packing them is not supported")
    assert plan.bytes_after["ia"] == IA_MIN_OBJECT_BYTES + 10 * MIB


def test_promotion_after_k_reads_within_t(cat: Catalog) -> None:
    lab = three_tiers(rules=(Rule("idle", "warm", "cold", age_days=1),),
                      promotion=Promotion(reads=3, within_days=7, to_tier="warm"))
    popular = add_unit(cat, "popular", "cold", GIB, read=1, also=(("hot", 5),))   # a hotter copy exists
    add_reads(cat, popular, 1, 2, 3)
    busy = add_unit(cat, "busy", "cold", GIB, read=1)
    add_reads(cat, busy, 1, 2, 6.5)
    spread = add_unit(cat, "spread", "cold", GIB, read=1)
    add_reads(cat, spread, 1, 2, 8)
    on_warm = add_unit(cat, "on_warm", "warm", GIB, read=1)
    add_reads(cat, on_warm, 1, 2, 3)
    plan = plan_lifecycle(cat, lab, NOW)
    assert _moves(plan) == {"busy": ("cold", "warm", "promotion")}
    assert {m.name: (m.action, m.reason) for m in plan.moves}["busy"] == (
        "promote", "promotion: 3 reads within 7 d (>= 3)")
    assert _refused(plan) == {"on_warm": "pinned"}  # read often: not demoted by the age rule
    assert plan.refused[0].reason.startswith("pinned: 3 reads within 7 d (promotion on access)")
    earlier = plan_lifecycle(cat, lab, NOW - timedelta(days=2))  # then busy had one read within 7 days
    assert "busy" not in _moves(earlier) and _moves(earlier)["on_warm"] == ("warm", "cold", "idle")


def test_a_tier_holding_a_copy_already_is_refused(cat: Catalog) -> None:
    lab = three_tiers(rules=(Rule("hot->warm", "hot", "warm", last_access_days=7),))
    add_unit(cat, "twice", "hot", GIB, read=10, also=(("warm", 10),))
    plan = plan_lifecycle(cat, lab, NOW)
    assert plan.moves == () and _refused(plan) == {"twice": "already_there"}
    assert plan.bytes_before == plan.bytes_after == {"hot": GIB, "warm": GIB, "cold": 0}


def test_only_live_placements_on_known_tiers_count(cat: Catalog) -> None:
    lab = three_tiers(rules=(Rule("hot->warm", "hot", "warm", last_access_days=7),))
    add_unit(cat, "gone", "hot", GIB, read=10, state="missing")
    add_unit(cat, "moving", "hot", GIB, read=10, state="copying")
    add_unit(cat, "elsewhere", "retired", GIB, read=10)
    add_unit(cat, "checked", "hot", MIB, read=10, state="verified")
    plan = plan_lifecycle(cat, lab, NOW)
    assert _moves(plan) == {"checked": ("hot", "warm", "hot->warm")}
    assert plan.unknown_tiers == ("retired",) and plan.bytes_before == {"hot": MIB, "warm": 0, "cold": 0}


def test_json_shape(cat: Catalog) -> None:
    lab = three_tiers(rules=(Rule("hot->warm", "hot", "warm", last_access_days=7),),
                      pins=Pins(names=("keep*",)))
    add_unit(cat, "imagenet", "hot", GIB, version="v2", part="train", read=10)
    add_unit(cat, "keep_me", "hot", GIB, read=10)
    data = json.loads(json.dumps(plan_lifecycle(cat, lab, NOW).to_json()))
    assert set(data) == {"as_of", "allow_early", "units", "moves", "refused", "tiers", "moved_bytes",
                         "monthly_cost_before", "monthly_cost_after", "saving", "early_fees", "unknown_tiers",
                         "scan_skipped"}
    assert data["as_of"] == "2026-12-01T12:00:00" and data["units"] == 2
    (move,) = data["moves"]
    assert move == {"unit_id": move["unit_id"], "kind": "dataset", "name": "imagenet", "version": "v2",
                    "part": "train", "src_tier": "hot", "src_location": "/lab/hot/datasets/imagenet-v2-train-0",
                    "dst_tier": "warm", "bytes": GIB, "action": "demote", "rule": "hot->warm",
                    "reason": "rule hot->warm: not read for 10.0 d (>= 7)", "last_access": "2026-11-21T12:00:00",
                    "idle_days": 10.0, "age_days": 100.0, "early_fee": 0.0}
    (refused,) = data["refused"]
    assert refused["cause"] == "pinned" and refused["fee"] == 0.0 and refused["dst_tier"] == "warm"
    assert data["tiers"][0] == {"name": "hot", "bytes_before": 2 * GIB, "bytes_after": GIB,
                                "cost_before": 0.3, "cost_after": 0.15}
    assert data["saving"] == pytest.approx(0.15 - 0.035)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_cli_plan_scans_first_and_explains(lab_root: Path, catalog_url: str, lv: Runner, env: dict[str, str],
                                           lab_env: Path) -> None:
    _write(lab_root / "nvme0/datasets/imagenet_v2_train/a.bin", b"x" * 300_000)
    _write(lab_root / "ssd0/models/resnet50_imagenet_20241113_v1.pth", b"weights")
    store.forget(catalog_url)
    env["XDG_CONFIG_HOME"] = str(lab_env)
    env["LABVAULT_CATALOG_URL"] = catalog_url
    now = json.loads(lv("lifecycle", "plan", "--json").stdout)
    assert now["units"] == 2 and now["moves"] == []  # just scanned: nothing idle yet
    later = json.loads(lv("lifecycle", "plan", "--as-of", "2099-01-01", "--json").stdout)
    assert {(m["name"], m["src_tier"], m["dst_tier"]) for m in later["moves"]} == {
        ("imagenet", "hot", "warm"), ("resnet50_imagenet", "warm", "cold")}
    text = lv("lifecycle", "plan", "--as-of", "2099-01-01T00:00:00+02:00").stdout
    assert text.startswith("lifecycle plan as of 2098-12-31 22:00 UTC: 2 units, 2 moves (293.0 KiB), 0 refused")
    assert "demote   hot      warm      293.0 KiB  dataset imagenet@v2 (train)" in text
    assert "saving $" in text
    for bad in ("yesterday", "2026-13-01"):
        out = lv("lifecycle", "plan", "--as-of", bad, check=False)
        assert out.returncode == 2 and not out.stdout and "Traceback" not in out.stderr
        assert f"'{bad}' is not a date: use YYYY-MM-DD" in out.stderr
    assert "Example:" in lv("lifecycle", "plan", "--help").stdout
