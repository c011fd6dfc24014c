"""How ``monitor`` reads the catalog: the kept sums (``lab_totals``) through ``sqlite3`` alone when it
only reads an SQLite catalog at the newest schema, else through the catalog's engine; both give the
same report. An older catalog is migrated (its sums filled from the placements) and then read;
``--verify`` finds sums that disagree with the placements, rebuilds them and warns."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
import yaml

from labvault import api
from labvault.catalog import migrate, store
from labvault.catalog.lab_schema import lab_totals
from labvault.catalog.plain import sqlite_rows
from labvault.tiers import history
from labvault.tiers import monitor as _monitor
from labvault.tiers.load import load_lab
from tests.conftest import Runner
from tests.tiers.labrows import add_unit

AT = datetime(2026, 6, 1, 12, 0, 0)
T = TypeVar("T")
# name, tier, size, kind, nfiles, more copies
UNITS = [("coco_val", "hot", 9500, "dataset", 3, ("warm",)), ("coco_train", "warm", 100, "dataset", 1, ()),
         ("imagenet", "cold", 2000, "dataset", 7, ()), ("bert_base", "hot", 40, "model", 1, ()),
         ("zeta", "hot", 2000, "dataset", 2, ()), ("alpha_run", "warm", 2000, "experiment", 5, ()),
         ("gone_x", "hot", 10**6, "dataset", 1, ())]


def _lab(tmp_path: Path) -> Path:
    tiers = {}
    for t in ("hot", "warm", "cold"):
        (tmp_path / t).mkdir(exist_ok=True)
        tiers[t] = {"path": str(tmp_path / t), "warn_percent": 99.8, "critical_percent": 99.9}
    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "tiers": tiers}, sort_keys=False))
    return path


def _fill(cat: store.Catalog, tmp_path: Path) -> None:
    for name, tier, size, kind, nfiles, more in UNITS:
        state = "missing" if name.startswith("gone") else "present"
        add_unit(cat, name, tier, size, kind=kind, nfiles=nfiles, state=state,
                 also=tuple((t, 1.0) for t in more))
    for day in range(5):
        history.append_usage(cat, AT - timedelta(days=day), [history.UsageRow("hot", str(tmp_path / "hot"),
                                                                                1000 + day, 10**9)])


def _from_catalog(r: _monitor.MonitorReport) -> tuple[object, ...]:
    return (r.datasets, r.datasets_total, r.projects, r.projects_total, r.timestamp,
            [(t.name, t.unit_bytes, t.units, t.objects, t.datasets, t.monthly_cost, t.trend.points) for t in r.tiers])


def test_sqlite3_and_the_engine_give_the_same_report(tmp_path: Path, lab_env: Path) -> None:
    folder = tmp_path / "odd # name"  # the file: URI escapes "#"
    folder.mkdir()
    url = f"sqlite:///{folder / 'catalog.sqlite'}"
    cat = store.open_catalog(url)
    try:
        _fill(cat, tmp_path)
        config = load_lab(_lab(tmp_path))
        with sqlite_rows(url) as rows:
            assert rows is not None
            quick = _monitor.monitor(rows, config, AT, top=3)
        with cat.sql_rows() as rows:
            engine = _monitor.monitor(rows, config, AT, top=3)
    finally:
        store.forget(url)
    assert _from_catalog(quick) == _from_catalog(engine)  # the disks' figures move between two reads
    assert {t.name: (t.unit_bytes, t.units, t.objects, t.datasets) for t in quick.tiers} == {
        "hot": (9500 + 40 + 2000, 3, 3 + 1 + 2, 2), "warm": (9500 + 100 + 2000, 3, 3 + 1 + 5, 2),
        "cold": (2000, 1, 7, 1)}
    assert [(g.name, g.bytes, g.units, g.objects, g.tiers) for g in quick.datasets] == [
        ("coco_val", 19000, 2, 6, {"hot": 9500, "warm": 9500}), ("imagenet", 2000, 1, 7, {"cold": 2000}),
        ("zeta", 2000, 1, 2, {"hot": 2000})]
    assert quick.datasets_total == 4  # gone_x is missing: not counted
    # ties at 2000 bytes: code-point order of names
    assert [(g.name, g.bytes) for g in quick.projects] == [("coco", 19100), ("alpha", 2000), ("imagenet", 2000)]
    assert quick.projects_total == 5
    assert quick.tiers[0].trend.points == 6  # five recorded, and now
    with sqlite_rows(f"sqlite:///{tmp_path / 'a%41' / 'c.sqlite'}") as rows:
        assert rows is None  # SQLAlchemy reads %41 as "A": the engine path opens that one


def test_a_report_that_only_reads_sqlite_never_loads_sqlalchemy(tmp_path: Path, lab_env: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    _fill(store.open_catalog(url), tmp_path)
    store.forget(url)
    code = ("import sys, json; from labvault import api; from labvault.api.jsonshape import to_json; "
            f"r = api.monitor({str(_lab(tmp_path))!r}, {url!r}, top=2); "
            "print(json.dumps([to_json(r.tiers), sorted(m for m in sys.modules if m.startswith('sqlalchemy'))]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    tiers, loaded = json.loads(out)
    assert loaded == []
    assert [(t["name"], t["unit_bytes"]) for t in tiers] == [("hot", 11540), ("warm", 11600), ("cold", 2000)]


class _Writer:
    """What ``add_unit`` and ``append_usage`` need of a catalog: ``write``, here on a bare engine."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def write(self, fn: Callable[[sa.Connection], T]) -> T:
        with self.engine.begin() as conn:
            return fn(conn)


