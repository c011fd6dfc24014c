"""The restic engine with the real ``restic`` (installed by the Makefile): round trips checked by
reading the bytes independently, unchanged runs, restore --verify, forget with explicit ids (and
the verified rule), prune, check and drill against a damaged pack, passwords, restic's locks."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from labvault import api
from labvault.backup.restic_engine import ResticEngine
from labvault.backup.retention import Policy
from labvault.errors import CacheError, ConfigError, LockTimeoutError, RemoteError, UsageError
from tests.backup.test_engine import make_source, tree
from tests.conftest import Runner

RESTIC = shutil.which("restic")
if RESTIC is None and os.environ.get("CI") != "true":
    pytest.skip("restic is not installed (`make setup` installs it)", allow_module_level=True)


def restic_json(repo: Path, pw: Path, *args: str) -> object:
    env = {**os.environ, "RESTIC_REPOSITORY": str(repo), "RESTIC_PASSWORD_FILE": str(pw)}
    out = subprocess.run([RESTIC or "restic", *args, "--json"], env=env, capture_output=True, check=True)
    return json.loads(out.stdout)


@pytest.fixture
def pw(tmp_path: Path) -> Path:
    p = tmp_path / "pw"
    p.write_text("correct horse\n")
    return p


@pytest.fixture
def engine(tmp_path: Path, pw: Path) -> ResticEngine:
    return ResticEngine(str(tmp_path / "repo"), str(pw), policy="daily", cache_dir=tmp_path / "cache")


def test_round_trip_unchanged_run_and_list(tmp_path: Path, engine: ResticEngine, pw: Path) -> None:
    src = make_source(tmp_path)
    first = engine.run("daily", [str(src)], tags=("nightly",))
    assert first.snapshot is not None and (first.files, first.symlinks, first.dirs) == (7, 2, 4)
    assert first.hashed_files == 7 and first.bytes_added > 70_000 and first.skipped == ()
    second = engine.run("daily", [str(src)])
    assert (second.hashed_files, second.cached_files) == (0, 7) and second.bytes_added < 5_000
    out = tmp_path / "out"
    res = engine.restore(first.snapshot, str(out), verify=True)
    assert res.verified and res.files == 7 and res.symlinks == 2
    assert tree(out / "data") == tree(src)
    snaps = engine.list()
    assert [s.id for s in snaps] == [first.snapshot, second.snapshot]
    assert snaps[0].tags == ("nightly",) and snaps[0].policy == "daily" and snaps[0].files == 7
    assert snaps[0].bytes == first.bytes and snaps[0].sources == (str(src),)
    # restic itself sees the two snapshots, their two manifest sidecars, and the record that the
    # whole restore --verify of the first one passed
    raw = restic_json(tmp_path / "repo", pw, "snapshots")
    assert isinstance(raw, list) and len(raw) == 5
    assert sum("labvault-manifest" in (s.get("tags") or []) for s in raw) == 2
    verified = [s for s in raw if "labvault-verified" in (s.get("tags") or [])]
    assert [t for t in verified[0]["tags"] if t.startswith("labvault-for:")] == [f"labvault-for:{first.snapshot}"]


def test_restore_paths_and_unknown_path(tmp_path: Path, engine: ResticEngine) -> None:
    src = make_source(tmp_path)
    sid = engine.run("daily", [str(src)]).snapshot or ""
    out = tmp_path / "out"
    res = engine.restore(sid[:10], str(out), ["data/sub dir"], verify=True)
    assert res.files == 2 and sorted(p.name for p in (out / "data").iterdir()) == ["sub dir"]
    assert (out / "data" / "sub dir" / "b c.bin").read_bytes() == (src / "sub dir" / "b c.bin").read_bytes()
    with pytest.raises(UsageError):
        engine.restore(sid, str(tmp_path / "o2"), ["nope/x"])
    with pytest.raises(UsageError):
        engine.restore(sid, str(tmp_path / "o3"), ["data/not-there"])
    assert [n for n in os.listdir(out) if n.startswith(".labvault")] == []


def test_restore_verify_catches_a_wrong_manifest(tmp_path: Path, engine: ResticEngine) -> None:
    """--verify really compares: a file edited in place without its size or mtime changing after
    hashing is impossible to make restic store differently, so damage the restored copy instead."""
    from labvault.backup import restic_repo as repo
    from labvault.backup import restic_restore as rr

    src = make_source(tmp_path)
    sid = engine.run("daily", [str(src)]).snapshot or ""
    snap = repo.resolve(engine.restic, repo.listing(engine.restic), sid)
    man = repo.need_manifest(engine.restic, snap)
    out = tmp_path / "out"
    engine.restore(sid, str(out))
    (out / "data" / "a.txt").write_bytes(b"alphA\n")
    assert rr.verify_files(str(out), man, []) == ["data/a.txt"]


def test_forget_passes_explicit_ids_and_waits_for_verification(tmp_path: Path, engine: ResticEngine, pw: Path) -> None:
    src = make_source(tmp_path)
    ids = []
    for i in range(4):
        (src / "a.txt").write_bytes(f"version {i}".encode())
        ids.append(engine.run("daily", [str(src)]).snapshot)
    unverified = engine.forget({"daily": Policy(last=2)}, dry_run=True)
    assert unverified.removed == () and all("no newer verified" in i.reasons[0] for i in unverified.items[:2])
    drill = engine.drill(ids[-1], sample=3, seed=1)
    assert drill.ok and drill.sampled == 3
    plan = engine.forget({"daily": Policy(last=2)}, dry_run=True)
    assert set(plan.removed) == set(ids[:2])
    engine.forget({"daily": Policy(last=2)})
    assert [s.id for s in engine.list()] == ids[2:]
    raw = restic_json(tmp_path / "repo", pw, "snapshots")
    assert isinstance(raw, list)
    left = {t for s in raw for t in (s.get("tags") or []) if t.startswith("labvault-for:")}
    assert left == {f"labvault-for:{i}" for i in ids[2:]}  # manifests of forgotten ones went with them
    dry = engine.prune(dry_run=True)
    assert dry.dry_run and dry.unreferenced > 0 and dry.deleted == 0
    pruned = engine.prune()
    assert pruned.deleted == dry.unreferenced and pruned.snapshots == 2
    assert engine.check(read_data=True).ok
    for sid in ids[2:]:
        out = tmp_path / f"out-{sid}"
        engine.restore(sid or "", str(out), verify=True)
    assert (tmp_path / f"out-{ids[3]}" / "data" / "a.txt").read_bytes() == b"version 3"


def _damage_biggest_pack(repo: Path) -> None:
    pack = max((p for p in (repo / "data").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    pack.chmod(0o644)
    data = bytearray(pack.read_bytes())
    data[len(data) // 3] ^= 0xFF
    pack.write_bytes(bytes(data))


def test_corrupt_pack_found_by_check_read_data_and_drill(tmp_path: Path, engine: ResticEngine) -> None:
    src = make_source(tmp_path)
    (src / "big.bin").write_bytes(os.urandom(300_000))
    sid = engine.run("daily", [str(src)]).snapshot
    assert engine.check(read_data=True).ok
    _damage_biggest_pack(tmp_path / "repo")
    assert engine.check().ok  # structure only: the pack is still there
    deep = engine.check(read_data=True)
    assert not deep.ok and deep.bad
    drill = engine.drill(sample=50)
    assert not drill.ok and any("big.bin" in f for f in drill.failed)
    with pytest.raises(CacheError):
        engine.restore(sid or "", str(tmp_path / "out"), verify=True)
    assert not (tmp_path / "out" / "data").exists()  # nothing half-restored was moved into place


def test_password_errors_are_one_line(tmp_path: Path, engine: ResticEngine) -> None:
    src = make_source(tmp_path)
    engine.run("daily", [str(src)])
    wrong = tmp_path / "wrong"
    wrong.write_text("nope\n")
    with pytest.raises(RemoteError, match="refused the password"):
        ResticEngine(str(tmp_path / "repo"), str(wrong)).list()
    cmd = ResticEngine(str(tmp_path / "repo"), password_command=f"cat {tmp_path / 'pw'}")
    assert len(cmd.list()) == 1
    with pytest.raises(ConfigError, match="no restic password"):
        ResticEngine(str(tmp_path / "repo"))
    with pytest.raises(RemoteError, match="no restic repository"):
        ResticEngine(str(tmp_path / "elsewhere"), str(tmp_path / "pw")).list()


def _hold_lock(tmp_path: Path, pw: Path) -> subprocess.Popen[bytes]:
    """A ``restic backup --stdin`` that holds its (non-exclusive) lock until its stdin closes.

    The lock counts once its file has its final name (64 hex digits): restic writes it as
    ``ID-tmp-N`` first and renames it, and a restic killed before the rename leaves only that
    temporary file, which no restic reads as a lock."""
    env = {**os.environ, "RESTIC_REPOSITORY": str(tmp_path / "repo"), "RESTIC_PASSWORD_FILE": str(pw)}
    proc = subprocess.Popen([RESTIC or "restic", "backup", "--stdin", "--stdin-filename", "x"], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not any(re.fullmatch(r"[0-9a-f]{64}", p.name) for p in (tmp_path / "repo" / "locks").iterdir()):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    return proc


def test_a_locked_repository_is_waited_for(tmp_path: Path, engine: ResticEngine, pw: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    engine.run("daily", [str(make_source(tmp_path))])
    proc = _hold_lock(tmp_path, pw)
    try:
        monkeypatch.setenv("LABVAULT_LOCK_TIMEOUT", "3")
        t0 = time.monotonic()
        with pytest.raises(LockTimeoutError, match="stayed locked"):
            engine.prune()
        assert time.monotonic() - t0 >= 3
        monkeypatch.setenv("LABVAULT_LOCK_TIMEOUT", "120")
        closer = threading.Timer(3.0, lambda: proc.stdin.close() if proc.stdin else None)
        closer.start()
        assert engine.prune().snapshots == 1  # waits for the other restic, then runs
        closer.join()
    finally:
        if proc.stdin and not proc.stdin.closed:
            proc.stdin.close()
        proc.wait(30)


def test_a_killed_owner_not_yet_reaped_is_unlocked_once_reaped(tmp_path: Path, engine: ResticEngine, pw: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A SIGKILLed restic stays a zombie, "alive" to restic's stale-lock test, until its parent reaps
    it (for an orphan: init, when it gets to it). The wait asks ``unlock`` again on each try, so the
    lock goes as soon as the owner is reaped, not after LABVAULT_LOCK_TIMEOUT."""
    engine.run("daily", [str(make_source(tmp_path))])
    proc = _hold_lock(tmp_path, pw)
    proc.kill()  # not waited for: a zombie until the timer reaps it
    reaper = threading.Timer(3.0, proc.wait)
    reaper.start()
    try:
        monkeypatch.setenv("LABVAULT_LOCK_TIMEOUT", "60")
        t0 = time.monotonic()
        assert engine.prune().snapshots == 1
        assert time.monotonic() - t0 < 30
        assert not any((tmp_path / "repo" / "locks").iterdir())
    finally:
        reaper.join()
        if proc.stdin:
            proc.stdin.close()


