"""The lab and repository parts of the JSON API against a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from labvault import api
from labvault.api.jsonshape import to_json
from labvault.api.monitor import monitor
from tests.web.client import Client
from tests.web.conftest import Lab, stable


def test_tiers_monitor_cost_and_plan(as_role: dict[str, Client], lab: Lab) -> None:
    c = as_role["viewer"]
    tiers = c.get("/api/v1/tiers").json()
    assert [t["name"] for t in tiers["items"]] == ["hot", "warm", "cold"] and tiers["next"] is None
    assert stable(tiers["items"]) == stable(to_json(api.tier_list(lab.config, lab.catalog_url)))
    report = c.get("/api/v1/monitor", top=5).json()
    assert {t["name"] for t in report["tiers"]} == {"hot", "warm", "cold"} and len(report["datasets"]) <= 5
    cost = c.get("/api/v1/cost", by="tier").json()
    assert [r["key"] for r in cost["rows"]] == ["hot", "warm", "cold"]
    plan = c.get("/api/v1/lifecycle/plan").json()
    assert "moves" not in plan and plan["moves_count"] == len(c.get("/api/v1/lifecycle/moves").json()["items"])
    assert [t["name"] for t in plan["tiers"]] == ["hot", "warm", "cold"]


def test_backups_drills_status_and_alerts(as_role: dict[str, Client], lab: Lab) -> None:
    c = as_role["viewer"]
    snaps = c.get("/api/v1/backups").json()["items"]
    assert [s["policy"] for s in snaps] == ["daily"]
    status = {s["policy"]: s for s in c.get("/api/v1/backups/status").json()["items"]}
    assert status["daily"]["stale"] is False and status["daily"]["snapshots"] == 1
    assert status["daily"]["last_drill"]["ok"] is True and status["daily"]["age_days"] < 1
    assert status["weekly"]["stale"] is True and status["weekly"]["last_success"] is None
    drills = c.get("/api/v1/backups/drills").json()["items"]
    assert [(d["policy"], d["ok"]) for d in drills] == [("weekly", False), ("daily", True)]
    alerts = c.get("/api/v1/alerts").json()["items"]
    assert ("critical", "drill", "weekly") in {(a["severity"], a["source"], a["subject"]) for a in alerts}
    assert ("warn", "backup", "weekly") in {(a["severity"], a["source"], a["subject"]) for a in alerts}
    assert all(a["subject"] != "daily" for a in alerts)
    assert c.get("/api/v1/alerts", stale_days=0).status == 422


def test_usage_history_and_access(as_role: dict[str, Client], lab: Lab) -> None:
    c = as_role["viewer"]
    assert c.get("/api/v1/usage", tier="hot").json() == {"items": [], "next": None}
    monitor(lab.config, lab.catalog_url, record=True)
    points = c.get("/api/v1/usage", tier="hot").json()["items"]
    assert len(points) >= 1 and points[-1]["used"] >= 0
    assert c.get("/api/v1/usage").status == 400  # neither a tier nor a mount
    assert c.get("/api/v1/access").json() == {"items": [], "next": None}


def test_repository_dag_and_metrics(as_role: dict[str, Client], lab: Lab) -> None:
    c = as_role["viewer"]
    assert c.get("/api/v1/repos").json()["items"] == [{"name": "project", "path": str(lab.repo)}]
    dag = c.get("/api/v1/repos/project/dag").json()
    assert dag["nodes"] == ["prepare", "train"] and dag["edges"] == [["prepare", "train"]]
    state = {s["address"]: s["changed"] for s in dag["stages"]}
    assert state == {"prepare": False, "train": True}
    metrics = c.get("/api/v1/repos/project/metrics", all_tags="true").json()
    assert metrics["v1"]["data"]["metrics.json"]["data"] == {"accuracy": 0.875}
    assert c.get("/api/v1/repos/../dag").status == 404
    assert c.get("/api/v1/repos/nope/dag").status == 404


def test_admin_actions(as_role: dict[str, Client]) -> None:
    body = {"policy": "daily", "dry_run": True}
    assert as_role["editor"].post_json("/api/v1/backups/run", body).status == 403
    r = as_role["admin"].post_json("/api/v1/backups/run", body)
    assert r.status == 200 and r.json()["items"][0]["snapshot"] is None
    assert as_role["viewer"].post_json("/api/v1/lab/scan", {}).status == 403
    assert as_role["admin"].post_json("/api/v1/lab/scan", {}).status == 200


def test_a_lab_without_backup_policies_has_no_backup_alerts(tmp_path: Path) -> None:
    config = tmp_path / "lab.yaml"
    api.lab_init(tmp_path / "mnt", config)
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    assert api.backup_status(config, url) == []
    assert all(a.source == "monitor" for a in api.alerts(config, url))
