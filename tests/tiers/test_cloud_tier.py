"""Bucket tiers (S3 on moto): demote to a URL tier in its storage class, promote back, archive
restores (requested, in progress, --wait), early-deletion refusals, recovery of interrupted
uploads, untrusted manifests. Checked against the bucket's objects and the files themselves."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from labvault import api
from labvault.catalog import store
from labvault.errors import LabvaultError, RestorePendingError, UsageError
from labvault.progress import NullProgress
from labvault.tiers import bucket, finish, journal
from labvault.tiers.bucketmove import store_for
from labvault.tiers.cloudmove import send_unit
from labvault.tiers.recover import recover_moves
from labvault.tiers.units import find_units
from tests.conftest import Runner
from tests.services import S3Server
from tests.tiers.test_move import _dataset, _edit_config, _leftovers, _write, manifest


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    for k, v in s3_server.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server.endpoint)
    return s3_server


def _add_tier(lab_env: Path, bucket_name: str, sclass: str, min_days: int | None = 0) -> str:
    url = f"s3://{bucket_name}/cold"
    extra = f"\n    min_storage_days: {min_days}" if min_days is not None else ""
    _edit_config(lab_env, "min_copies: 1", f"  glacier:\n    url: {url}\n    storage_class: {sclass}\n"
                 f"    price_per_gb_month: 0.0036\n    retrieval_hours: 4{extra}\nmin_copies: 1")
    return url


def _objects(s3: S3Server, bucket_name: str) -> dict[str, int]:
    return s3.keys(bucket_name, "cold/")


def _class(s3: S3Server, bucket_name: str, key: str) -> str:
    return str(s3.client().head_object(Bucket=bucket_name, Key=key).get("StorageClass", "STANDARD"))


def test_demote_to_s3_in_its_class_then_promote_back(lab_root: Path, lab_env: Path, s3_env: S3Server,
                                                     catalog_url: str) -> None:
    b = s3_env.make_bucket()
    url = _add_tier(lab_env, b, "STANDARD_IA")
    unit = _dataset(lab_root, nfiles=12, big=200_000)
    (unit / "link").symlink_to("big.bin")
    (unit / "empty").mkdir()
    before = manifest(unit)
    api.lab_scan(catalog_url=catalog_url)
    [o] = api.demote("imagenet@v2", to="glacier", catalog_url=catalog_url).outcomes
    loc = f"{url}/datasets/imagenet_v2_train.lvunit.json"
    assert (o.status, o.dst_tier, o.dst_location) == ("moved", "glacier", loc)
    assert not os.path.lexists(unit)  # nothing left at the old path
    keys = _objects(s3_env, b)
    objs = {k: n for k, n in keys.items() if k.startswith("cold/files/md5/")}
    md5s = {h for h, *_ in manifest_values(before)}
    assert {k[len("cold/files/md5/"):].replace("/", "") for k in objs} == md5s
    assert set(keys) - set(objs) == {"cold/datasets/imagenet_v2_train.lvunit.json"}
    assert {_class(s3_env, b, k) for k in objs} == {"STANDARD_IA"}
    assert _class(s3_env, b, "cold/datasets/imagenet_v2_train.lvunit.json") == "STANDARD"
    [u] = api.where(str(unit), catalog_url=catalog_url).units  # the journal says where it went
    assert [(p.tier, p.location, p.state) for p in u.placements] == [("glacier", loc, "verified")]
    assert [r.state for r in journal.move_rows(store.open_catalog(catalog_url))] == ["done"]

    [back] = api.promote("imagenet@v2", to="hot", catalog_url=catalog_url).outcomes
    assert back.status == "moved" and back.dst_location == str(unit)
    assert manifest(unit) == before and os.readlink(unit / "link") == "big.bin" and (unit / "empty").is_dir()
    assert _objects(s3_env, b) == {}  # objects and manifest gone from the bucket
    [u] = find_units(store.open_catalog(catalog_url), "imagenet", "v2")
    assert [(p.tier, p.state) for p in u.placements] == [("hot", "verified")]
    assert _leftovers(lab_root) == []


def manifest_values(m: dict[str, tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    return list(m.values())


def test_glacier_restore_requested_then_ready(lab_root: Path, lab_env: Path, s3_env: S3Server, catalog_url: str,
                                              lv: Runner, env: dict[str, str]) -> None:
    b = s3_env.make_bucket()
    _add_tier(lab_env, b, "GLACIER")
    unit = _dataset(lab_root, nfiles=4, big=1000)
    before = manifest(unit)
    api.lab_scan(catalog_url=catalog_url)
    api.demote("imagenet@v2", to="glacier", catalog_url=catalog_url)
    obj = next(k for k in _objects(s3_env, b) if "/files/md5/" in k)
    with pytest.raises(Exception, match="InvalidObjectState"):
        s3_env.read(b, obj)  # GET fails until restored
    store.forget(catalog_url)
    env.update(XDG_CONFIG_HOME=str(lab_env), LABVAULT_CATALOG_URL=catalog_url, AWS_ENDPOINT_URL_S3=s3_env.endpoint,
               **s3_env.env)
    proc = lv("promote", "imagenet@v2", check=False)
    assert proc.returncode == 10 and proc.stdout == "" and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: restore requested for imagenet@v2 (5 objects), ready in about 4 h; "
                                  "run `labvault promote imagenet@v2 --wait` or try again later")
    assert not os.path.lexists(unit) and journal.move_rows(store.open_catalog(catalog_url))[-1].state == "done"
    head = s3_env.client().head_object(Bucket=b, Key=obj)
    assert 'ongoing-request="false"' in head["Restore"]  # moto restores at once (no transition set)
    [o] = api.promote("imagenet@v2", catalog_url=catalog_url).outcomes
    assert o.status == "moved" and manifest(unit) == before


def test_restore_in_progress_then_wait(lab_root: Path, lab_env: Path, s3_env: S3Server, catalog_url: str,
                                       restore_delay: int) -> None:
    b = s3_env.make_bucket()
    _add_tier(lab_env, b, "DEEP_ARCHIVE")
    unit = lab_root / "nvme0/datasets/scans_v1_train.tar"
    _write(unit, os.urandom(5000))
    api.lab_scan(catalog_url=catalog_url)
    api.demote("scans@v1", to="glacier", catalog_url=catalog_url)
    with pytest.raises(RestorePendingError, match=r"^restore requested for scans@v1 \(1 objects\), ready in about 4 h"):
        api.promote("scans@v1", catalog_url=catalog_url)
    with pytest.raises(RestorePendingError, match=r"^restore of scans@v1 already in progress \(0 of 1 objects ready\)"):
        api.promote("scans@v1", catalog_url=catalog_url)
    with pytest.raises(RestorePendingError, match=r"not finished after \d+ s \(0 of 1 objects ready\)"):
        api.promote("scans@v1", catalog_url=catalog_url, wait=True, timeout=0)
    said: list[str] = []

    class Said(NullProgress):
        def message(self, text: str) -> None:
            said.append(text)

    [o] = api.promote("scans@v1", catalog_url=catalog_url, wait=True, poll_seconds=0, progress=Said()).outcomes
    assert o.status == "moved" and os.path.isfile(unit)
    assert any("waiting for the restore of scans@v1: 0 of 1 objects ready" in s for s in said)


def test_leaving_a_tier_early_needs_allow_early(lab_root: Path, lab_env: Path, s3_env: S3Server,
                                                catalog_url: str) -> None:
    b = s3_env.make_bucket()
    _add_tier(lab_env, b, "GLACIER", min_days=None)  # the class's 90 days
    unit = lab_root / "nvme0/datasets/scans_v1_train.tar"
    _write(unit, os.urandom(5000))
    api.lab_scan(catalog_url=catalog_url)
    api.demote("scans@v1", to="glacier", catalog_url=catalog_url)
    with pytest.raises(UsageError, match=r"less than its minimum storage duration \(90 d.*early-deletion fee of \$"):
        api.promote("scans@v1", catalog_url=catalog_url)
    with pytest.raises(RestorePendingError):  # allowed: on to the restore
        api.promote("scans@v1", catalog_url=catalog_url, allow_early=True)


@pytest.mark.parametrize("state", ["planned", "copied", "verified", "switched"])
def test_recovery_of_an_interrupted_upload(lab_root: Path, lab_env: Path, s3_env: S3Server, catalog_url: str,
                                           state: str) -> None:
    b = s3_env.make_bucket()
    url = _add_tier(lab_env, b, "STANDARD_IA")
    unit = _dataset(lab_root, nfiles=5, big=1000)
    before = manifest(unit)
    api.lab_scan(catalog_url=catalog_url)
    cat = store.open_catalog(catalog_url)
    lab = api.lab_config()
    [u] = find_units(cat, "imagenet")
    loc = f"{url}/datasets/imagenet_v2_train.lvunit.json"
    mid = journal.plan_move(cat, u.id, "hot", str(unit), "glacier", loc, "test", u.size)
    tier = lab.tier("glacier")
    objs = store_for(tier)
    if state != "planned":
        m = send_unit(str(unit), objs, lambda n: None)
        journal.advance(cat, mid, "copied")
        if state in ("verified", "switched"):
            bucket.write_manifest(objs.backend, bucket.manifest_key(tier, loc), m)
            journal.advance(cat, mid, "verified")
        if state == "switched":
            finish.switch(cat, lab, mid, u.id, str(unit), "glacier", loc, {})
    recover_moves(cat, lab)
    [row] = journal.move_rows(cat)
    keys = _objects(s3_env, b)
    [u] = find_units(cat, "imagenet")
    if state == "switched":
        assert row.state == "done" and not os.path.lexists(unit)
        assert [(p.tier, p.location) for p in u.placements] == [("glacier", loc)]
        assert "cold/datasets/imagenet_v2_train.lvunit.json" in keys
    else:
        assert row.state == "rolled_back" and manifest(unit) == before
        assert [p.tier for p in u.placements] == ["hot"]
        assert "cold/datasets/imagenet_v2_train.lvunit.json" not in keys


def test_a_bad_manifest_is_one_line(lab_root: Path, lab_env: Path, s3_env: S3Server, catalog_url: str) -> None:
    b = s3_env.make_bucket()
    _add_tier(lab_env, b, "STANDARD_IA")
    unit = _dataset(lab_root, nfiles=3, big=1000)
    api.lab_scan(catalog_url=catalog_url)
    api.demote("imagenet@v2", to="glacier", catalog_url=catalog_url)
    doc = json.loads(s3_env.read(b, "cold/datasets/imagenet_v2_train.lvunit.json"))
    doc["files"][0][0] = "../../etc/passwd"
    s3_env.write(b, "cold/datasets/imagenet_v2_train.lvunit.json", json.dumps(doc).encode())
    with pytest.raises(LabvaultError, match=r"bad unit manifest: unsafe relpath '\.\./\.\./etc/passwd'") as exc:
        api.promote("imagenet@v2", catalog_url=catalog_url)
    assert exc.value.exit_code == 3
    assert not os.path.lexists(unit) and _leftovers(lab_root) == []


def test_lifecycle_apply_moves_to_the_bucket_tier(lab_root: Path, lab_env: Path, s3_env: S3Server,
                                                  catalog_url: str) -> None:
    b = s3_env.make_bucket()
    url = _add_tier(lab_env, b, "STANDARD")  # (IA classes refuse the small files: tested by the planner)
    _edit_config(lab_env, "      to: warm\n      last_access_days: 7", "      to: glacier\n      last_access_days: 0")
    unit = _dataset(lab_root, nfiles=5, big=200_000)
    before = manifest(unit)
    result = api.lifecycle_apply(catalog_url=catalog_url)
    [o] = result.report.outcomes
    assert (o.status, o.dst_tier) == ("moved", "glacier") and not os.path.lexists(unit)
    glacier = next(t for t in api.tier_list(catalog_url=catalog_url) if t.name == "glacier")
    assert (glacier.where, glacier.units, glacier.unit_bytes) == (url, 1, o.bytes)
    api.promote("imagenet@v2", catalog_url=catalog_url)
    assert manifest(unit) == before


@pytest.mark.parametrize("kind", ["gs", "azure"])
def test_gcs_and_azure_tiers_round_trip(lab_root: Path, lab_env: Path, catalog_url: str, kind: str,
                                        request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if kind == "gs":
        server = request.getfixturevalue("gcs_server")
        b = server.make_bucket()
        for k, v in server.env.items():
            monkeypatch.setenv(k, v)
    else:
        server = request.getfixturevalue("azurite_server")
        b = server.make_container()
        for k, v in server.env.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", server.connection_string)
    _edit_config(lab_env, "min_copies: 1", f"  cloud:\n    url: {kind}://{b}/cold\nmin_copies: 1")
    unit = _dataset(lab_root, nfiles=5, big=200_000)
    before = manifest(unit)
    api.lab_scan(catalog_url=catalog_url)
    [o] = api.demote("imagenet@v2", to="cloud", catalog_url=catalog_url).outcomes
    assert o.status == "moved" and not os.path.lexists(unit)
    keys = server.keys(b, "cold/")
    assert "cold/datasets/imagenet_v2_train.lvunit.json" in keys
    assert len([k for k in keys if k.startswith("cold/files/md5/")]) == len({v[0] for v in before.values()})
    api.promote("imagenet@v2", catalog_url=catalog_url)
    assert manifest(unit) == before and server.keys(b, "cold/") == {}
