"""The cost report on SQLite and PostgreSQL: by tier, kind and project, now and after the plan,
against the plan's own figures and the prices worked out by hand; the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labvault import api
from labvault.catalog import store
from labvault.catalog.store import Catalog
from labvault.errors import UsageError
from labvault.tiers.cost import cost_report
from labvault.tiers.lab import Rule
from labvault.tiers.plan import plan_lifecycle
from tests.conftest import Runner
from tests.tiers.labrows import GIB, NOW, add_unit, three_tiers

LAB = three_tiers(rules=(Rule("hot->warm", "hot", "warm", last_access_days=7),
                         Rule("warm->cold", "warm", "cold", last_access_days=30)))


def _fill(cat: Catalog) -> None:
    add_unit(cat, "vision_imagenet", "hot", 4 * GIB, read=10)
    add_unit(cat, "vision_coco", "hot", 2 * GIB, read=1)
    add_unit(cat, "nlp_wiki", "warm", 10 * GIB, read=40)
    add_unit(cat, "resnet", "warm", GIB, kind="model", read=40, also=(("cold", 50),))
    add_unit(cat, "sentiment", "hot", GIB, kind="experiment", read=2, state="missing")  # not counted


def test_by_tier_is_the_plans_figures(cat: Catalog) -> None:
    _fill(cat)
    plan = plan_lifecycle(cat, LAB, NOW)
    report = cost_report(cat, LAB, "tier", plan)
    assert [r.key for r in report.rows] == ["hot", "warm", "cold"] and report.planned
    assert {r.key: r.bytes_now for r in report.rows} == plan.bytes_before == {
        "hot": 6 * GIB, "warm": 11 * GIB, "cold": GIB}
    assert {r.key: r.bytes_after for r in report.rows} == plan.bytes_after == {
        "hot": 2 * GIB, "warm": 5 * GIB, "cold": 11 * GIB}  # resnet: a copy is already on cold
    assert {r.key: r.cost_after for r in report.rows} == plan.cost_after
    assert report.total_now == pytest.approx(6 * 0.15 + 11 * 0.035 + 0.007)
    assert report.total_after == pytest.approx(2 * 0.15 + 5 * 0.035 + 11 * 0.007)
    assert report.saving == pytest.approx(plan.saving)
    unplanned = cost_report(cat, LAB, "tier")
    assert not unplanned.planned and all(r.cost_after == r.cost_now for r in unplanned.rows)


def test_by_kind_and_by_project(cat: Catalog) -> None:
    _fill(cat)
    plan = plan_lifecycle(cat, LAB, NOW)
    kinds = cost_report(cat, LAB, "kind", plan)
    assert [(r.key, r.bytes_now, r.bytes_after) for r in kinds.rows] == [
        ("dataset", 16 * GIB, 16 * GIB), ("model", 2 * GIB, 2 * GIB)]
    dataset = kinds.rows[0]
    assert dataset.cost_now == pytest.approx(6 * 0.15 + 10 * 0.035)
    assert dataset.cost_after == pytest.approx(2 * 0.15 + 4 * 0.035 + 10 * 0.007)
    projects = cost_report(cat, LAB, "project", plan)
    assert [r.key for r in projects.rows] == ["nlp", "resnet", "vision"]
    assert {r.key: round(r.cost_after, 6) for r in projects.rows} == {
        "nlp": round(10 * 0.007, 6), "resnet": round(0.035 + 0.007, 6), "vision": round(2 * 0.15 + 4 * 0.035, 6)}
    for report in (kinds, projects):
        assert report.total_after == pytest.approx(plan.monthly_cost_after)
        assert report.total_now == pytest.approx(plan.monthly_cost_before)
    with pytest.raises(UsageError, match="cannot group cost by 'size': use one of tier, kind, project"):
        cost_report(cat, LAB, "size")
    assert json.loads(json.dumps(projects.to_json()))["rows"][0] == {
        "key": "nlp", "bytes_now": 10 * GIB, "cost_now": 0.35, "bytes_after": 10 * GIB, "cost_after": 0.07,
        "saving": 0.28}


def test_api_and_cli(lab_root: Path, catalog_url: str, lv: Runner, env: dict[str, str], lab_env: Path) -> None:
    (lab_root / "ssd0/datasets/coco.zip").write_bytes(b"c" * 1000)
    (lab_root / "ssd0/datasets/coco_2017_val.zip").write_bytes(b"v" * 300)
    (lab_root / "ssd0/datasets/imagenet_v2_train.tar").write_bytes(b"i" * 200)
    api.lab_scan(catalog_url=catalog_url)
    report = api.cost("kind", catalog_url=catalog_url)
    assert [(r.key, r.bytes_now) for r in report.rows] == [("dataset", 1500)] and report.planned
    # one meaning of "project" across the tool: cost's rows are monitor's projects, byte for byte
    by_project = {r.key: r.bytes_now for r in api.cost("project", catalog_url=catalog_url).rows}
    assert by_project == {p.name: p.bytes for p in api.monitor(catalog_url=catalog_url).projects}
    assert by_project == {"coco.zip": 1000, "coco": 300, "imagenet": 200}
    with pytest.raises(UsageError):
        api.cost("size", catalog_url=catalog_url)
    store.forget(catalog_url)
    env["XDG_CONFIG_HOME"] = str(lab_env)
    env["LABVAULT_CATALOG_URL"] = catalog_url
    out = json.loads(lv("cost", "--json").stdout)
    assert out["by"] == "tier" and [r["key"] for r in out["rows"]] == ["hot", "warm", "cold"]
    assert out["rows"][1]["bytes_now"] == 1500
    text = lv("cost", "--by", "project").stdout
    assert text.splitlines()[0].startswith("PROJECT") and "coco.zip" in text
    bad = lv("cost", "--by", "size", check=False)
    assert bad.returncode == 2 and not bad.stdout and "Traceback" not in bad.stderr
    assert "Example:" in lv("cost", "--help").stdout
