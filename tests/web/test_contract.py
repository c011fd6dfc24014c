"""Every JSON endpoint that has a command-line twin answers what that command prints with
``--json`` on the same seeded lab (lists: the items of every page, in order); a catalog entry
bounded (``bounded``: at most the cap of inputs and outputs, with their totals)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tests.web.client import Client
from tests.web.conftest import Lab, stable
from tests.web.test_api_catalog import walk
from tests.web.test_lineage_caps import bounded


def cli_json(lv: Runner, lab: Lab, *args: str, cwd: Path | None = None) -> Any:
    proc = subprocess.run([*lv.argv0, *args], cwd=cwd or lv.cwd, env={**lv.env, "LABVAULT_LAB": str(lab.config)},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr  # monitor exits 1 on a warning
    return json.loads(proc.stdout)


def catalog(lab: Lab, *args: str) -> tuple[str, ...]:
    return ("catalog", "--url", lab.catalog_url, *args)


CATALOG_LISTS = [
    (("datasets", "--json"), "/api/v1/datasets", {}),
    (("datasets", "--all", "--json"), "/api/v1/datasets", {"all": "true"}),
    (("models", "--all", "--json"), "/api/v1/models", {"all": "true"}),
    (("runs", "--json"), "/api/v1/runs", {}),
    (("experiments", "--json"), "/api/v1/experiments", {}),
    (("search", "datasets", "--where", "size >= 5000", "--json"), "/api/v1/datasets",
     {"where": "size >= 5000", "all": "true"}),
    (("search", "runs", "--where", "metrics.accuracy > 0.6", "--json"), "/api/v1/runs",
     {"where": "metrics.accuracy > 0.6"}),
]


@pytest.mark.parametrize(("args", "path", "params"), CATALOG_LISTS, ids=[" ".join(a[:2]) for a, _, _ in CATALOG_LISTS])
def test_catalog_lists(lv: Runner, lab: Lab, as_role: dict[str, Client], args: tuple[str, ...], path: str,
                       params: dict[str, str]) -> None:
    items, _ = walk(as_role["admin"], path, limit=4, **params)
    cli = cli_json(lv, lab, *catalog(lab, *args))
    assert items == (cli if args[0] == "experiments" else [bounded(e, lab.catalog_url) for e in cli])


def test_catalog_entry_and_lineage(lv: Runner, lab: Lab, as_role: dict[str, Client]) -> None:
    c = as_role["admin"]
    for kind, ref in (("model", "clf@v1"), ("run", "train@3"), ("dataset", "ds_00@v2")):
        cli = cli_json(lv, lab, *catalog(lab, "show", kind, ref, "--json"))
        assert c.get(f"/api/v1/{kind}s/{ref}").json() == bounded(cli, lab.catalog_url)
    graph = c.get("/api/v1/lineage/dataset/ds_00@v2", depth=2).json()
    assert graph.pop("truncated") is False
    assert graph == cli_json(lv, lab, *catalog(lab, "lineage", "dataset", "ds_00@v2", "--depth", "2", "--json"))


def test_lab_reports(lv: Runner, lab: Lab, as_role: dict[str, Client]) -> None:
    c = as_role["admin"]
    assert stable(c.get("/api/v1/tiers").json()["items"]) == stable(cli_json(lv, lab, "tier", "list", "--json"))
    assert stable(c.get("/api/v1/monitor").json()) == stable(cli_json(lv, lab, "monitor", "--json"))
    assert c.get("/api/v1/cost", by="kind").json() == cli_json(lv, lab, "cost", "--by", "kind", "--json")
    assert c.get("/api/v1/backups").json()["items"] == cli_json(lv, lab, "backup", "list", "--json")
    assert c.get("/api/v1/access").json()["items"] == cli_json(lv, lab, "access", "show", "--json")
    plan = c.get("/api/v1/lifecycle/plan").json()
    whole = cli_json(lv, lab, "lifecycle", "plan", "--json")
    for part in ("moves", "refused"):
        assert plan.pop(f"{part}_count") == len(whole[part])
        assert walk(c, f"/api/v1/lifecycle/{part}", limit=2)[0] == whole.pop(part)
    assert stable(plan) == stable(whole)


def test_repository_views(lv: Runner, lab: Lab, as_role: dict[str, Client]) -> None:
    c = as_role["admin"]
    dag = c.get("/api/v1/repos/project/dag").json()
    status = cli_json(lv, lab, "status", "--json", cwd=lab.repo)
    assert dag.pop("stages") == status["stages"]
    assert dag == cli_json(lv, lab, "dag", "--json", cwd=lab.repo)
    metrics = c.get("/api/v1/repos/project/metrics", all_tags="true").json()
    assert metrics == cli_json(lv, lab, "metrics", "show", "-T", "--json", cwd=lab.repo)
