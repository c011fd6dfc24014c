"""push, fetch, ``status --cloud``, verify and the read API in a repo whose cache spilled: spilled
objects count as present (fetched back from the tier, verified, when they are needed), and a
repo that never spilled asks no catalog."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import labvault
from labvault import api
from labvault.cli.main import main
from labvault.errors import CorruptObjectError
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


class Said(NullProgress):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def message(self, text: str) -> None:
        self.lines.append(text)


@pytest.fixture
def spilled(lab_root: Path, catalog_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repo whose old versions are spilled to the cold tier, its pointers naming them again (as
    a git checkout of an old commit would), and an empty folder remote ``store``."""
    monkeypatch.setenv("LABVAULT_CATALOG_URL", catalog_url)
    repo, old = two_versions(tmp_path)
    age_cache(repo, 60)
    assert sorted(api.cache_spill(to="cold", days=30, repo=repo).objects) == sorted(old_oids())
    for name, text in old.items():
        (repo / name).write_text(text)
    api.remote_add("store", str(tmp_path / "remote"), repo=repo)
    return repo


def _on_remote(tmp_path: Path, oid: str) -> bool:
    return tier_file(tmp_path / "remote", oid).is_file()


def test_status_cloud_and_push_send_spilled_objects(spilled: Path, tmp_path: Path) -> None:
    cloud = api.status_cloud(remote="store", repo=spilled)
    assert old_oids() <= set(cloud.to_push) and not cloud.lost and not cloud.to_pull
    pushed = api.push(remote="store", repo=spilled)
    assert pushed.ok and pushed.missing_local == []
    assert all(md5(tier_file(tmp_path / "remote", o).read_bytes()) == o for o in old_oids())
    assert api.status_cloud(remote="store", repo=spilled).in_sync
    # pushed from the cache after a verified fetch-back: the object is in the cache again
    assert all(cache_has(spilled, o) for o in old_oids())


def test_status_cloud_counts_a_spilled_object_the_remote_has_as_in_sync(spilled: Path, lab_root: Path) -> None:
    api.push(remote="store", repo=spilled)
    for oid in old_oids():  # the cache's copies go again: only the tier's remain
        p = Path(spilled / ".dvc/cache/files/md5" / oid[:2] / oid[2:])
        p.chmod(0o644)
        p.unlink()
    assert api.status_cloud(remote="store", repo=spilled).in_sync
    tier_file(lab_root / "hdd0", md5(OLD_FILE)).chmod(0o644)
    tier_file(lab_root / "hdd0", md5(OLD_FILE)).unlink()  # tier file gone: to pull, as without a spill
    assert api.status_cloud(remote="store", repo=spilled).to_pull == (md5(OLD_FILE),)


def test_fetch_takes_spilled_objects_from_the_tier_not_the_remote(spilled: Path) -> None:
    fetched = api.fetch(remote="store", repo=spilled)  # the remote is empty
    assert fetched.ok and fetched.missing_remote == [] and fetched.transferred == []
    assert all(cache_has(spilled, o) for o in old_oids())
    pulled = api.pull(remote="store", repo=spilled, force=True)
    assert pulled.fetched.ok and not pulled.checkout.failed
    assert (spilled / "model.bin").read_bytes() == OLD_FILE


def test_fetch_refuses_a_corrupt_tier_copy(spilled: Path, lab_root: Path) -> None:
    f = tier_file(lab_root / "hdd0", md5(OLD_FILE))
    f.chmod(0o644)
    f.write_bytes(b"bit rot" + OLD_FILE[7:])
    fetched = api.fetch(remote="store", repo=spilled)
    assert md5(OLD_FILE) in fetched.missing_remote and not cache_has(spilled, md5(OLD_FILE))


def test_verify_reports_spilled_objects_not_missing(spilled: Path, lab_root: Path) -> None:
    r = api.verify(repo=spilled)
    assert r.ok and r.missing == () and set(r.spilled) == old_oids()
    tier_file(lab_root / "hdd0", md5(OLD_FILE)).chmod(0o644)
    tier_file(lab_root / "hdd0", md5(OLD_FILE)).unlink()
    r = api.verify(repo=spilled)
    assert r.missing == (md5(OLD_FILE),) and not r.ok and set(r.spilled) == old_oids() - {md5(OLD_FILE)}


