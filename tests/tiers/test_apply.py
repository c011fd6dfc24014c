"""``lifecycle apply``: the plan carried out by the mover, on SQLite and PostgreSQL; a rerun
converges (nothing left to move), --max-bytes and --dry-run hold, the CLI's JSON and exit codes."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from labvault import api
from labvault.catalog import store
from labvault.errors import UsageError
from labvault.tiers import journal
from tests.conftest import Runner
from tests.tiers.test_move import _dataset, _leftovers, _write, manifest


def _later() -> datetime:
    """Past the 7-day hot->warm rule, short of warm->cold's 30, for units written just before
    (taken when asked: a module-level time would be a day old for a test run across midnight)."""
    return datetime.now() + timedelta(days=8)


def _two_units(root: Path) -> tuple[Path, Path]:
    big = _dataset(root, big=300_000)
    small = root / "nvme0/datasets/coco_v1_val.zip"
    _write(small, b"coco" * 1000)
    return big, small


def test_apply_moves_the_plan_then_converges(lab_root: Path, lab_env: Path, catalog_url: str) -> None:
    big, small = _two_units(lab_root)
    later = _later()
    before = {p: manifest(p) if p.is_dir() else p.read_bytes() for p in (big, small)}
    dry = api.lifecycle_apply(dry_run=True, as_of=later, catalog_url=catalog_url)
    assert sorted((o.ref, o.status, o.dst_tier) for o in dry.report.outcomes) == [
        ("dataset coco@v1 (val)", "would move", "warm"), ("dataset imagenet@v2 (train)", "would move", "warm")]
    assert not big.is_symlink() and not small.is_symlink()
    assert journal.move_rows(store.open_catalog(catalog_url)) == []

    done = api.lifecycle_apply(as_of=later, catalog_url=catalog_url)
    assert [o.status for o in done.report.outcomes] == ["moved", "moved"]
    assert len(done.plan.moves) == 2 and done.report.moved_bytes == sum(m.size for m in done.plan.moves)
    assert big.is_symlink() and small.is_symlink()
    assert manifest(lab_root / "ssd0/datasets" / big.name) == before[big]
    assert (lab_root / "ssd0/datasets" / small.name).read_bytes() == before[small]
    rows = journal.move_rows(store.open_catalog(catalog_url))
    assert [r.state for r in rows] == ["done", "done"] and all(r.reason and "hot-to-warm" in r.reason for r in rows)

    again = api.lifecycle_apply(as_of=later, catalog_url=catalog_url)
    assert again.plan.moves == () and again.report.outcomes == ()
    assert _leftovers(lab_root) == []


def test_max_bytes_skips_what_does_not_fit(lab_root: Path, lab_env: Path, catalog_url: str) -> None:
    big, small = _two_units(lab_root)
    result = api.lifecycle_apply(max_bytes=10_000, as_of=_later(), catalog_url=catalog_url)
    status = {o.ref: (o.status, o.detail) for o in result.report.outcomes}
    assert status == {"dataset imagenet@v2 (train)": ("skipped", "over --max-bytes"),
                      "dataset coco@v1 (val)": ("moved", "symlink left at " + str(small))}
    assert not big.is_symlink() and small.is_symlink()
    with pytest.raises(UsageError, match="must not be negative"):
        api.lifecycle_apply(max_bytes=-1, catalog_url=catalog_url)


def test_cli_apply(lab_root: Path, lab_env: Path, catalog_url: str, lv: Runner, env: dict[str, str]) -> None:
    big, small = _two_units(lab_root)
    env.update(XDG_CONFIG_HOME=str(lab_env), LABVAULT_CATALOG_URL=catalog_url)
    later = _later().date().isoformat()  # midnight of that day: still past 7 days after the units were written
    text = lv("lifecycle", "apply", "--dry-run", "--as-of", later).stdout
    assert "would move dataset imagenet@v2 (train) hot -> warm" in text and not big.is_symlink()
    bad = lv("lifecycle", "apply", "--max-bytes", "lots", check=False)
    assert bad.returncode == 2 and "'lots' is not a size" in bad.stderr
    out = json.loads(lv("lifecycle", "apply", "--as-of", later, "--max-bytes", "1MB", "--json").stdout)
    assert sorted(o["status"] for o in out["outcomes"]) == ["moved", "moved"] and out["moved_bytes"] > 0
    assert len(out["plan"]["moves"]) == 2 and big.is_symlink() and small.is_symlink()
    assert lv("lifecycle", "apply", "--as-of", later).stdout.strip() == "nothing to move"
    where = json.loads(lv("where", str(big), "--json").stdout)
    assert where[0]["placements"][0]["tier"] == "warm"
    assert os.readlink(big) == str(lab_root / "ssd0/datasets" / big.name)
