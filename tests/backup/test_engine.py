"""labvault's own backup engine, through the library: round trips, deduplication, the stat cache,
forget+prune (a Hypothesis model over random histories), check and drill against damage, and an
S3 target on moto. Everything is checked here by reading the bytes independently of labvault."""

from __future__ import annotations

import hashlib
import os
import stat
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault import api
from labvault.backup.engine import OwnEngine
from labvault.backup.retention import Policy
from labvault.errors import CacheError, ConfigError, PathError, UsageError
from tests.services import S3Server, s3_server  # noqa: F401  (fixture)


def tree(base: Path) -> dict[str, tuple[str, object, int]]:
    """relpath -> (kind, content md5 or link target, mode) of everything under ``base``."""
    out: dict[str, tuple[str, object, int]] = {}
    for root, dirs, files in os.walk(base):
        for name in dirs + files:
            p = Path(root) / name
            rel = p.relative_to(base).as_posix()
            st_ = p.lstat()
            if stat.S_ISLNK(st_.st_mode):
                out[rel] = ("link", os.readlink(p), 0)
            elif stat.S_ISDIR(st_.st_mode):
                out[rel] = ("dir", None, stat.S_IMODE(st_.st_mode))
            else:
                out[rel] = ("file", hashlib.md5(p.read_bytes()).hexdigest(), stat.S_IMODE(st_.st_mode))
    return out