def test_verify_command_lists_spilled_objects(spilled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(spilled)
    runner = CliRunner()
    for args in (["verify", "--json"], ["verify"]):
        with runner.isolation() as (out, _err, _both):
            with pytest.raises(SystemExit) as done:
                main(args)
            text = out.getvalue().decode()
        assert not done.value.code
        if "--json" in args:
            report = json.loads(text)
            assert report["missing"] == [] and set(report["spilled"]) == old_oids()
        else:
            assert text.startswith("checked ") and "0 missing, 3 spilled" in text


def test_read_streams_a_spilled_object_from_its_tier(spilled: Path, lab_root: Path, tmp_path: Path) -> None:
    assert api.read("model.bin", repo=spilled, remote="store") == OLD_FILE
    assert api.read("images/a.jpg", repo=spilled, remote="store") == OLD_IMAGES["a.jpg"]
    got = api.get(str(spilled), "images", out=tmp_path / "got", remote="store")
    assert got.files == 3 and {p.name: p.read_bytes() for p in (tmp_path / "got").iterdir()} == OLD_IMAGES
    assert not any(cache_has(spilled, o) for o in old_oids())  # read in place, not fetched back
    f = tier_file(lab_root / "hdd0", md5(OLD_FILE))
    f.chmod(0o644)
    f.write_bytes(b"bit rot" + OLD_FILE[7:])
    with pytest.raises(CorruptObjectError):
        api.read("model.bin", repo=spilled, remote="store")


def test_a_repo_that_never_spilled_asks_no_catalog(lab_env: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABVAULT_CATALOG_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    (lab_env / "labvault").mkdir(parents=True)
    (lab_env / "labvault/lab.yaml").write_text(f"tiers:\n  cold:\n    path: {tmp_path}\n")
    repo, _ = two_versions(tmp_path)
    api.remote_add("store", str(tmp_path / "remote"), default=True, repo=repo)
    said = Said()
    assert md5(NEW_FILE) in api.status_cloud(repo=repo).to_push
    assert api.push(repo=repo, progress=said).ok and api.status_cloud(repo=repo).in_sync
    shutil.rmtree(repo / ".dvc/cache/files/md5")
    assert api.status_cloud(repo=repo).to_pull and api.verify(repo=repo, progress=said).missing
    assert api.read("model.bin", repo=repo) == NEW_FILE
    fetched = api.fetch(repo=repo, progress=said)
    assert fetched.ok and fetched.transferred and cache_has(repo, md5(NEW_FILE))
    assert said.lines == []


def test_old_commits_push_and_read_from_the_tier(lab_root: Path, catalog_url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABVAULT_CATALOG_URL", catalog_url)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1"}
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, env=env)

    git("init", "-q")
    api.init(repo)
    for data, tag in ((OLD_FILE, "v1"), (NEW_FILE, "v2")):
        if (repo / "model.bin").exists():
            (repo / "model.bin").chmod(0o644)
            (repo / "model.bin").unlink()
        (repo / "model.bin").write_bytes(data)
        api.add(["model.bin"], repo=repo)
        git("add", "-A")
        git("commit", "-qm", tag)
        git("tag", tag)
    age_cache(repo, 60)
    assert list(api.cache_spill(to="cold", days=30, repo=repo).objects) == [md5(OLD_FILE)]
    git("commit", "-qam", "spilled to cold")
    api.remote_add("store", str(tmp_path / "remote"), repo=repo)
    assert api.status_cloud(remote="store", revisions=api.Revisions(all_commits=True), repo=repo).lost == ()
    assert labvault.read("model.bin", repo=str(repo), rev="v1", remote="store") == OLD_FILE
    pushed = api.push(remote="store", revisions=api.Revisions(all_commits=True), repo=repo)
    assert pushed.ok and pushed.missing_local == [] and _on_remote(tmp_path, md5(OLD_FILE))