def test_lab_config_api_and_drill_recorded(tmp_path: Path, pw: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_source(tmp_path)
    lab = tmp_path / "lab.yaml"
    lab.write_text(f"""
tiers: {{hot: {{path: {tmp_path}}}}}
backups:
  - name: daily
    sources: [{src}]
    target: restic:{tmp_path / 'repo'}
    password_file: {pw}
    retention: {{keep_last: 1}}
""")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    catalog = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    api.backup_run(lab=lab)
    (src / "a.txt").write_text("changed")
    api.backup_run(lab=lab)
    snaps = api.backup_list(lab=lab)
    assert len(snaps) == 2 and snaps[0].target == f"restic:{tmp_path / 'repo'}"
    drill = api.backup_drill(lab=lab, catalog_url=catalog, seed=3)
    assert drill.ok and drill.recorded and drill.snapshot == snaps[-1].id
    from labvault.catalog.backup_log import drills
    from labvault.catalog.store import open_catalog

    assert [(r.policy, r.snapshot, r.ok) for r in drills(open_catalog(catalog))] == [("daily", snaps[-1].id, True)]
    assert api.backup_forget(lab=lab)[0].removed == (snaps[0].id,)
    assert api.backup_prune(lab=lab)[0].deleted > 0
    res = api.backup_restore("latest", tmp_path / "out", verify=True, lab=lab)
    assert res.verified and (tmp_path / "out" / "data" / "a.txt").read_text() == "changed"


@pytest.mark.parametrize("policy, problem", [
    ("{name: d, sources: [/x], target: 'restic:'}", "names no repository"),
    ("{name: d, sources: [/x], target: 'restic:/r'}", "needs exactly one of password_file"),
    ("{name: d, sources: [/x], target: /t, password_file: /p}", "only a restic: target takes a password"),
    ("{name: d, catalog: true, target: 'restic:/r', password_file: /p}", "not restic:"),
])
def test_lab_config_refuses_bad_restic_policies(tmp_path: Path, policy: str, problem: str) -> None:
    from labvault.tiers.load import parse_lab

    with pytest.raises(ConfigError, match=problem):
        parse_lab(f"tiers: {{hot: {{path: {tmp_path}}}}}\nbackups:\n  - {policy}\n")


def test_cli_with_a_restic_target(tmp_path: Path, pw: Path, lv: Runner, env: dict[str, str]) -> None:
    src = make_source(tmp_path)
    lab = tmp_path / "lab.yaml"
    lab.write_text(f"""
tiers: {{hot: {{path: {tmp_path}}}}}
catalog_url: sqlite:///{tmp_path / 'catalog.sqlite'}
backups:
  - {{name: offsite, sources: [{src}], target: 'restic:{tmp_path / 'repo'}', password_file: {pw}}}
""")
    env["LABVAULT_LAB"] = str(lab)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env.pop("LABVAULT_CATALOG_URL", None)
    run = json.loads(lv("backup", "run", "--json").stdout)[0]
    assert run["target"] == f"restic:{tmp_path / 'repo'}" and run["files"] == 7 and run["snapshot"]
    listed = json.loads(lv("backup", "list", "--json").stdout)
    assert [s["id"] for s in listed] == [run["snapshot"]] and listed[0]["policy"] == "offsite"
    restored = json.loads(lv("backup", "restore", run["snapshot"][:12], "--to", str(tmp_path / "out"), "--verify",
                             "--json").stdout)
    assert restored["verified"] and tree(tmp_path / "out" / "data") == tree(src)
    drill = json.loads(lv("backup", "drill", "--json").stdout)
    assert drill["ok"] and drill["recorded"]
    assert json.loads(lv("backup", "check", "--read-data", "--json").stdout)[0]["ok"]
    pw.write_text("not the password\n")
    bad = lv("backup", "list", check=False)
    assert bad.returncode == 8 and bad.stderr.count("\n") == 1 and "refused the password" in bad.stderr
    assert "not the password" not in bad.stderr + bad.stdout