def make_source(base: Path) -> Path:
    src = base / "data"
    (src / "sub dir" / "ünïcode").mkdir(parents=True)
    (src / "empty-folder").mkdir()
    (src / "a.txt").write_bytes(b"alpha\n")
    (src / "sub dir" / "b c.bin").write_bytes(os.urandom(70_000))
    (src / "sub dir" / "ünïcode" / "é.txt").write_text("accent")
    (src / "empty.bin").write_bytes(b"")
    (src / "same.txt").write_bytes(b"alpha\n")  # same content as a.txt: one object
    (src / "exec.sh").write_bytes(b"#!/bin/sh\n")
    (src / "exec.sh").chmod(0o750)
    (src / "private").write_bytes(b"secret")
    (src / "private").chmod(0o600)
    os.symlink("a.txt", src / "link-to-a")
    os.symlink("../outside", src / "dangling")
    os.utime(src / "a.txt", ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    time.sleep(0.1)  # past the stat cache's 50 ms racy window: a first run may cache every file
    return src


@pytest.fixture
def engine(tmp_path: Path) -> OwnEngine:
    return OwnEngine(str(tmp_path / "target"), cache_dir=tmp_path / "cache", jobs=2)


def object_files(target: Path) -> dict[str, int]:
    base = target / "files" / "md5"
    out = {}
    for p in base.glob("??/*"):
        out[p.parent.name + p.name] = p.stat().st_size
    return out


def test_round_trip_is_byte_identical(tmp_path: Path, engine: OwnEngine) -> None:
    src = make_source(tmp_path)
    r = engine.run("daily", [str(src)])
    assert r.snapshot is not None and r.files == 7 and r.symlinks == 2 and r.dirs == 4
    out = tmp_path / "out"
    res = engine.restore(r.snapshot, str(out), verify=True)
    assert res.files == 7 and res.verified
    assert tree(out / "data") == tree(src)
    assert (out / "data" / "a.txt").stat().st_mtime_ns == 1_600_000_000_000_000_000
    # only some paths
    part = tmp_path / "part"
    engine.restore(r.snapshot[:12], str(part), ["data/sub dir"])
    assert sorted(p.relative_to(part).as_posix() for p in part.rglob("*")) == [
        "data", "data/sub dir", "data/sub dir/b c.bin", "data/sub dir/ünïcode", "data/sub dir/ünïcode/é.txt"]
    with pytest.raises(UsageError):
        engine.restore(r.snapshot, str(part), ["data/nothing-here"])


def test_unchanged_run_adds_no_object_and_reads_nothing(tmp_path: Path, engine: OwnEngine) -> None:
    src = make_source(tmp_path)
    os.utime(src / "sub dir" / "b c.bin", ns=(10**18, 10**18))
    time.sleep(0.1)
    first = engine.run("daily", [str(src)])
    before = object_files(tmp_path / "target")
    second = engine.run("daily", [str(src)])
    assert second.objects_added == 0 and second.hashed_files == 0 and second.cached_files == 7
    assert second.bytes_added < 1 << 20
    assert object_files(tmp_path / "target") == before
    assert first.snapshot != second.snapshot
    # one changed file: one object (plus the new manifest)
    (src / "sub dir" / "b c.bin").write_bytes(os.urandom(1000))
    third = engine.run("daily", [str(src)])
    assert third.hashed_files == 1 and third.objects_added == 2
    after = object_files(tmp_path / "target")
    assert len(after) == len(before) + 2


def test_stat_cache_never_hides_a_change(tmp_path: Path, engine: OwnEngine) -> None:
    """Same size, mtime put back: the ctime (and inode on replace) still give the change away."""
    src = make_source(tmp_path)
    f = src / "a.txt"
    engine.run("daily", [str(src)])
    st_ = f.stat()
    f.write_bytes(b"ALPHA\n")
    os.utime(f, ns=(st_.st_atime_ns, st_.st_mtime_ns))
    r = engine.run("daily", [str(src)])
    assert r.hashed_files >= 1
    out = tmp_path / "out"
    engine.restore(r.snapshot or "", str(out))
    assert (out / "data" / "a.txt").read_bytes() == b"ALPHA\n"


def test_objects_left_by_an_interrupted_run_are_reused(tmp_path: Path, engine: OwnEngine) -> None:
    src = make_source(tmp_path)
    dry = engine.run("daily", [str(src)], dry_run=True)
    assert dry.snapshot is None and dry.objects_added == 6
    assert not (tmp_path / "target" / "snapshots").exists()
    target = engine.target
    target.put_file(str(src / "sub dir" / "b c.bin"))  # as if a run died after sending one object
    r = engine.run("daily", [str(src)])
    assert r.objects_added == 6  # 5 files + manifest: the big one was already there


def test_check_names_snapshot_and_path_of_damage(tmp_path: Path, engine: OwnEngine) -> None:
    src = make_source(tmp_path)
    r = engine.run("daily", [str(src)])
    assert engine.check(read_data=True).ok
    objs = tmp_path / "target" / "files" / "md5"
    md5 = {name: hashlib.md5((src / name).read_bytes()).hexdigest()
           for name in ("sub dir/b c.bin", "exec.sh", "private")}

    def path_of(name: str) -> Path:
        return objs / md5[name][:2] / md5[name][2:]

    flipped = path_of("sub dir/b c.bin")
    flipped.chmod(0o644)
    data = bytearray(flipped.read_bytes())
    data[100] ^= 1
    flipped.write_bytes(bytes(data))
    truncated = path_of("exec.sh")
    truncated.chmod(0o644)
    truncated.write_bytes(truncated.read_bytes()[:-1])
    path_of("private").unlink()

    quick = engine.check()
    assert not quick.ok
    assert {(b.md5, b.problem) for b in quick.bad} == {(md5["exec.sh"], "wrong_size"), (md5["private"], "missing")}
    full = engine.check(read_data=True)
    problems = {b.md5: (b.problem, b.used_by) for b in full.bad}
    assert problems == {
        md5["sub dir/b c.bin"]: ("corrupt", ((r.snapshot, "data/sub dir/b c.bin"),)),
        md5["exec.sh"]: ("wrong_size", ((r.snapshot, "data/exec.sh"),)),
        md5["private"]: ("missing", ((r.snapshot, "data/private"),)),
    }
    # a subset reads only its slice; the slices together read everything
    read = sum(engine.check(subset=(n, 3)).objects_read for n in (1, 2, 3))
    assert read == quick.objects - 2  # the missing and wrong-sized objects are not read
    drill = engine.drill(sample=100, seed=1)
    assert not drill.ok and len(drill.failed) == 3
    with pytest.raises(CacheError):
        engine.restore(r.snapshot or "", str(tmp_path / "out"))


def test_restore_never_writes_through_a_symlink(tmp_path: Path, engine: OwnEngine) -> None:
    src = make_source(tmp_path)
    r = engine.run("daily", [str(src)])
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "data")
    with pytest.raises(PathError):
        engine.restore(r.snapshot or "", str(out))
    assert list(elsewhere.iterdir()) == []


