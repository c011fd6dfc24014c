"""lab init, lab scan, tier list and where, on SQLite and PostgreSQL, against the obvious way:
hashlib over the files, and the real dvc's hash of the same folder."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
import yaml

from labvault import api
from labvault.catalog import store
from labvault.errors import CatalogError, ConfigError, PathError
from labvault.tiers.layout import LAYOUT
from tests.conftest import Runner


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    old = 1_700_000_000  # older than the scan's racy window
    os.utime(path, (old, old))


def _populate(root: Path) -> None:
    _write(root / "nvme0/datasets/imagenet_v2_train/a.bin", os.urandom(200_000))
    _write(root / "nvme0/datasets/imagenet_v2_train/sub/b.txt", b"hello\n")
    _write(root / "nvme0/datasets/imagenet_v2_val.tar", b"val" * 1000)
    _write(root / "ssd0/models/resnet50_imagenet_20241113_v1.pth", b"weights")
    _write(root / "ssd0/checkpoints/llama3_finetuned_20241113_checkpoint-1000.bin", b"ckpt")
    _write(root / "nvme0/experiments/sentiment_analysis_20241113_run001/log.txt", b"loss 0.1\n")
    _write(root / "hdd0/archive/My Old Data/x.csv", b"a,b\n1,2\n")


def test_init_lays_out_the_guide_tree_and_never_overwrites(tmp_path: Path, lab_env: Path) -> None:
    root = tmp_path / "mnt"
    (root / "ssd0" / "models").mkdir(parents=True)
    first = api.lab_init(root)
    expected = {str(root / m) for m in LAYOUT} | {str(root / m / a) for m, areas in LAYOUT.items() for a in areas}
    assert set(first.created) | set(first.existing) == expected
    assert str(root / "ssd0" / "models") in first.existing and str(root / "ssd0") in first.existing
    config = lab_env / "labvault" / "lab.yaml"
    assert first.config_written and first.config == str(config)
    lab = api.lab_config()
    assert [(t.name, t.path, t.price_per_gb_month) for t in lab.tiers] == [
        ("hot", root / "nvme0", 0.15), ("warm", root / "ssd0", 0.035), ("cold", root / "hdd0", 0.007)]
    assert [(r.from_tier, r.to_tier, r.last_access_days) for r in lab.rules] == [("hot", "warm", 7), ("warm", "cold", 30)]
    config.write_text(config.read_text() + "# edited by hand\n")
    second = api.lab_init(root)
    assert not second.config_written and second.created == () and set(second.existing) == expected
    assert config.read_text().endswith("# edited by hand\n")
    assert not [p for p in config.parent.iterdir() if p.name != "lab.yaml"]  # no temp file left


def test_init_refuses_a_file_where_a_folder_goes(tmp_path: Path, lab_env: Path) -> None:
    root = tmp_path / "mnt"
    root.mkdir()
    (root / "nvme0").write_text("not a folder")
    with pytest.raises(PathError, match="not a folder"):
        api.lab_init(root)


def test_scan_names_units_and_hashes_like_hashlib(lab_root: Path, catalog_url: str) -> None:
    _populate(lab_root)
    result = api.lab_scan(catalog_url=catalog_url)
    assert (result.units, result.new_units, result.hashed_files, result.cached_files) == (6, 6, 7, 0)
    assert result.skipped == ()
    ds = api.where("imagenet@v2", catalog_url=catalog_url).units
    assert [(u.kind, u.name, u.version, u.part) for u in ds] == [
        ("dataset", "imagenet", "v2", "train"), ("dataset", "imagenet", "v2", "val")]
    val = ds[1]
    assert val.content_hash == hashlib.md5(b"val" * 1000).hexdigest() and val.size == 3000 and val.nfiles == 1
    assert val.placements[0].tier == "hot" and val.placements[0].state == "present" and val.copies == 1
    train = ds[0]
    assert train.content_hash is not None and train.content_hash.endswith(".dir")
    assert (train.size, train.nfiles) == (200_006, 2)
    model = api.where("resnet50_imagenet@v1", catalog_url=catalog_url).units[0]
    assert (model.kind, model.part, model.placements[0].tier) == ("model", "20241113", "warm")
    ckpt = api.where("llama3_finetuned@checkpoint-1000", catalog_url=catalog_url).units[0]
    assert ckpt.kind == "checkpoint"
    run = api.where("sentiment_analysis@run001", catalog_url=catalog_url).units[0]
    assert (run.kind, run.part) == ("experiment", "20241113")
    other = api.where("My Old Data", catalog_url=catalog_url).units[0]  # no convention: the folder's name
    assert (other.kind, other.version, other.placements[0].tier) == ("dataset", "", "cold")


def test_folder_hash_is_dvcs(lab_root: Path, catalog_url: str, tmp_path: Path, dvc: Runner) -> None:
    _populate(lab_root)
    api.lab_scan(catalog_url=catalog_url)
    repo = tmp_path / "repo"
    shutil.copytree(lab_root / "nvme0/datasets/imagenet_v2_train", repo / "train")
    dvc("init", "--no-scm", cwd=repo)
    dvc("add", "train", cwd=repo)
    md5 = yaml.safe_load((repo / "train.dvc").read_text())["outs"][0]["md5"]
    assert api.where("imagenet@v2", catalog_url=catalog_url).units[0].content_hash == md5


def test_rescan_trusts_the_stat_cache_and_sees_changes(lab_root: Path, catalog_url: str) -> None:
    _populate(lab_root)
    api.lab_scan(catalog_url=catalog_url)
    again = api.lab_scan(catalog_url=catalog_url)
    assert (again.new_units, again.changed_units, again.new_placements, again.hashed_files, again.cached_files) == (
        0, 0, 0, 0, 7)
    _write(lab_root / "nvme0/datasets/imagenet_v2_train/sub/b.txt", b"changed, same mtime\n")
    shutil.rmtree(lab_root / "nvme0/experiments/sentiment_analysis_20241113_run001")
    third = api.lab_scan(catalog_url=catalog_url)
    assert (third.changed_units, third.hashed_files, third.missing_placements) == (1, 1, 1)
    train = api.where("imagenet@v2", catalog_url=catalog_url).units[0]
    assert train.size == 200_000 + len(b"changed, same mtime\n")
    gone = api.where("sentiment_analysis", catalog_url=catalog_url).units[0]
    assert gone.placements[0].state == "missing" and gone.copies == 0


def test_symlinks_are_not_units_and_where_follows_them(lab_root: Path, catalog_url: str) -> None:
    _populate(lab_root)
    (lab_root / "ssd0/datasets/imagenet_v2_val.tar").symlink_to(lab_root / "nvme0/datasets/imagenet_v2_val.tar")
    result = api.lab_scan(catalog_url=catalog_url)
    assert result.units == 6
    by_link = api.where(str(lab_root / "ssd0/datasets/imagenet_v2_val.tar"), catalog_url=catalog_url).units[0]
    assert by_link.placements[0].location == str(lab_root / "nvme0/datasets/imagenet_v2_val.tar")
    inside = api.where(str(lab_root / "nvme0/datasets/imagenet_v2_train/sub/b.txt"), catalog_url=catalog_url)
    assert inside.units[0].part == "train"


def test_same_name_other_content_elsewhere_is_a_conflict(lab_root: Path, catalog_url: str) -> None:
    _write(lab_root / "nvme0/datasets/coco_2017_val.zip", b"one")
    _write(lab_root / "ssd0/datasets/coco_2017_val.zip", b"two")
    result = api.lab_scan(catalog_url=catalog_url)
    assert result.units == 1 and len(result.skipped) == 1 and "other content" in result.skipped[0]
    _write(lab_root / "ssd0/datasets/coco_2017_val.zip", b"one")  # a true second copy
    api.lab_scan(catalog_url=catalog_url)
    unit = api.where("coco@2017", catalog_url=catalog_url).units[0]
    assert sorted(p.tier for p in unit.placements) == ["hot", "warm"] and unit.copies == 2


def test_tier_list_counts_and_costs(lab_root: Path, catalog_url: str, tmp_path: Path) -> None:
    _populate(lab_root)
    _write(lab_root / "hdd0/archive/big.bin", b"\0" * (1 << 20))
    api.lab_scan(catalog_url=catalog_url)
    tiers = {t.name: t for t in api.tier_list(catalog_url=catalog_url)}
    assert list(tiers) == ["hot", "warm", "cold"]
    hot = tiers["hot"]
    assert (hot.units, hot.datasets, hot.objects, hot.unit_bytes) == (3, 2, 4, 200_006 + 3000 + 9)
    assert hot.capacity == shutil.disk_usage(lab_root).total and hot.status in ("ok", "warn", "critical")
    cold = tiers["cold"]
    assert cold.unit_bytes == (1 << 20) + 8 and cold.monthly_cost == round(cold.unit_bytes / 2**30 * 0.007, 4)
    # A quota: capacity set in the config; used is what the catalog places there.
    config = api.lab_config()
    assert config.source is not None
    text = config.source.read_text().replace("    price_per_gb_month: 0.007\n",
                                             "    price_per_gb_month: 0.007\n    capacity: 1200000\n")
    config.source.write_text(text)
    cold = {t.name: t for t in api.tier_list(catalog_url=catalog_url)}["cold"]
    assert (cold.used, cold.capacity, cold.free) == ((1 << 20) + 8, 1_200_000, 1_200_000 - (1 << 20) - 8)
    assert cold.status == "warn"  # 87.4 % of the quota; the cold tier warns at 85


def test_where_unknown_and_bad_tier(lab_root: Path, catalog_url: str) -> None:
    with pytest.raises(CatalogError, match="no lab unit named nope@v9: run `labvault lab scan`"):
        api.where("nope@v9", catalog_url=catalog_url)
    with pytest.raises(CatalogError, match="no lab unit holds"):
        api.where(str(lab_root / "nvme0"), catalog_url=catalog_url)
    with pytest.raises(ConfigError, match="no tier named 'lukewarm'"):
        api.lab_scan(catalog_url=catalog_url, tiers=["lukewarm"])


def test_cli_round_trip(lab_root: Path, catalog_url: str, lv: Runner, env: dict[str, str], lab_env: Path) -> None:
    _populate(lab_root)
    store.forget(catalog_url)
    env["XDG_CONFIG_HOME"] = str(lab_env)
    env["LABVAULT_CATALOG_URL"] = catalog_url
    out = lv("lab", "scan").stdout
    assert out.startswith("6 units: 6 new")
    import json

    listed = json.loads(lv("tier", "list", "--json").stdout)
    assert [t["name"] for t in listed] == ["hot", "warm", "cold"] and listed[0]["datasets"] == 2
    found = json.loads(lv("where", "imagenet@v2", "--json").stdout)
    assert [u["part"] for u in found] == ["train", "val"] and found[0]["placements"][0]["tier"] == "hot"
    text = lv("where", "resnet50_imagenet").stdout
    assert text.startswith("model resnet50_imagenet@v1 (20241113): 7 B, 1 files, 1 copy, last access never")
    bad = lv("where", "nothing-here", check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error: no lab unit named nothing-here") and not bad.stdout
    again = lv("lab", "init", "--root", str(lab_root), "--json")
    assert json.loads(again.stdout)["config_written"] is False
