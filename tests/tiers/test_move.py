"""promote / demote and the mover, on SQLite and PostgreSQL, checked against the files themselves:
an md5 manifest of the unit before and after, the journal rows, the placements, the old path.

The warm tier is a small tmpfs where it matters, so moves cross file systems and can run out of
space."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from labvault import api
from labvault.catalog import store
from labvault.catalog.lab_schema import lab_placements
from labvault.errors import LabvaultError, UsageError
from labvault.progress import NULL_PROGRESS
from labvault.tiers import finish, journal
from labvault.tiers.copy import copy_unit, hash_copy
from labvault.tiers.move import MoveRequest, execute_moves
from labvault.tiers.recover import recover_moves
from labvault.tiers.units import find_units
from tests.conftest import Runner
from tests.tiers.tmpfs import tmpfs

OLD = 1_700_000_000  # older than the scan's racy window


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (OLD, OLD))


def _dataset(root: Path, nfiles: int = 40, big: int = 300_000) -> Path:
    unit = root / "nvme0/datasets/imagenet_v2_train"
    for i in range(nfiles):
        _write(unit / f"part{i % 3}/f{i:03d}.txt", f"{i}:".encode() * (i + 1))
    _write(unit / "big.bin", os.urandom(big))
    os.chmod(unit / "part0/f000.txt", 0o600)
    return unit


def manifest(base: Path) -> dict[str, tuple[str, int, int]]:
    """relpath -> (md5, mode, mtime) of every file under ``base`` (following a link at ``base``)."""
    out = {}
    real = Path(os.path.realpath(base))
    for dirpath, _dirs, files in os.walk(real):
        for name in files:
            p = Path(dirpath) / name
            st = p.stat()
            out[p.relative_to(real).as_posix()] = (hashlib.md5(p.read_bytes()).hexdigest(), st.st_mode, int(st.st_mtime))
    return out


def _edit_config(lab_env: Path, old: str, new: str) -> None:
    cfg = lab_env / "labvault" / "lab.yaml"
    text = cfg.read_text()
    assert old in text
    cfg.write_text(text.replace(old, new))


def _rows(cat: store.Catalog) -> list[journal.MoveRow]:
    return journal.move_rows(cat)


def _leftovers(root: Path) -> list[str]:
    return [os.path.join(d, n) for d, dirs, files in os.walk(root) for n in dirs + files if n.endswith(".lvtmp")]


def test_demote_across_devices_then_promote_back(lab_root: Path, lab_env: Path, catalog_url: str) -> None:
    with tmpfs(lab_root / "ssd0", "16m", ("datasets", "models", "checkpoints")):
        unit = _dataset(lab_root)
        before = manifest(unit)
        api.lab_scan(catalog_url=catalog_url)
        assert os.stat(lab_root / "ssd0").st_dev != os.stat(lab_root / "nvme0").st_dev
        report = api.demote("imagenet@v2", to="warm", catalog_url=catalog_url)
        new = lab_root / "ssd0/datasets/imagenet_v2_train"
        [o] = report.outcomes
        assert (o.status, o.src_tier, o.dst_tier, o.dst_location, o.bytes) == (
            "moved", "hot", "warm", str(new), sum(os.path.getsize(new / p) for p in before))
        assert manifest(new) == before  # bytes, mode and mtime kept
        assert os.path.islink(unit) and os.readlink(unit) == str(new) and manifest(unit) == before
        [u] = api.where(str(unit), catalog_url=catalog_url).units  # the old path forwards
        assert [(p.tier, p.location, p.state) for p in u.placements] == [("warm", str(new), "verified")]
        assert api.where(str(new / "part1"), catalog_url=catalog_url).units[0].id == u.id
        cat = store.open_catalog(catalog_url)
        assert [r.state for r in _rows(cat)] == ["done"]
        again = api.lab_scan(catalog_url=catalog_url)  # the new placement's stat cache was written
        assert (again.hashed_files, again.new_units, again.missing_placements) == (0, 0, 0)
        assert api.demote("imagenet", to="warm", catalog_url=catalog_url).outcomes[0].status == "skipped"

        back = api.promote("imagenet", catalog_url=catalog_url)
        assert back.outcomes[0].status == "moved" and not os.path.islink(unit) and manifest(unit) == before
        assert os.readlink(new) == str(unit)
        [u] = find_units(cat, "imagenet", "v2")
        assert [(p.tier, p.state) for p in u.placements] == [("hot", "verified")]
        assert u.last_access is not None  # a promotion is an access
        assert _leftovers(lab_root) == []


def test_full_tier_stops_with_one_line_nothing_moved(lab_root: Path, lab_env: Path, catalog_url: str,
                                                    lv: Runner, env: dict[str, str]) -> None:
    with tmpfs(lab_root / "ssd0", "256k", ("datasets",)):
        unit = _dataset(lab_root, big=400_000)
        before = manifest(unit)
        api.lab_scan(catalog_url=catalog_url)
        store.forget(catalog_url)
        env.update(XDG_CONFIG_HOME=str(lab_env), LABVAULT_CATALOG_URL=catalog_url)
        proc = lv("demote", "imagenet@v2", "--to", "warm", check=False)
        assert proc.returncode == 6 and proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: disk full:"), proc.stderr
        assert manifest(unit) == before and not os.path.islink(unit)
        assert os.listdir(lab_root / "ssd0/datasets") == []
        cat = store.open_catalog(catalog_url)
        [row] = _rows(cat)
        assert row.state == "failed" and row.error is not None and "disk full" in row.error
        [u] = find_units(cat, "imagenet", "v2")
        assert [(p.tier, p.state) for p in u.placements] == [("hot", "present")]


def test_enospc_during_copy_removes_the_partial_copy(lab_root: Path, lab_env: Path, catalog_url: str) -> None:
    with tmpfs(lab_root / "ssd0", "512k", ("datasets",)):
        unit = _dataset(lab_root, big=10_000)
        api.lab_scan(catalog_url=catalog_url)
        # grown after the scan: the free-space check passes on the catalog's size, the copy runs out
        with open(unit / "big.bin", "ab") as f:
            f.write(os.urandom(1_000_000))
        before = manifest(unit)
        with pytest.raises(LabvaultError, match="disk full while copying dataset imagenet@v2 \\(train\\) to tier warm") as err:
            api.demote("imagenet", to="warm", catalog_url=catalog_url)
        assert err.value.exit_code == 6
        assert manifest(unit) == before and os.listdir(lab_root / "ssd0/datasets") == []
        assert [r.state for r in _rows(store.open_catalog(catalog_url))] == ["failed"]


def test_a_copy_that_does_not_hash_to_the_catalog_is_refused(lab_root: Path, lab_env: Path, catalog_url: str) -> None:
    unit = _dataset(lab_root)
    api.lab_scan(catalog_url=catalog_url)
    victim = unit / "part1/f001.txt"
    data = bytearray(victim.read_bytes())
    data[0] ^= 1
    _write(victim, bytes(data))  # same size and mtime: only the bytes tell
    before = manifest(unit)
    with pytest.raises(LabvaultError, match=r"does not match its content hash .* source kept") as err:
        api.demote("imagenet", to="cold", catalog_url=catalog_url)
    assert err.value.exit_code == 6
    assert manifest(unit) == before and not (lab_root / "hdd0/archive/imagenet_v2_train").exists()
    assert _leftovers(lab_root) == []
    [row] = _rows(store.open_catalog(catalog_url))
    assert row.state == "failed" and "content hash" in (row.error or "")


def test_without_symlink_the_old_path_goes(lab_root: Path, lab_env: Path, catalog_url: str) -> None:
    _edit_config(lab_env, "symlink_old_path: true", "symlink_old_path: false")
    unit = _dataset(lab_root)
    _write(lab_root / "nvme0/datasets/single.bin", b"one file unit")
    before = manifest(unit)
    api.lab_scan(catalog_url=catalog_url)
    api.demote("imagenet", to="warm", catalog_url=catalog_url)
    api.demote("single.bin", to="cold", catalog_url=catalog_url)
    assert not os.path.lexists(unit) and not os.path.lexists(lab_root / "nvme0/datasets/single.bin")
    assert manifest(lab_root / "ssd0/datasets/imagenet_v2_train") == before
    assert (lab_root / "hdd0/archive/single.bin").read_bytes() == b"one file unit"
    assert _leftovers(lab_root) == []


def test_min_copies_keeps_the_source(lab_root: Path, lab_env: Path, catalog_url: str) -> None:
    _edit_config(lab_env, "min_copies: 1", "min_copies: 2")
    unit = _dataset(lab_root)
    before = manifest(unit)
    api.lab_scan(catalog_url=catalog_url)
    report = api.demote("imagenet", to="warm", catalog_url=catalog_url)
    assert report.outcomes[0].status == "copied" and "min_copies is 2" in report.outcomes[0].detail
    assert manifest(unit) == before and not os.path.islink(unit)
    assert manifest(lab_root / "ssd0/datasets/imagenet_v2_train") == before
    [u] = find_units(store.open_catalog(catalog_url), "imagenet")
    assert sorted((p.tier, p.state) for p in u.placements) == [("hot", "present"), ("warm", "verified")]
    # the nearest copy moves on; deleting it would again leave one verified copy only
    again = api.demote("imagenet", to="cold", catalog_url=catalog_url)
    assert (again.outcomes[0].status, again.outcomes[0].src_tier) == ("copied", "warm")
    [u] = find_units(store.open_catalog(catalog_url), "imagenet")
    assert sorted((p.tier, p.state) for p in u.placements) == [
        ("cold", "verified"), ("hot", "present"), ("warm", "verified")]


def test_dry_run_and_refusals(lab_root: Path, lab_env: Path, catalog_url: str) -> None:
    unit = _dataset(lab_root)
    _write(lab_root / "nvme0/datasets/coco_v1_val.zip", b"v1")
    _write(lab_root / "nvme0/datasets/coco_v2_val.zip", b"v2")
    before = manifest(lab_root)
    api.lab_scan(catalog_url=catalog_url)
    dry = api.demote("imagenet", to="cold", catalog_url=catalog_url, dry_run=True)
    assert dry.dry_run and [o.status for o in dry.outcomes] == ["would move"]
    assert dry.outcomes[0].dst_location == str(lab_root / "hdd0/archive/imagenet_v2_train")
    assert manifest(lab_root) == before and _rows(store.open_catalog(catalog_url)) == []
    with pytest.raises(UsageError, match="coco has versions v1, v2: name one"):
        api.demote("coco", to="cold", catalog_url=catalog_url)
    with pytest.raises(UsageError, match="is on hot, not colder than cold: use `labvault demote`"):
        api.promote("imagenet", to="cold", catalog_url=catalog_url)
    assert api.demote("imagenet", to="hot", catalog_url=catalog_url).outcomes[0].detail == "already on hot"
    assert os.path.isdir(unit) and not os.path.islink(unit)


def _interrupted(cat: store.Catalog, lab_root: Path, state: str) -> tuple[int, Path, Path]:
    """A move of the dataset stopped right after reaching ``state`` (done here step by step)."""
    lab = api.lab_config()
    [u] = find_units(cat, "imagenet")
    src = lab_root / "nvme0/datasets/imagenet_v2_train"
    dst = lab_root / "ssd0/datasets/imagenet_v2_train"
    mid = journal.plan_move(cat, u.id, "hot", str(src), "warm", str(dst), "test", u.size)
    temp = finish.temp_path(str(dst), mid)
    copy_unit(str(src), temp, lambda n: None)
    if state == "planned":
        os.unlink(os.path.join(temp, "big.bin"))  # a partial copy
        return mid, src, dst
    journal.advance(cat, mid, "copied")
    if state == "copied":
        return mid, src, dst
    _got, stats = hash_copy(temp)
    journal.advance(cat, mid, "verified")
    if state == "verified":
        return mid, src, dst
    finish.switch(cat, lab, mid, u.id, str(src), "warm", str(dst), stats)
    return mid, src, dst


@pytest.mark.parametrize("state", ["planned", "copied", "verified", "switched"])
def test_recovery_rolls_back_before_the_switch_and_finishes_after(lab_root: Path, lab_env: Path, catalog_url: str,
                                                                  state: str) -> None:
    unit = _dataset(lab_root)
    before = manifest(unit)
    api.lab_scan(catalog_url=catalog_url)
    cat = store.open_catalog(catalog_url)
    _mid, src, dst = _interrupted(cat, lab_root, state)
    lines = recover_moves(cat, api.lab_config())
    assert len(lines) == 1
    [row] = _rows(cat)
    [u] = find_units(cat, "imagenet")
    if state == "switched":
        assert row.state == "done" and os.path.islink(src) and manifest(dst) == before
        assert [(p.tier, p.state) for p in u.placements] == [("warm", "verified")]
    else:
        assert row.state == "rolled_back" and not os.path.lexists(dst) and manifest(src) == before
        assert [(p.tier, p.state) for p in u.placements] == [("hot", "present")]
    assert _leftovers(lab_root) == []
    # a rerun converges on the same end state
    report = execute_moves(cat, api.lab_config(), [MoveRequest(u.id, u.placements[0].location, "warm")], NULL_PROGRESS)
    assert report.outcomes[0].status == ("skipped" if state == "switched" else "moved")
    assert manifest(src) == before and manifest(dst) == before and os.path.islink(src)


def test_switched_move_whose_copy_vanished_keeps_the_source(lab_root: Path, lab_env: Path, catalog_url: str) -> None:
    unit = _dataset(lab_root)
    before = manifest(unit)
    api.lab_scan(catalog_url=catalog_url)
    cat = store.open_catalog(catalog_url)
    _mid, src, dst = _interrupted(cat, lab_root, "switched")
    for p in _leftovers(lab_root):
        os.rename(p, str(dst) + "-elsewhere")  # someone took the copy away
    recover_moves(cat, api.lab_config())
    assert manifest(src) == before and not os.path.islink(src)
    [row] = _rows(cat)
    assert row.state == "failed"
    with cat.read() as conn:
        states = conn.execute(sa.select(lab_placements.c.tier, lab_placements.c.state)).all()
    assert [tuple(s) for s in states] == [("hot", "present")]


def test_cli_promote_demote(lab_root: Path, lab_env: Path, catalog_url: str, lv: Runner, env: dict[str, str]) -> None:
    unit = _dataset(lab_root)
    api.lab_scan(catalog_url=catalog_url)
    store.forget(catalog_url)
    env.update(XDG_CONFIG_HOME=str(lab_env), LABVAULT_CATALOG_URL=catalog_url)
    dry = lv("demote", "imagenet@v2", "--to", "cold", "--dry-run").stdout
    assert dry.startswith("would move dataset imagenet@v2 (train) hot -> cold") and not os.path.islink(unit)
    out = json.loads(lv("demote", "imagenet@v2", "--to", "cold", "--json").stdout)
    assert [o["status"] for o in out["outcomes"]] == ["moved"] and os.path.islink(unit)
    where = json.loads(lv("where", str(unit), "--json").stdout)
    assert where[0]["placements"][0]["tier"] == "cold"
    text = lv("promote", "imagenet", "--to", "warm").stdout
    assert text.startswith("moved dataset imagenet@v2 (train) cold -> warm")
    bad = lv("promote", "nothing", check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error: no lab unit named nothing") and not bad.stdout
    wrong = lv("demote", "imagenet", "--to", "lukewarm", check=False)
    assert wrong.returncode == 2 and "no tier named 'lukewarm'" in wrong.stderr


def test_a_scan_beside_a_move_leaves_the_retiring_source_alone(lab_root: Path, lab_env: Path,
                                                              catalog_url: str) -> None:
    unit = _dataset(lab_root)
    before = manifest(unit)
    api.lab_scan(catalog_url=catalog_url)
    cat = store.open_catalog(catalog_url)
    _mid, src, dst = _interrupted(cat, lab_root, "switched")  # source `deleting`, copy at its temp name
    api.lab_scan(catalog_url=catalog_url)
    [u] = find_units(cat, "imagenet")
    assert sorted((p.tier, p.state) for p in u.placements) == [("hot", "deleting"), ("warm", "verified")]
    recover_moves(cat, api.lab_config())
    api.lab_scan(catalog_url=catalog_url)  # the link at the old path is not a unit; nothing goes missing
    [u] = find_units(cat, "imagenet")
    assert [(p.tier, p.state) for p in u.placements] == [("warm", "verified")]
    assert os.path.islink(src) and manifest(dst) == before
