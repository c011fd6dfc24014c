"""Backup targets in an archive storage class (S3 on moto): objects written in the class with
manifests and snapshot files readable, archive restores requested by restore, drill and
check --read-data (exit 10, --wait), prune keeping objects younger than the class's minimum
duration unless --allow-early. Checked against the bucket's own HEADs and the files' bytes."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from labvault.backup import coldstore
from labvault.backup.engine import Cold, OwnEngine
from labvault.backup.retention import Policy
from labvault.errors import RestorePendingError
from labvault.progress import NullProgress
from tests.backup.test_engine import make_source, tree
from tests.conftest import Runner
from tests.services import AzuriteServer, GcsServer, S3Server, azurite_server, gcs_server, s3_server  # noqa: F401

GLACIER = Cold("GLACIER", price_per_gb_month=1000.0)


def _classes(s3: S3Server, bucket: str, prefix: str) -> dict[str, str]:
    c = s3.client()
    return {k: str(c.head_object(Bucket=bucket, Key=k).get("StorageClass", "STANDARD"))
            for k in s3.keys(bucket, prefix)}


def _cold(tmp_path: Path, s3: S3Server, cold: Cold = GLACIER) -> tuple[OwnEngine, str]:
    bucket = s3.make_bucket("cold")
    return OwnEngine(f"s3://{bucket}/bk", s3.options, cache_dir=tmp_path / "cache", jobs=2, cold=cold), bucket


def test_objects_in_the_class_manifests_readable_restore_requested(
        tmp_path: Path, s3_server: S3Server) -> None:  # noqa: F811
    engine, bucket = _cold(tmp_path, s3_server)
    src = make_source(tmp_path)
    sid = engine.run("daily", [str(src)]).snapshot or ""
    classes = _classes(s3_server, bucket, "bk/")
    snap_doc = json.loads(s3_server.read(bucket, f"bk/snapshots/{sid}.json"))
    manifest_key = f"bk/files/md5/{snap_doc['manifest']['md5'][:2]}/{snap_doc['manifest']['md5'][2:]}"
    files = {k: c for k, c in classes.items() if k.startswith("bk/files/md5/") and k != manifest_key}
    assert len(files) == 6 and set(files.values()) == {"GLACIER"}
    assert classes[manifest_key] == "STANDARD" and classes[f"bk/snapshots/{sid}.json"] == "STANDARD"
    with pytest.raises(Exception, match="InvalidObjectState"):
        s3_server.read(bucket, next(iter(files)))
    # listing, forget planning and check without --read-data need no restore
    assert [s.id for s in engine.list()] == [sid]
    assert [i.keep for i in engine.forget({"daily": Policy(last=1)}, dry_run=True).items] == [True]
    light = engine.check()
    assert light.ok and light.objects == 7 and light.objects_read == 0
    out = tmp_path / "out"
    with pytest.raises(RestorePendingError) as info:
        engine.restore(sid, str(out))
    assert info.value.message == (f"restore requested for 6 objects of snapshot {sid[:12]} from GLACIER, ready in "
                                  f"about 5 h; run `labvault backup restore {sid} --to {out} --wait` or try again "
                                  "later")
    assert info.value.exit_code == 10 and not out.exists()
    head = s3_server.client().head_object(Bucket=bucket, Key=next(iter(files)))
    assert 'ongoing-request="false"' in head["Restore"]  # moto restores at once (no transition set)
    engine.restore(sid, str(out), verify=True)
    assert tree(out / "data") == tree(src)
    assert engine.check(read_data=True).ok
    engine.close()


def test_restore_in_progress_then_wait(tmp_path: Path, s3_server: S3Server,  # noqa: F811
                                       restore_delay: int) -> None:
    said: list[str] = []

    class Said(NullProgress):
        def message(self, text: str) -> None:
            said.append(text)

    engine, _bucket = _cold(tmp_path, s3_server, Cold("DEEP_ARCHIVE"))
    src = tmp_path / "one"
    src.mkdir()
    (src / "x.bin").write_bytes(os.urandom(3000))
    sid = engine.run("daily", [str(src)]).snapshot or ""
    with pytest.raises(RestorePendingError, match=r"^restore requested for 1 objects of snapshot .* ready in about 12 h"):
        engine.drill(sid)
    with pytest.raises(RestorePendingError, match=r"^restore of snapshot .* already in progress \(0 of 1 objects"):
        engine.drill(sid)
    engine.cold = Cold("DEEP_ARCHIVE", wait=True, poll_seconds=0)
    result = engine.drill(sid, progress=Said())
    assert result.ok and result.sampled == 1
    assert any("waiting for the restore of snapshot" in s and "0 of 1 objects ready" in s for s in said), said
    (src / "y.bin").write_bytes(os.urandom(3000))  # a new archived object, no restore asked yet
    engine.run("daily", [str(src)])
    engine.cold = Cold("DEEP_ARCHIVE", wait=True, timeout=0)
    with pytest.raises(RestorePendingError, match=r"not finished after \d+ s \(3 of 4 objects ready\)"):
        engine.check(read_data=True)  # two manifests and x.bin readable, y.bin requested
    engine.close()


def test_prune_keeps_young_objects_unless_allow_early(tmp_path: Path, s3_server: S3Server) -> None:  # noqa: F811
    engine, bucket = _cold(tmp_path, s3_server)
    src = tmp_path / "src"
    src.mkdir()
    (src / "keep.bin").write_bytes(os.urandom(4000))
    (src / "old.bin").write_bytes(os.urandom(100_000))
    engine.run("daily", [str(src)])
    (src / "old.bin").write_bytes(os.urandom(50_000))
    second = engine.run("daily", [str(src)]).snapshot or ""
    with pytest.raises(RestorePendingError):
        engine.drill(second)  # requests the sample's restores (moto restores at once)
    assert engine.drill(second).ok  # verified: forget may now drop the first snapshot
    assert len(engine.forget({"daily": Policy(last=1)}).removed) == 1
    plan = engine.prune(dry_run=True)
    # unused: the first manifest (STANDARD, no minimum) and the first old.bin (GLACIER, 90 d)
    assert (plan.unreferenced, plan.young, plan.young_bytes, plan.deleted) == (2, 1, 100_000, 0)
    assert plan.early_fee == pytest.approx(90 / 30 * 100_000 / 1024**3 * 1000.0, rel=1e-3)
    before = s3_server.keys(bucket, "bk/files/")
    done = engine.prune()
    after = s3_server.keys(bucket, "bk/files/")
    assert done.deleted == 1 and len(before) - len(after) == 1
    assert 100_000 in after.values()  # the young GLACIER object is still there
    target = engine.target
    unused = {k[len("bk/files/md5/"):].replace("/", ""): n for k, n in after.items() if n == 100_000}
    assert set(coldstore.young(target, unused, datetime.now(UTC))) == set(unused)
    assert coldstore.young(target, unused, datetime.now(UTC) + timedelta(days=90, minutes=1)) == {}
    early = engine.prune(allow_early=True)
    assert (early.deleted, early.young, early.allow_early) == (1, 1, True) and early.early_fee > 0
    assert 100_000 not in s3_server.keys(bucket, "bk/files/").values()
    engine.close()


@pytest.mark.parametrize("store, sclass", [("gcs", "NEARLINE"), ("azure", "Cool")])
def test_prune_on_gcs_and_azure_reads_the_object_age(tmp_path: Path, store: str, sclass: str,
                                                     request: pytest.FixtureRequest) -> None:
    """GCS and Azure objects take the bucket's class: every unused object, manifests too, is young
    for its first 30 days (GCS ``updated``, Azure ``last_modified``)."""
    if store == "gcs":
        gcs: GcsServer = request.getfixturevalue("gcs_server")
        url, options = f"gs://{gcs.make_bucket()}/bk", gcs.options
    else:
        az: AzuriteServer = request.getfixturevalue("azurite_server")
        url, options = f"azure://{az.make_container()}/bk", az.options
    engine = OwnEngine(url, options, cache_dir=tmp_path / "cache", jobs=2, cold=Cold(sclass, 1000.0))
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(2000))
    engine.run("daily", [str(src)])
    (src / "a.bin").write_bytes(os.urandom(3000))
    second = engine.run("daily", [str(src)]).snapshot or ""
    assert engine.drill(second).ok  # nothing to restore on GCS or Azure: verified at once
    assert len(engine.forget({"daily": Policy(last=1)}).removed) == 1
    plan = engine.prune(dry_run=True)
    assert (plan.unreferenced, plan.young, plan.deleted) == (2, 2, 0) and plan.early_fee > 0
    later = datetime.now(UTC) + timedelta(days=30, minutes=1)
    assert len(coldstore.young(engine.target, plan_objects(engine), datetime.now(UTC))) == 2
    assert coldstore.young(engine.target, plan_objects(engine), later) == {}
    assert engine.prune().deleted == 0 and len(engine.target.all_objects()) == 4
    assert engine.prune(allow_early=True).deleted == 2 and len(engine.target.all_objects()) == 2
    assert engine.check(read_data=True).ok
    engine.close()


def plan_objects(engine: OwnEngine) -> dict[str, int]:
    """The objects no snapshot of the engine's target needs (md5 -> size)."""
    from labvault.backup.check import collect

    need = collect(engine.target, engine.target.snapshot_ids())[0]
    return {o: n for o, n in engine.target.all_objects().items() if o not in need}


