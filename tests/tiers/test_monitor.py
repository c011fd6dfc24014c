"""``monitor``: mounts by statvfs (real small tmpfs mounts as nearly-full tiers), tiers, datasets and
projects from the catalog, thresholds, history and trends, the Prometheus textfile, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from prometheus_client.parser import text_string_to_metric_families

from labvault import api
from labvault.catalog import store
from labvault.catalog.lab_schema import lab_usage
from labvault.tiers import history
from tests.conftest import Runner
from tests.services import unavailable

MIB = 1024**2
AT = datetime(2026, 6, 1, 12, 0, 0)
Mount = Callable[[str, int], Path]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Mount]:
    """``tmpfs("hot", 2 * MIB)``: a fresh tmpfs of that size mounted at tmp_path/hot (root only;
    CI runs as root), unmounted afterwards."""
    mounted: list[Path] = []

    def make(name: str, size: int) -> Path:
        point = tmp_path / name
        point.mkdir()
        if os.geteuid() != 0:
            unavailable("mounting a tmpfs needs root (CI runs as root)")
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            unavailable(f"cannot mount a tmpfs: {proc.stderr.strip()}")
        mounted.append(point)
        return point

    yield make
    for point in reversed(mounted):
        if subprocess.run(["umount", str(point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(point)], capture_output=True)


def _lab(tmp_path: Path, tiers: dict[str, dict[str, object]]) -> Path:
    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "tiers": tiers}, sort_keys=False))
    return path


def _fill(folder: Path, nbytes: int, name: str = "fill.bin") -> None:
    (folder / name).write_bytes(b"\0" * nbytes)


@pytest.fixture
def sqlite_url(tmp_path: Path, lab_env: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    yield url
    store.forget(url)


def test_a_nearly_full_tmpfs_tier_is_critical(tmpfs: Mount, tmp_path: Path, sqlite_url: str, lv: Runner,
                                              env: dict[str, str]) -> None:
    hot, warm = tmpfs("hot", 2 * MIB), tmpfs("warm", 2 * MIB)
    _fill(hot, 1900 * 1024)  # 92.8% of 2 MiB
    lab = _lab(tmp_path, {"hot": {"path": str(hot)}, "warm": {"path": str(warm)}})
    proc = lv("monitor", "--lab", str(lab), "--catalog", sqlite_url, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"WARNING: critical: {hot} is 92.8% full (warn at 80%, critical at 90%; tier hot)" in proc.stdout
    assert str(warm) not in "".join(line for line in proc.stdout.splitlines() if "WARNING" in line)
    report = json.loads(lv("monitor", "--json", "--lab", str(lab), "--catalog", sqlite_url, check=False).stdout)
    assert report["status"] == "critical" and report["exit_code"] == 2
    mounts = {m["mount"]: m for m in report["mounts"]}
    assert set(mounts) == {str(hot), str(warm)}
    m = mounts[str(hot)]
    assert (m["total"], m["used"], m["free"]) == (2 * MIB, 1900 * 1024, 2 * MIB - 1900 * 1024)
    assert m["percent"] == 92.77 and m["status"] == "critical" and m["tiers"] == ["hot"]
    assert mounts[str(warm)]["status"] == "ok" and mounts[str(warm)]["percent"] == 0.0
    assert [t["status"] for t in report["tiers"]] == ["critical", "ok"]
    assert report["warnings"] == [f"critical: {hot} is 92.8% full (warn at 80%, critical at 90%; tier hot)"]
    assert report["timestamp"].endswith("Z") and datetime.fromisoformat(report["timestamp"][:-1])


def test_thresholds_ok_warn_critical(tmpfs: Mount, tmp_path: Path, sqlite_url: str) -> None:
    hot = tmpfs("hot", 2 * MIB)
    lab = _lab(tmp_path, {"hot": {"path": str(hot), "warn_percent": 50, "critical_percent": 75}})
    for nbytes, status, code in ((0, "ok", 0), (MIB, "warn", 1), (1536 * 1024, "critical", 2)):
        _fill(hot, nbytes)
        r = api.monitor(lab, sqlite_url, at=AT)
        assert (r.status, r.exit_code, r.mounts[0].status) == (status, code, status)
        assert len(r.warnings) == (0 if status == "ok" else 1)
        if status != "ok":
            assert r.warnings[0].startswith(f"{status}: {hot} is ") and "warn at 50%, critical at 75%" in r.warnings[0]


def test_tiers_on_one_file_system_are_one_mount_with_the_strictest_thresholds(
        tmpfs: Mount, tmp_path: Path, sqlite_url: str) -> None:
    disk = tmpfs("disk", 2 * MIB)
    (disk / "a").mkdir()
    (disk / "b").mkdir()
    _fill(disk, MIB + 400 * 1024)  # 69.5%
    lab = _lab(tmp_path, {"fast": {"path": str(disk / "a"), "warn_percent": 60, "critical_percent": 95},
                          "slow": {"path": str(disk / "b"), "warn_percent": 70, "critical_percent": 90}})
    r = api.monitor(lab, sqlite_url, at=AT)
    assert len(r.mounts) == 1
    m = r.mounts[0]
    assert (m.mount, m.tiers, m.warn_percent, m.critical_percent, m.status) == (str(disk), ("fast", "slow"), 60, 90,
                                                                                 "warn")
    assert [t.status for t in r.tiers] == ["warn", "ok"]  # each tier by its own thresholds
    assert r.exit_code == 1 and len(r.warnings) == 1 and "tiers fast, slow" in r.warnings[0]


def test_a_missing_tier_folder_is_critical(tmp_path: Path, sqlite_url: str) -> None:
    (tmp_path / "here").mkdir()
    lab = _lab(tmp_path, {"hot": {"path": str(tmp_path / "gone"), "warn_percent": 99.8, "critical_percent": 99.9},
                          "warm": {"path": str(tmp_path / "here"), "warn_percent": 99.8, "critical_percent": 99.9}})
    r = api.monitor(lab, sqlite_url, at=AT)
    assert r.exit_code == 2 and r.tiers[0].status == "critical"
    assert f"critical: tier hot: {tmp_path / 'gone'} does not exist (is it mounted?)" in r.warnings
    assert [m.tiers for m in r.mounts] == [("warm",)]


def test_a_quota_tier_reports_what_the_catalog_places_there(lab_root: Path, catalog_url: str, tmp_path: Path) -> None:
    (lab_root / "nvme0/datasets/coco_2017_val.zip").write_bytes(b"x" * 9500)
    (lab_root / "nvme0/datasets/coco_2017_train.zip").write_bytes(b"y" * 100)
    (lab_root / "nvme0/experiments/sentiment_20241113_run001").mkdir()
    (lab_root / "nvme0/experiments/sentiment_20241113_run001/log.txt").write_bytes(b"z" * 300)
    (lab_root / "ssd0/datasets/imagenet_v2_val.tar").write_bytes(b"i" * 2000)
    (lab_root / "ssd0/models/sentiment_reviews_20241113_v1.pth").write_bytes(b"m" * 40)
    api.lab_scan(catalog_url=catalog_url)
    config = api.lab_config()
    text = config.source.read_text() if config.source else ""
    lab = _lab(tmp_path, {**{t.name: {"path": str(t.path), "warn_percent": 99.8, "critical_percent": 99.9}
                             for t in config.tiers}, "hot": {"path": str(lab_root / "nvme0"), "capacity": 10_000}})
    assert "nvme0" in text
    r = api.monitor(lab, catalog_url, at=AT, top=1)
    hot = r.tiers[0]
    assert (hot.name, hot.used, hot.capacity, hot.free, hot.percent, hot.units) == ("hot", 9900, 10_000, 100, 99.0,
                                                                                    3)
    assert hot.status == "critical" and "critical: tier hot is 99.0% of its capacity" in r.warnings[0]
    assert [(g.name, g.bytes, g.units, g.tiers) for g in r.datasets] == [("coco", 9600, 2, {"hot": 9600})]
    assert r.datasets_total == 2
    full = api.monitor(lab, catalog_url, at=AT)
    assert [(g.name, g.bytes) for g in full.datasets] == [("coco", 9600), ("imagenet", 2000)]
    assert [(g.name, g.bytes, g.units, g.tiers) for g in full.projects] == [
        ("coco", 9600, 2, {"hot": 9600}), ("imagenet", 2000, 1, {"warm": 2000}),
        ("sentiment", 340, 2, {"hot": 300, "warm": 40})]


def test_record_appends_a_row_per_mount_and_tier_and_trends_follow(tmpfs: Mount, tmp_path: Path,
                                                                   catalog_url: str, lab_env: Path) -> None:
    hot, cold = tmpfs("hot", 4 * MIB), tmpfs("cold", 2 * MIB)
    lab = _lab(tmp_path, {"hot": {"path": str(hot)}, "cold": {"path": str(cold), "capacity": "1MiB"},
                          "glacier": {"url": "s3://bucket/cold", "storage_class": "GLACIER"}})
    r = api.monitor(lab, catalog_url, record=True, at=AT)
    assert r.recorded == 5  # 2 mounts + 3 tiers
    cat = store.open_catalog(catalog_url)
    with cat.read() as conn:
        rows = sorted((r.tier or "", r.mount, r.used, r.total) for r in conn.execute(sa.select(lab_usage)))
    assert rows == [("", str(cold), 0, 2 * MIB), ("", str(hot), 0, 4 * MIB), ("cold", str(cold), 0, MIB),
                    ("glacier", "s3://bucket/cold", 0, 0), ("hot", str(hot), 0, 4 * MIB)]
    assert all(t.trend.trend == "no trend" for t in r.tiers) and r.mounts[0].trend.points == 1
    assert api.monitor(lab, catalog_url, at=AT).recorded == 0
    cat.write(lambda conn: conn.execute(sa.delete(lab_usage)))
    # A week of history, the hot mount growing 256 KiB a day: 3 MiB now of 4 MiB -> 4 days left.
    for day in range(1, 8):
        row = history.UsageRow(None, str(hot), 3 * MIB - day * 256 * 1024, 4 * MIB)
        history.append_usage(cat, AT - timedelta(days=day), [row])
    _fill(hot, 3 * MIB)
    r = api.monitor(lab, catalog_url, at=AT)
    m = {x.mount: x for x in r.mounts}[str(hot)]
    assert m.trend.trend == "growing" and m.trend.points == 8  # 7 recorded + now
    assert m.trend.days_until_full == pytest.approx(4.0, abs=0.01)
    assert m.status == "warn" and r.exit_code == 1
    assert any(w.startswith(f"warn: {hot} will be full in about ") for w in r.warnings)
    # Outside the window the history does not count.
    assert api.monitor(lab, catalog_url, at=AT + timedelta(days=40)).mounts[0].trend.trend == "no trend"


def test_prometheus_textfile_parses(tmpfs: Mount, tmp_path: Path, sqlite_url: str) -> None:
    hot = tmpfs("hot", 2 * MIB)
    _fill(hot, MIB)
    lab = _lab(tmp_path, {"hot": {"path": str(hot)}, "glacier": {"url": "s3://b/c", "storage_class": "GLACIER"}})
    out = tmp_path / "metrics" / "labvault.prom"
    out.parent.mkdir()
    api.monitor(lab, sqlite_url, prometheus=out, at=AT)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for fam in text_string_to_metric_families(out.read_text()) for s in fam.samples}
    assert samples[("labvault_tier_used_bytes", (("tier", "hot"),))] == MIB
    assert samples[("labvault_tier_capacity_bytes", (("tier", "hot"),))] == 2 * MIB
    assert ("labvault_tier_capacity_bytes", (("tier", "glacier"),)) not in samples  # unknown: omitted
    assert samples[("labvault_mount_used_ratio", (("mount", str(hot)),))] == 0.5
    assert samples[("labvault_monitor_status", ())] == 0
    assert samples[("labvault_monitor_timestamp_seconds", ())] == (AT - datetime(1970, 1, 1)).total_seconds()
    assert not any(name == "labvault_days_until_full" for name, _ in samples)  # no trend: omitted
    assert [p.name for p in out.parent.iterdir()] == ["labvault.prom"]  # no temp file left
    cat = store.open_catalog(sqlite_url)
    for day in range(1, 6):
        history.append_usage(cat, AT - timedelta(days=day), [history.UsageRow("hot", str(hot), MIB - day * 100_000,
                                                                              2 * MIB)])
    api.monitor(lab, sqlite_url, prometheus=out, at=AT)
    fams = {f.name: f for f in text_string_to_metric_families(out.read_text())}
    [sample] = fams["labvault_days_until_full"].samples
    assert sample.labels == {"mount": "", "tier": "hot"} and sample.value == pytest.approx(MIB / 100_000, rel=0.01)


def test_errors_exit_3_not_a_state(tmp_path: Path, lv: Runner) -> None:
    bad = lv("monitor", "--lab", str(tmp_path / "none.yaml"), check=False)
    assert bad.returncode == 3 and bad.stderr.startswith("error: lab config ") and not bad.stdout
    assert lv("monitor", "--bogus", check=False).returncode == 3
    assert lv("monitor", "--top", "x", check=False).returncode == 3
    lab = _lab(tmp_path, {"hot": {"path": str(tmp_path)}})
    unwritable = lv("monitor", "--lab", str(lab), "--catalog", f"sqlite:///{tmp_path / 'c.db'}", "--prometheus",
                    str(tmp_path / "no" / "such" / "x.prom"), check=False)
    assert unwritable.returncode == 3 and unwritable.stderr.startswith("error: ")