def test_forget_and_prune_keep_what_kept_snapshots_need(tmp_path: Path, engine: OwnEngine) -> None:
    src = make_source(tmp_path)
    ids = []
    for i in range(4):
        (src / "a.txt").write_bytes(f"version {i}".encode())
        ids.append(engine.run("daily", [str(src)]).snapshot)
    unverified = engine.forget({"daily": Policy(last=2)}, dry_run=True)  # nothing newer is verified yet
    assert unverified.removed == () and all("no newer verified" in i.reasons[0] for i in unverified.items[:2])
    assert engine.drill(ids[-1]).ok
    plan = engine.forget({"daily": Policy(last=2)}, dry_run=True)
    assert set(plan.removed) == set(ids[:2]) and len(engine.list()) == 4
    engine.forget({"daily": Policy(last=2)})
    assert [s.id for s in engine.list()] == ids[2:]
    dry = engine.prune(dry_run=True)
    assert dry.unreferenced == 4 and dry.deleted == 0  # two versions of a.txt, two manifests
    pruned = engine.prune()
    assert pruned.deleted == 4
    assert engine.check(read_data=True).ok
    for sid in ids[2:]:
        out = tmp_path / f"out-{sid}"
        engine.restore(sid or "", str(out), verify=True)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(st.lists(st.tuples(st.integers(0, 5), st.binary(max_size=40)), max_size=3),
                        min_size=1, max_size=6),
       keep_last=st.integers(0, 3), keep_tagged=st.booleans())
def test_model_forget_prune_then_restore_every_kept_snapshot(tmp_path_factory: pytest.TempPathFactory,
                                                             history: list[list[tuple[int, bytes]]],
                                                             keep_last: int, keep_tagged: bool) -> None:
    base = tmp_path_factory.mktemp("model")
    src = base / "src"
    src.mkdir()
    engine = OwnEngine(str(base / "target"), cache_dir=base / "cache", jobs=1)
    expected: dict[str, dict[str, bytes]] = {}
    for step, changes in enumerate(history):
        for n, data in changes:
            (src / f"f{n}").write_bytes(data)
        tags = ("keep",) if keep_tagged and step % 2 else ()
        sid = engine.run("p", [str(src)], tags=tags).snapshot
        assert sid is not None
        expected[sid] = {p.name: p.read_bytes() for p in src.iterdir()}
    policy = Policy(last=keep_last, keep_tags=(frozenset({"keep"}),) if keep_tagged else ())
    assert engine.drill().ok
    engine.forget({"p": policy})
    engine.prune()
    kept = [s.id for s in engine.list()]
    assert engine.check(read_data=True).ok
    for sid in kept:
        out = base / f"out-{sid}"
        engine.restore(sid, str(out), verify=True)
        assert {p.name: p.read_bytes() for p in (out / "src").iterdir()} == expected[sid]


def test_lab_config_policies_and_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_source(tmp_path)
    lab = tmp_path / "lab.yaml"
    lab.write_text(f"""
tiers: {{hot: {{path: {tmp_path}}}}}
backups:
  - name: daily
    sources: [{src}]
    target: {tmp_path / 'target'}
    retention: {{keep_last: 1}}
    schedule: "0 2 * * *"
    tags: [nightly]
""")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    catalog = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    runs = api.backup_run(lab=lab)
    assert [r.policy for r in runs] == ["daily"]
    api.backup_run("daily", lab=lab)
    snaps = api.backup_list(lab=lab)
    assert len(snaps) == 2 and snaps[0].tags == ("nightly",)
    drill = api.backup_drill(lab=lab, catalog_url=catalog, seed=3)
    assert drill.ok and drill.recorded and drill.sampled == 7
    from labvault.catalog.backup_log import drills
    from labvault.catalog.store import open_catalog

    rows = drills(open_catalog(catalog))
    assert [(r.policy, r.snapshot, r.ok, r.files) for r in rows] == [("daily", snaps[-1].id, True, 7)]
    forgotten = api.backup_forget(lab=lab)
    assert forgotten[0].removed == (snaps[0].id,)
    assert api.backup_prune(lab=lab)[0].deleted == 0  # the same data: nothing unreferenced
    with pytest.raises(ConfigError):
        api.backup_run("weekly", lab=lab)


