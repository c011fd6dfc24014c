"""Reads through checkout, pull and ``api.record_read`` land in the lab's access log; without a lab
config nothing is recorded and nothing changes; a broken catalog never fails the command."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from labvault import api
from labvault.catalog import store
from labvault.catalog.lab_schema import lab_access, lab_units
from tests.conftest import Runner

DATA = b"coco val images\n" * 1000


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    api.init(repo, no_scm=True)
    (repo / "data").mkdir()
    (repo / "data/coco_2017_val.zip").write_bytes(DATA)
    (repo / "data/images").mkdir()
    for i in range(3):
        (repo / f"data/images/{i}.jpg").write_bytes(b"img %d" % i)
    (repo / "data/other.bin").write_bytes(b"not in the lab")
    api.add(["data/coco_2017_val.zip", "data/images", "data/other.bin"], repo=repo)
    return repo


def _lab_units(lab_root: Path, catalog_url: str, repo: Path) -> None:
    """The lab holds the same content as two of the repo's outputs (a file and a folder)."""
    shutil.copyfile(repo / "data/coco_2017_val.zip", lab_root / "nvme0/datasets/coco_2017_val.zip")
    shutil.copytree(repo / "data/images", lab_root / "ssd0/datasets/images")
    (lab_root / "ssd0/datasets/unrelated.bin").write_bytes(b"nobody reads me")
    api.lab_scan(catalog_url=catalog_url)


def _accesses(catalog_url: str) -> list[tuple[str, str, int]]:
    cat = store.open_catalog(catalog_url)
    with cat.read() as conn:
        names = {r.id: r.name for r in conn.execute(sa.select(lab_units.c.id, lab_units.c.name))}
        return sorted((names[r.unit_id], r.source, r.reads) for r in conn.execute(sa.select(lab_access)))


def _last(name: str, catalog_url: str) -> object:
    return api.where(name, catalog_url=catalog_url).units[0].last_access


def test_checkout_records_the_lab_units_it_wrote(lab_root: Path, catalog_url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABVAULT_CATALOG_URL", catalog_url)
    repo = _repo(tmp_path)
    _lab_units(lab_root, catalog_url, repo)
    assert _last("coco", catalog_url) is None
    api.checkout(repo=repo)  # everything in place: nothing read, nothing recorded
    assert _accesses(catalog_url) == []
    (repo / "data/coco_2017_val.zip").unlink()
    (repo / "data/images/1.jpg").unlink()
    (repo / "data/other.bin").unlink()
    result = api.checkout(repo=repo)
    assert sorted(result.added) == ["data/coco_2017_val.zip", "data/images/1.jpg", "data/other.bin"]
    assert _accesses(catalog_url) == [("coco", "checkout", 1), ("images", "checkout", 1)]
    assert _last("coco", catalog_url) is not None
    assert {u.name for u in api.where(str(lab_root / "ssd0/datasets/unrelated.bin"), catalog_url=catalog_url).units
            if u.last_access is None} != set()


def test_pull_records_source_pull(lab_root: Path, catalog_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABVAULT_CATALOG_URL", catalog_url)
    repo = _repo(tmp_path)
    _lab_units(lab_root, catalog_url, repo)
    api.remote_add("store", str(tmp_path / "remote"), default=True, repo=repo)
    api.push(repo=repo)
    shutil.rmtree(repo / ".dvc/cache")
    shutil.rmtree(repo / "data/images")
    r = api.pull(repo=repo)
    assert len(r.checkout.added) == 3
    assert _accesses(catalog_url) == [("images", "pull", 1)]
    assert _last("images", catalog_url) is not None and _last("coco", catalog_url) is None


def test_without_a_lab_config_nothing_is_recorded_and_the_command_is_unchanged(
        tmp_path: Path, lv: Runner, env: dict[str, str], workdir: Path) -> None:
    env.pop("LABVAULT_LAB", None)
    url = f"sqlite:///{tmp_path / 'never-created.sqlite'}"
    env["LABVAULT_CATALOG_URL"] = url
    lv("init", "--no-scm")
    (workdir / "d.bin").write_bytes(DATA)
    lv("add", "d.bin")
    (workdir / "d.bin").unlink()
    out = lv("checkout")
    assert out.stderr == "" and (workdir / "d.bin").read_bytes() == DATA
    assert not (tmp_path / "never-created.sqlite").exists()  # the catalog was never opened


def test_an_unreachable_catalog_costs_a_warning_not_the_command(lab_root: Path, tmp_path: Path, lv: Runner,
                                                                env: dict[str, str], lab_env: Path,
                                                                workdir: Path) -> None:
    env["XDG_CONFIG_HOME"] = str(lab_env)
    env["LABVAULT_CATALOG_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"
    lv("init", "--no-scm")
    (workdir / "d.bin").write_bytes(DATA)
    lv("add", "d.bin")
    (workdir / "d.bin").unlink()
    proc = lv("checkout")
    assert proc.returncode == 0 and (workdir / "d.bin").read_bytes() == DATA
    warnings = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and warnings[0].startswith("warning: reads not recorded in the lab's access log: ")
    env["LABVAULT_LAB"] = str(tmp_path / "missing-lab.yaml")  # a named lab file that is not there
    (workdir / "d.bin").unlink()
    proc = lv("checkout")
    assert proc.returncode == 0 and "warning: reads not recorded" in proc.stderr and (workdir / "d.bin").exists()


def test_record_read_by_path_and_by_name(lab_root: Path, catalog_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (lab_root / "ssd0/datasets/imagenet_v2_train.tar").write_bytes(b"t")
    (lab_root / "ssd0/datasets/imagenet_v2_val.tar").write_bytes(b"v")
    (lab_root / "nvme0/experiments/sentiment_20241113_run001").mkdir()
    (lab_root / "nvme0/experiments/sentiment_20241113_run001/log.txt").write_bytes(b"l")
    api.lab_scan(catalog_url=catalog_url)
    assert api.record_read(str(lab_root / "ssd0/datasets/imagenet_v2_train.tar"), catalog_url=catalog_url) == 1
    assert api.record_read(str(lab_root / "nvme0/experiments/sentiment_20241113_run001/log.txt"),
                           catalog_url=catalog_url) == 1
    assert api.record_read("imagenet@v2", source="loader", catalog_url=catalog_url) == 2
    assert api.record_read("nothing-of-that-name", catalog_url=catalog_url) == 0
    assert api.record_read(str(lab_root / "ssd0/nowhere.bin"), catalog_url=catalog_url) == 0
    units = {(u.part, u.last_access is not None) for u in api.where("imagenet", catalog_url=catalog_url).units}
    assert units == {("train", True), ("val", True)}
    cat = store.open_catalog(catalog_url)
    with cat.read() as conn:
        sources = sorted((r.source, r.reads) for r in conn.execute(sa.select(lab_access)))
    assert sources == [("loader", 1), ("loader", 1), ("read", 1), ("read", 1)]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(lab_root / "no-config-here"))
    assert api.record_read("imagenet@v2", catalog_url=catalog_url) == 0
