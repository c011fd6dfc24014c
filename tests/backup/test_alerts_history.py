"""``api.usage_history``, ``api.backup_drills`` and ``api.alerts`` on a real lab: recorded usage,
a real backup, a passing drill and one over corrupted objects, a stale snapshot."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from labvault import api
from labvault.api.monitor import monitor
from labvault.errors import UsageError


@pytest.fixture
def lab(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "lab.yaml"
    api.lab_init(tmp_path / "lab", path)
    (tmp_path / "lab/nvme0/datasets/raw").mkdir(parents=True, exist_ok=True)
    (tmp_path / "lab/nvme0/datasets/raw/a.csv").write_text("x,y\n1,2\n")
    with path.open("a") as f:
        f.write(f"\nbackups:\n  - name: nightly\n    sources: [{tmp_path}/lab/nvme0/datasets]\n"
                f"    target: {tmp_path}/store\n")
    return path, f"sqlite:///{tmp_path}/catalog.db"


def test_usage_history_returns_what_monitor_recorded_within_the_window(lab: tuple[Path, str]) -> None:
    path, url = lab
    t0 = datetime(2026, 1, 1)
    for d in (0, 10, 20):
        monitor(lab=path, catalog_url=url, record=True, at=t0 + timedelta(days=d))
    hist = api.usage_history(tier="hot", days=15, lab=path, catalog_url=url, at=t0 + timedelta(days=20))
    assert [p.at for p in hist] == ["2026-01-11T00:00:00Z", "2026-01-21T00:00:00Z"]
    assert all(p.used > 0 for p in hist)
    with pytest.raises(UsageError):
        api.usage_history(lab=path, catalog_url=url)
    with pytest.raises(UsageError):
        api.usage_history(tier="hot", days=0, lab=path, catalog_url=url)


def test_alerts_name_missing_stale_and_failed_backups(lab: tuple[Path, str], tmp_path: Path) -> None:
    path, url = lab
    found = {(a.source, a.subject): a for a in api.alerts(lab=path, catalog_url=url)}
    assert "no snapshot" in found[("backup", "nightly")].message

    api.backup_run(lab=path, catalog_url=url)
    assert api.backup_drill(lab=path, catalog_url=url, seed=1).ok
    [drill] = api.backup_drills("nightly", lab=path, catalog_url=url)
    assert drill.ok and drill.files >= 1 and drill.failures == ()
    assert api.alerts(lab=path, catalog_url=url) == []  # fresh, drilled, nothing full

    later = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(days=3)
    stale = {(a.source, a.subject): a for a in api.alerts(lab=path, catalog_url=url, at=later)}
    assert stale[("backup", "nightly")].severity == "warn" and "days old" in stale[("backup", "nightly")].message

    objects = [p for p in (tmp_path / "store").rglob("*") if p.is_file() and p.stat().st_size == 8]
    assert objects  # the one stored file's bytes ("x,y\n1,2\n"), corrupted in place
    for p in objects:
        p.chmod(0o644)
        p.write_bytes(b"garbage!")
    assert not api.backup_drill(lab=path, catalog_url=url, seed=1).ok
    failed = {(a.source, a.subject): a for a in api.alerts(lab=path, catalog_url=url)}
    assert failed[("drill", "nightly")].severity == "critical"
    both = api.alerts(lab=path, catalog_url=url, at=later)  # a stale snapshot (warn) and the failed drill
    assert [(a.source, a.severity) for a in both] == [("drill", "critical"), ("backup", "warn")]  # critical first