def test_an_older_catalog_is_migrated_with_its_sums_then_read(tmp_path: Path, lab_env: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    engine = store._make_engine(url)[0]
    with engine.connect() as conn:
        migrate.upgrade(conn.execution_options(lv_write=True), "0011")
    engine.dispose()
    old = _Writer(store._make_engine(url)[0])  # rows in the 0011 tables, written before any trigger existed
    _fill(old, tmp_path)  # type: ignore[arg-type]
    old.engine.dispose()
    with sqlite_rows(url) as rows:
        assert rows is None  # not at the newest schema: the engine migrates it first
    r = api.monitor(_lab(tmp_path), url, at=AT)
    assert {t.name: t.unit_bytes for t in r.tiers} == {"hot": 11540, "warm": 11600, "cold": 2000}
    assert (r.datasets_total, r.projects_total) == (4, 5)
    with store.open_catalog(url).read() as conn:
        assert migrate.current_revision(conn) == migrate.HEAD
    store.forget(url)


def test_verify_rebuilds_sums_that_disagree_and_warns(tmp_path: Path, lab_env: Path, lv: Runner) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    cat = store.open_catalog(url)
    _fill(cat, tmp_path)
    lab = str(_lab(tmp_path))
    args = ("monitor", "--json", "--lab", lab, "--catalog", url)
    clean = lv(*args, "--verify")
    assert not [w for w in json.loads(clean.stdout)["warnings"] if "disagreed" in w]
    t = lab_totals
    cat.write(lambda conn: conn.execute(sa.update(t).where(t.c.grp_kind == "tier", t.c.tier == "cold")
                                        .values(bytes=5, units=9)))
    wrong = json.loads(lv(*args, check=False).stdout)
    assert [x["unit_bytes"] for x in wrong["tiers"]] == [11540, 11600, 5]  # what the sums say, unchecked
    checked = lv(*args, "--verify", check=False)
    doc = json.loads(checked.stdout)
    assert checked.returncode == 1 and doc["status"] == "warn"
    assert doc["warnings"] == ["warn: the catalog's sums per tier, project and dataset disagreed with its placements "
                               "in 1 row (first: tier//cold: kept 5 bytes, 9 units, 7 objects, 1 datasets, "
                               "placements give 2000 bytes, 1 units, 7 objects, 1 datasets); rebuilt from the "
                               "placements"]
    assert [x["unit_bytes"] for x in doc["tiers"]] == [11540, 11600, 2000]
    after = lv(*args)
    assert [x["unit_bytes"] for x in json.loads(after.stdout)["tiers"]] == [11540, 11600, 2000]
    store.forget(url)
