"""``cache spill``: what moves, the tier as a remote, and status/checkout/pull/gc finding spilled
objects (SQLite and PostgreSQL catalogs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from labvault import api
from labvault.catalog import store
from labvault.catalog.spill_schema import cache_spills
from labvault.errors import ConfigError
from labvault.progress import NullProgress
from tests.tiers.spillkit import (
    NEW_FILE,
    OLD_FILE,
    OLD_IMAGES,
    age_cache,
    cache_has,
    md5,
    old_oids,
    tier_file,
    two_versions,
)


@pytest.fixture
def spilled(lab_root: Path, catalog_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, str]]:
    monkeypatch.setenv("LABVAULT_CATALOG_URL", catalog_url)
    repo, old = two_versions(tmp_path)
    age_cache(repo, 60)
    result = api.cache_spill(to="cold", days=30, repo=repo)
    assert sorted(result.objects) == sorted(old_oids())
    return repo, old


def _rows(catalog_url: str) -> dict[str, str]:
    with store.open_catalog(catalog_url).read() as conn:
        return {r.oid: r.state for r in conn.execute(sa.select(cache_spills))}


def _restore_old(repo: Path, old: dict[str, str]) -> None:
    for name, text in old.items():
        (repo / name).write_text(text)


def test_spill_moves_unused_unread_objects(spilled: tuple[Path, dict[str, str]], lab_root: Path,
                                           catalog_url: str) -> None:
    repo, _ = spilled
    cold = lab_root / "hdd0"
    for oid in old_oids():
        assert not cache_has(repo, oid)
        assert md5(tier_file(cold, oid).read_bytes()) == oid
    # what the workspace uses stays, b.jpg (shared by both versions) too
    assert cache_has(repo, md5(NEW_FILE)) and cache_has(repo, md5(OLD_IMAGES["b.jpg"]))
    rows = _rows(catalog_url)
    assert {o for o, s in rows.items() if s == "spilled" and not o.endswith(".dir")} == old_oids()
    manifests = [o for o in rows if o.endswith(".dir")]
    assert len(manifests) == 1 and cache_has(repo, manifests[0]) and tier_file(cold, manifests[0]).exists()
    config = (repo / ".dvc/config").read_text()
    assert "['remote \"cold\"']" in config and str(cold) in config and "remote = cold" in config
    assert "spill_tiers = cold" in (repo / ".dvc/labvault.local.conf").read_text()
    again = api.cache_spill(to="cold", days=30, repo=repo)  # converged: nothing left to move
    assert again.moved == 0 and again.manifests == 0


def test_dry_run_and_recent_reads_move_nothing(lab_root: Path, catalog_url: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABVAULT_CATALOG_URL", catalog_url)
    repo, _ = two_versions(tmp_path)
    fresh = api.cache_spill(to="cold", days=30, repo=repo)  # added just now: read "today"
    assert fresh.moved == 0 and fresh.recent == 4
    age_cache(repo, 60)
    plan = api.cache_spill(to="cold", days=30, repo=repo, dry_run=True)
    assert sorted(plan.objects) == sorted(old_oids()) and plan.moved_bytes == len(OLD_FILE) + 2 * 19
    assert all(cache_has(repo, o) for o in old_oids())
    assert not (repo / ".dvc/labvault.local.conf").exists() and "cold" not in (repo / ".dvc/config").read_text()
    # the access log: a lab unit with the old file's content read yesterday keeps it
    (lab_root / "hdd0/archive").mkdir(exist_ok=True)
    (lab_root / "hdd0/archive/old_model.bin").write_bytes(OLD_FILE)
    api.lab_scan()
    api.record_read(str(lab_root / "hdd0/archive/old_model.bin"))
    plan = api.cache_spill(to="cold", days=30, repo=repo, dry_run=True)
    assert md5(OLD_FILE) not in plan.objects and plan.recent == 1


def test_status_counts_spilled_objects_as_present(spilled: tuple[Path, dict[str, str]], lab_root: Path) -> None:
    repo, old = spilled
    _restore_old(repo, old)  # the pointers name the old versions again (as a git checkout would)
    outs = {o.path: o for o in api.status(repo=repo).outputs}
    assert outs["model.bin"].status == "modified" and outs["images"].status == "modified"
    assert set(outs["images"].modified) == {"a.jpg", "c.jpg"}
    # a spill record whose tier file is gone is not trusted: reported missing
    f = tier_file(lab_root / "hdd0", md5(OLD_IMAGES["c.jpg"]))
    f.chmod(0o644)
    f.unlink()
    outs = {o.path: o for o in api.status(repo=repo).outputs}
    assert outs["images"].status == "not_in_cache" and outs["images"].missing == ("c.jpg",)
    assert outs["model.bin"].status == "modified"


def test_checkout_fetches_spilled_objects_back(spilled: tuple[Path, dict[str, str]], lab_root: Path) -> None:
    repo, old = spilled
    new = {name: (repo / name).read_text() for name in old}
    _restore_old(repo, old)
    result = api.checkout(repo=repo, force=True)
    assert not result.failed
    assert (repo / "model.bin").read_bytes() == OLD_FILE
    assert {p.name: p.read_bytes() for p in (repo / "images").iterdir()} == OLD_IMAGES
    assert all(cache_has(repo, o) for o in old_oids())
    assert api.status(repo=repo).clean
    # fetched back = read now: once unused again, a spill with --days 30 leaves them
    _restore_old(repo, new)
    assert not api.checkout(repo=repo, force=True).failed
    again = api.cache_spill(to="cold", days=30, repo=repo)
    assert again.moved == 0 and again.recent == 3 and all(cache_has(repo, o) for o in old_oids())


def test_checkout_refuses_a_corrupt_tier_copy(spilled: tuple[Path, dict[str, str]], lab_root: Path) -> None:
    repo, old = spilled
    _restore_old(repo, old)
    f = tier_file(lab_root / "hdd0", md5(OLD_FILE))
    f.chmod(0o644)
    f.write_bytes(b"bit rot" + OLD_FILE[7:])
    result = api.checkout(repo=repo, force=True)
    assert result.failed == ["model.bin"] and not cache_has(repo, md5(OLD_FILE))
    assert (repo / "model.bin").read_bytes() == NEW_FILE


def test_pull_finds_spilled_objects(spilled: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    repo, old = spilled
    api.remote_add("store", str(tmp_path / "remote"), default=False, repo=repo)
    api.push(remote="store", repo=repo)  # the new versions only: the old ones are not in the cache
    _restore_old(repo, old)
    shutil.rmtree(repo / "images")
    r = api.pull(remote="store", repo=repo, force=True)
    assert {p.name: p.read_bytes() for p in (repo / "images").iterdir()} == OLD_IMAGES
    assert not r.checkout.failed and (repo / "model.bin").read_bytes() == OLD_FILE


def test_gc_leaves_the_spill_tier_unless_asked(spilled: tuple[Path, dict[str, str]], lab_root: Path,
                                               catalog_url: str) -> None:
    repo, _ = spilled
    cold = lab_root / "hdd0"
    plain = api.gc(repo=repo)
    assert plain.spilled_removed == ()
    assert all(tier_file(cold, o).exists() for o in old_oids())
    dry = api.gc(repo=repo, spilled=True, dry_run=True)
    assert set(dry.spilled_removed) >= old_oids() and all(tier_file(cold, o).exists() for o in old_oids())
    done = api.gc(repo=repo, spilled=True)
    assert done.spilled_removed == dry.spilled_removed
    assert not any(tier_file(cold, o).exists() for o in old_oids()) and _rows(catalog_url) == {}


def test_gc_spilled_keeps_a_tier_file_another_cache_names(spilled: tuple[Path, dict[str, str]], lab_root: Path,
                                                          catalog_url: str, tmp_path: Path) -> None:
    repo, _ = spilled
    other, _ = two_versions(tmp_path / "second")
    age_cache(other, 60)
    assert sorted(api.cache_spill(to="cold", days=30, repo=other).objects) == sorted(old_oids())
    api.gc(repo=repo, spilled=True)
    cold = lab_root / "hdd0"
    assert all(md5(tier_file(cold, o).read_bytes()) == o for o in old_oids())
    api.gc(repo=other, spilled=True)
    assert not any(tier_file(cold, o).exists() for o in old_oids())


def test_bad_input_changes_nothing(lab_root: Path, lab_env: Path, tmp_path: Path, catalog_url: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABVAULT_CATALOG_URL", catalog_url)
    repo, _ = two_versions(tmp_path)
    age_cache(repo, 60)
    before = (repo / ".dvc/config").read_text()
    with pytest.raises(ConfigError, match="no tier named 'nope'"):
        api.cache_spill(to="nope", repo=repo)
    with pytest.raises(ConfigError, match="--days"):
        api.cache_spill(to="cold", days=-1, repo=repo)
    bucket = tmp_path / "bucket-lab.yaml"
    bucket.write_text(f"tiers:\n  hot:\n    path: {lab_root}/nvme0\n  glacier:\n    url: s3://bucket/lab\n"
                      "    storage_class: GLACIER\n")
    with pytest.raises(ConfigError, match="folder-only") as err:
        api.cache_spill(to="glacier", repo=repo, lab=bucket)
    assert err.value.line().count("\n") == 0
    assert (repo / ".dvc/config").read_text() == before and all(cache_has(repo, o) for o in old_oids())


def test_a_repo_that_never_spilled_opens_no_catalog(lab_env: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    class Said(NullProgress):
        def __init__(self) -> None:
            self.lines: list[str] = []

        def message(self, text: str) -> None:
            self.lines.append(text)

    monkeypatch.setenv("LABVAULT_CATALOG_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    (lab_env / "labvault").mkdir(parents=True)
    (lab_env / "labvault/lab.yaml").write_text(f"tiers:\n  cold:\n    path: {tmp_path}\n")
    repo, old = two_versions(tmp_path)
    _restore_old(repo, old)
    shutil.rmtree(repo / ".dvc/cache/files/md5")
    said = Said()
    outs = api.status(repo=repo, progress=said).outputs  # the unreachable catalog is never asked
    assert {o.status for o in outs} == {"not_in_cache"} and said.lines == []
    # the same repo marked as spilled does ask (and says that it could not)
    (repo / ".dvc/labvault.local.conf").write_text("[labvault]\n    spill_tiers = cold\n")
    outs = api.status(repo=repo, progress=said).outputs
    assert {o.status for o in outs} == {"not_in_cache"}
    assert len(said.lines) == 1 and said.lines[0].startswith("warning: spilled objects not looked up")