def test_cli_restore_pending_is_one_line_exit_10(tmp_path: Path, s3_server: S3Server,  # noqa: F811
                                                 lv: Runner, env: dict[str, str]) -> None:
    bucket = s3_server.make_bucket("cold")
    src = tmp_path / "data"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(2000))
    lab = tmp_path / "lab.yaml"
    lab.write_text(f"""
tiers: {{hot: {{path: {tmp_path}}}}}
catalog_url: sqlite:///{tmp_path / 'catalog.sqlite'}
backups:
  - name: cold
    sources: [{src}]
    target: s3://{bucket}/bk
    storage_class: GLACIER
    price_per_gb_month: 0.0036
    options: {{endpointurl: "{s3_server.endpoint}"}}
""")
    env.update(LABVAULT_LAB=str(lab), XDG_CACHE_HOME=str(tmp_path / "cache"), **s3_server.env)
    lv("backup", "run")
    assert json.loads(lv("backup", "check", "--json").stdout)[0]["ok"]
    out = tmp_path / "out"
    proc = lv("backup", "restore", "latest", "--to", str(out), check=False)
    assert proc.returncode == 10 and proc.stdout == "" and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: restore requested for 1 objects of snapshot ") and "about 5 h" in proc.stderr
    assert lv("backup", "restore", "latest", "--to", str(out), "--wait", "--timeout", "60").returncode == 0
    assert (out / "data" / "a.bin").read_bytes() == (src / "a.bin").read_bytes()
    plan = json.loads(lv("backup", "prune", "--dry-run", "--json").stdout)[0]
    assert (plan["young"], plan["allow_early"], plan["deleted"]) == (0, False, 0)
