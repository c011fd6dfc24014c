"""The lab config: every field read and typed, defaults per storage class, discovery order, and
one clear line naming the key for bad input."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from labvault.errors import ConfigError
from labvault.tiers.load import find_lab_file, load_lab, parse_lab, parse_size
from tests.conftest import _labvault_cmd

FULL = """
version: 1
catalog_url: sqlite:////tmp/lab-catalog.sqlite
min_copies: 2
symlink_old_path: false
tiers:
  hot: {path: /mnt/nvme0, price_per_gb_month: 0.15, capacity: 2TB, warn_percent: 70, critical_percent: 85}
  warm: {path: /mnt/ssd0, price_per_gb_month: 0.035, areas: [datasets, models]}
  cold: {path: /mnt/hdd0, price_per_gb_month: 0.007}
  ia: {url: s3://lab-archive/ia, storage_class: STANDARD_IA, price_per_gb_month: 0.0125}
  glacier: {url: s3://lab-archive/glacier, storage_class: GLACIER, price_per_gb_month: 0.0036,
            retrieval_price_per_gb: 0.01, retrieval_hours: 5}
  deep: {url: s3://lab-archive/deep, storage_class: DEEP_ARCHIVE, min_storage_days: 200}
  nearline: {url: gs://lab-archive/n, storage_class: NEARLINE}
  coldline: {url: gs://lab-archive/c, storage_class: COLDLINE}
  gcs-archive: {url: gs://lab-archive/a, storage_class: ARCHIVE}
  cool: {url: azure://lab/cool, storage_class: Cool}
  az-archive: {url: azure://lab/archive, storage_class: Archive}
lifecycle:
  rules:
    - {name: hot-to-warm, from: hot, to: warm, last_access_days: 7, kinds: [dataset], names: ["imagenet*"]}
    - {from: warm, to: cold, age_days: 90, min_size: 1GiB, max_size: 1TB, tags: [done]}
  pins: {tags: [production, keep], names: ["golden_*"], active_run_days: 30}
  promotion: {reads: 5, within_days: 3, to: warm}
"""


def test_every_field_is_read_and_typed() -> None:
    lab = parse_lab(FULL, Path("/etc/labvault/lab.yaml"))
    assert [t.name for t in lab.tiers][:3] == ["hot", "warm", "cold"]
    hot = lab.tier("hot")
    assert (hot.path, hot.capacity, hot.warn_percent, hot.critical_percent) == (Path("/mnt/nvme0"), 2 * 10**12, 70, 85)
    assert lab.tier("warm").areas == ("datasets", "models")
    assert lab.tier("glacier").retrieval_hours == 5 and lab.tier("glacier").retrieval_price_per_gb == 0.01
    assert (lab.min_copies, lab.symlink_old_path, lab.catalog_url) == (2, False, "sqlite:////tmp/lab-catalog.sqlite")
    r0, r1 = lab.rules
    assert (r0.name, r0.from_tier, r0.to_tier, r0.last_access_days, r0.kinds, r0.names) == (
        "hot-to-warm", "hot", "warm", 7, ("dataset",), ("imagenet*",))
    assert (r1.name, r1.age_days, r1.min_size, r1.max_size, r1.tags) == ("warm->cold", 90, 2**30, 10**12, ("done",))
    assert lab.pins.tags == ("production", "keep") and lab.pins.active_run_days == 30
    assert (lab.promotion.reads, lab.promotion.within_days, lab.promotion.to_tier) == (5, 3, "warm")
    assert lab.rank("cold") == 2 and lab.hottest.name == "hot"
    assert lab.tier("ia").infrequent_access and not lab.tier("glacier").infrequent_access


def test_minimum_storage_days_default_per_storage_class() -> None:
    lab = parse_lab(FULL)
    days = {t.name: t.min_storage_days for t in lab.tiers}
    assert days == {"hot": 0, "warm": 0, "cold": 0, "ia": 30, "glacier": 90, "deep": 200, "nearline": 30,
                    "coldline": 90, "gcs-archive": 365, "cool": 30, "az-archive": 180}
    deep = parse_lab("tiers: {d: {url: 's3://b/p', storage_class: deep_archive}}").tier("d")
    assert deep.min_storage_days == 180


def test_defaults_of_a_minimal_config() -> None:
    lab = parse_lab("tiers: {only: {path: /data}}")
    assert (lab.min_copies, lab.symlink_old_path, lab.rules, lab.pins.tags) == (1, True, (), ("production",))
    assert (lab.promotion.reads, lab.promotion.within_days, lab.promotion.to_tier) == (3, 7, None)
    t = lab.tier("only")
    assert (t.capacity, t.warn_percent, t.critical_percent, t.price_per_gb_month) == (None, 80, 90, 0)


@pytest.mark.parametrize(("text", "line"), [
    ("tiers: {warm: {path: /x, price_per_gb_month: cheap}}",
     "lab.yaml: tiers.warm.price_per_gb_month: expected a number, got 'cheap'"),
    ("tiers: {warm: {path: /x, prce: 1}}", "lab.yaml: tiers.warm.prce: unknown key"),
    ("tiers: {warm: {path: /x, capacity: lots}}", "lab.yaml: tiers.warm.capacity: expected a size"),
    ("tiers: {warm: {path: relative/x}}", "lab.yaml: tiers.warm.path: expected an absolute path"),
    ("tiers: {warm: {path: /x, url: 's3://b'}}", "lab.yaml: tiers.warm: give exactly one of path"),
    ("tiers: {c: {url: 'ftp://b'}}", "lab.yaml: tiers.c.url: expected an s3://, gs:// or azure:// URL"),
    ("tiers: {c: {url: 's3://b', storage_class: FROZEN}}", "lab.yaml: tiers.c.storage_class: unknown storage class"),
    ("tiers: {c: {path: /x, storage_class: GLACIER}}", "lab.yaml: tiers.c.storage_class: a storage class needs a url"),
    ("tiers: {c: {path: /x, warn_percent: 95, critical_percent: 90}}", "lab.yaml: tiers.c.warn_percent: 95 is above"),
    ("tiers: {c: {path: /x, critical_percent: 120}}", "lab.yaml: tiers.c.critical_percent: expected a number between"),
    ("tiers: {c: {path: /x}}\nlifecycle: {rules: [{from: c, to: d}]}",
     "lab.yaml: lifecycle.rules[0].to: no tier named 'd'"),
    ("tiers: {c: {path: /x}}\nlifecycle: {rules: [{from: c, to: c}]}", "lab.yaml: lifecycle.rules[0].to: a rule must"),
    ("tiers: {c: {path: /x}}\nlifecycle: {rules: [{from: c}]}", "lab.yaml: lifecycle.rules[0].to: missing"),
    ("tiers: {c: {path: /x}, d: {path: /y}}\nlifecycle: {rules: [{from: c, to: d, kinds: [photo]}]}",
     "lab.yaml: lifecycle.rules[0].kinds[0]: unknown value 'photo'"),
    ("tiers: {c: {path: /x}}\nmin_copies: 0", "lab.yaml: min_copies: expected a whole number of at least 1"),
    ("tiers: {c: {path: /x}}\nsymlink_old_path: maybe", "lab.yaml: symlink_old_path: expected true or false"),
    ("tiers: {}", "lab.yaml: tiers: no tiers defined"),
    ("tierz: {}", "lab.yaml: tierz: unknown key"),
    ("- a list", "lab.yaml: (top level): expected a mapping"),
    ("tiers: [", "lab.yaml: not valid YAML"),
])
def test_bad_config_names_the_key(text: str, line: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_lab(text, Path("lab.yaml"))
    assert info.value.line().startswith(line), info.value.line()
    assert "\n" not in info.value.line()
    assert info.value.exit_code == 2


def test_sizes() -> None:
    assert [parse_size(v) for v in (0, 12, "12", "1.5k", "500GB", "2TiB", "3 MiB", "7b")] == [
        0, 12, 12, 1500, 500 * 10**9, 2 * 2**40, 3 * 2**20, 7]
    assert [parse_size(v) for v in (-1, True, "cheap", "ib", "5 xb", 1.5)] == [None] * 6


def test_discovery_order(tmp_path: Path, lab_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def write(path: Path, tier: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"tiers: {{{tier}: {{path: /x}}}}\n")
        return path

    assert find_lab_file() is None
    with pytest.raises(ConfigError, match="no lab config found"):
        load_lab()
    system = write(tmp_path / "system-config" / "lab.yaml", "system")
    assert load_lab().tiers[0].name == "system" and find_lab_file() == system
    write(lab_env / "labvault" / "lab.yaml", "user")
    assert load_lab().tiers[0].name == "user"
    monkeypatch.setenv("LABVAULT_LAB", str(write(tmp_path / "env.yaml", "env")))
    assert load_lab().tiers[0].name == "env"
    assert load_lab(write(tmp_path / "flag.yaml", "flag")).tiers[0].name == "flag"
    with pytest.raises(ConfigError, match=r"from --lab\) does not exist"):
        load_lab(tmp_path / "absent.yaml")
    monkeypatch.setenv("LABVAULT_LAB", str(tmp_path / "gone.yaml"))
    with pytest.raises(ConfigError, match=r"from LABVAULT_LAB\) does not exist"):
        load_lab()


def test_cli_bad_config_is_one_line_exit_2(tmp_path: Path, lab_env: Path) -> None:
    bad = tmp_path / "lab.yaml"
    bad.write_text("tiers: {warm: {path: /x, price_per_gb_month: cheap}}\n")
    proc = subprocess.run([*_labvault_cmd(), "tier", "list", "--lab", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr == f"error: {bad}: tiers.warm.price_per_gb_month: expected a number, got 'cheap'\n"
    assert proc.stdout == ""


def test_the_documented_example_parses() -> None:
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    block = text.split("## The lab (`labvault.tiers`)", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    lab = parse_lab(block, Path("design.md"))
    assert [t.name for t in lab.tiers] == ["hot", "warm", "cold", "glacier"]
    assert lab.tier("glacier").min_storage_days == 90 and lab.rules[0].names == ("imagenet*",)