@pytest.mark.parametrize("bad, key", [
    ("{name: d, sources: [rel/path], target: /t}", "backups[0].sources[0]"),
    ("{name: d, sources: [/a/x, /b/x], target: /t}", "backups[0].sources[1]"),
    ("{name: d, sources: [/a], target: ftp://x}", "backups[0].target"),
    ("{name: d, sources: [/a], target: /t, retention: {keep_daily: -1}}", "backups[0].retention.keep_daily"),
    ("{name: d, sources: [/a], target: /t, retention: {keep_within: 3w}}", "backups[0].retention.keep_within"),
    ("{name: d, sources: [/a], target: /t, schedule: 'every day'}", "backups[0].schedule"),
    ("{name: d, sources: [/a]}", "backups[0].target"),
    ("{name: d, sources: [/a], target: /t, colour: red}", "backups[0].colour"),
    ("{name: d, sources: [/a], target: /t, storage_class: GLACIER}", "backups[0].storage_class"),
    ("{name: d, sources: [/a], target: 's3://b/p', storage_class: FROZEN}", "backups[0].storage_class"),
    ("{name: d, sources: [/a], target: 's3://b/p', price_per_gb_month: cheap}", "backups[0].price_per_gb_month"),
])
def test_bad_policy_names_its_key(bad: str, key: str) -> None:
    from labvault.tiers.load import parse_lab

    with pytest.raises(ConfigError) as info:
        parse_lab(f"tiers: {{hot: {{path: /x}}}}\nbackups:\n  - {bad}\n")
    assert f": {key}: " in info.value.line() and "\n" not in info.value.line()


def test_s3_target_run_restore_check(tmp_path: Path, s3_server: S3Server) -> None:  # noqa: F811
    bucket = s3_server.make_bucket("bk")
    src = make_source(tmp_path)
    engine = OwnEngine(f"s3://{bucket}/backups", s3_server.options, cache_dir=tmp_path / "cache", jobs=2)
    r = engine.run("daily", [str(src)])
    again = engine.run("daily", [str(src)])
    assert again.objects_added == 0 and again.hashed_files == 0
    keys = s3_server.keys(bucket, "backups/")
    assert sum(1 for k in keys if k.startswith("backups/snapshots/")) == 2
    assert not any(k.startswith("backups/locks/") for k in keys)  # released
    out = tmp_path / "out"
    engine.restore(r.snapshot or "", str(out), verify=True)
    assert tree(out / "data") == tree(src)
    assert engine.check(read_data=True).ok
    md5 = hashlib.md5((src / "private").read_bytes()).hexdigest()
    s3_server.write(bucket, f"backups/files/md5/{md5[:2]}/{md5[2:]}", b"SECRET")  # same size, other bytes
    bad = engine.check(read_data=True).bad
    assert [(b.md5, b.problem) for b in bad] == [(md5, "corrupt")]
    assert {u[1] for u in bad[0].used_by} == {"data/private"}
    engine.close()


def test_a_file_deleted_during_the_run_is_left_out(tmp_path: Path, engine: OwnEngine,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A source file that vanishes between the walk and the read is reported, not fatal."""
    from labvault.backup import run as run_mod

    src = make_source(tmp_path)
    real = run_mod.walk_sources

    def walk_then_delete(sources: list[str]) -> run_mod.Walked:
        walked = real(sources)
        (src / "private").unlink()
        return walked

    monkeypatch.setattr(run_mod, "walk_sources", walk_then_delete)
    r = engine.run("daily", [str(src)])
    assert r.files == 6 and any("private: vanished" in s for s in r.skipped)
    assert engine.check(read_data=True).ok
    out = tmp_path / "out"
    engine.restore(r.snapshot or "", str(out), verify=True)
    assert tree(out / "data") == tree(src)
