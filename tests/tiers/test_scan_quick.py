"""The scan's quick check (``trust_folders``, what ``lifecycle plan`` runs) against hashing every file
the plain way: after random adds, deletes, renames, replacements through a temp name, new and
removed sub-folders and units, the catalog holds exactly the content of every unit on disk; and the
limit it documents: a file rewritten in place is seen by the full scan only."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault.catalog.lab_schema import lab_placements, lab_units
from labvault.catalog.store import Catalog
from labvault.tiers.lab import LabConfig, Promotion, Tier
from labvault.tiers.scan import scan_lab
from labvault.tiers.units import LIVE_STATES

PAST = 1_700_000_000


def _lab(root: Path) -> LabConfig:
    return LabConfig(source=None, tiers=(Tier("hot", path=root),), rules=(), promotion=Promotion(reads=0))


def _oid(folder: Path) -> tuple[str, int, int]:
    """DVC's ``.dir`` oid of ``folder`` (md5 of the sorted JSON manifest), its bytes and files."""
    entries, size = [], 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            p = Path(dirpath) / name
            data = p.read_bytes()
            size += len(data)
            entries.append({"md5": hashlib.md5(data).hexdigest(), "relpath": p.relative_to(folder).as_posix()})
    entries.sort(key=lambda e: e["relpath"])
    return hashlib.md5(json.dumps(entries, sort_keys=True).encode()).hexdigest() + ".dir", size, len(entries)


def _catalog_view(cat: Catalog, under: Path | None = None) -> dict[str, tuple[str, int, int]]:
    p, u = lab_placements, lab_units
    q = (sa.select(p.c.location, u.c.content_hash, u.c.size, u.c.nfiles)
         .select_from(p.join(u, u.c.id == p.c.unit_id)).where(p.c.state.in_(LIVE_STATES)))
    if under is not None:
        q = q.where(p.c.location.startswith(f"{under}/"))
    with cat.read() as conn:
        return {r[0]: (r[1], int(r[2]), int(r[3])) for r in conn.execute(q)}


def _disk_view(area: Path) -> dict[str, tuple[str, int, int]]:
    return {str(d): _oid(d) for d in sorted(area.iterdir()) if d.is_dir()}


def _age(root: Path, stamp: int) -> None:
    """What time passing does: everything written in this round gets one past mtime, unique to the
    round (folders untouched keep theirs), so that nothing is within the scan's racy window."""
    recent = time.time() - 120
    for dirpath, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            p = os.path.join(dirpath, name)
            if os.lstat(p).st_mtime > recent:
                os.utime(p, (stamp, stamp))
    if os.lstat(root).st_mtime > recent:
        os.utime(root, (stamp, stamp))


def _files(unit: Path) -> list[Path]:
    return sorted(p for p in unit.rglob("*") if p.is_file())


def _new_name(folder: Path, stem: str) -> Path:
    """``folder/stem.bin``, or ``folder/stem-N.bin`` with the first N not taken."""
    path, n = folder / f"{stem}.bin", 0
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.bin"
    return path


def _apply(area: Path, op: tuple[str, int, int, bytes]) -> None:
    kind, u, k, data = op
    units = sorted(d for d in area.iterdir() if d.is_dir())
    if kind == "new_unit" or not units:
        unit = area / f"u{len(units)}_{k}"
        if not unit.exists():
            unit.mkdir()
            (unit / "first.bin").write_bytes(data)
        return
    unit = units[u % len(units)]
    files = _files(unit)
    victim = files[k % len(files)]
    if kind == "add":  # a new file: an existing name would be a rewrite in place (the documented limit)
        _new_name(unit, f"f{k}").write_bytes(data)
    elif kind == "add_sub":
        sub = unit / f"sub{k % 3}"
        sub.mkdir(exist_ok=True)
        _new_name(sub, f"g{k}").write_bytes(data)
    elif kind == "delete" and len(files) > 1:
        victim.unlink()
    elif kind == "rename":
        victim.rename(victim.with_name(f"r{k}_{victim.name}"))
    elif kind == "replace":  # a write through a temp name and a rename, as most tools write
        tmp = victim.with_name(victim.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, victim)
    elif kind == "rm_sub":
        subs = [d for d in unit.iterdir() if d.is_dir()]
        if subs and len(files) > len(_files(subs[0])):
            shutil.rmtree(subs[0])
    elif kind == "rm_unit" and len(units) > 1:
        shutil.rmtree(unit)


ops = st.tuples(st.sampled_from(["new_unit", "add", "add_sub", "delete", "rename", "replace", "rm_sub", "rm_unit"]),
                st.integers(0, 9), st.integers(0, 50), st.binary(min_size=0, max_size=40))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=st.lists(st.lists(ops, max_size=4), min_size=1, max_size=5))
def test_quick_scan_matches_hashing_everything(cat: Catalog, rounds: list[list[tuple[str, int, int, bytes]]]) -> None:
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "hot"
            area = root / "datasets"
            area.mkdir(parents=True)
            lab = _lab(root)
            for n in range(3):
                _apply(area, ("new_unit", 0, n, bytes([n]) * 10))
            _age(root, PAST)
            scan_lab(cat, lab)
            for i, batch in enumerate(rounds, start=1):
                for op in batch:
                    _apply(area, op)
                _age(root, PAST + i)
                result = scan_lab(cat, lab, trust_folders=True)
                assert _catalog_view(cat, area) == _disk_view(area), f"after round {i}: {batch}"
                assert result.skipped == ()
            again = scan_lab(cat, lab, trust_folders=True)  # nothing changed: no file listed nor hashed
            assert again.hashed_files == 0 and again.units == len(_disk_view(area))
    finally:
        with cat.engine.begin() as conn:  # the next example starts from an empty lab
            conn.execute(sa.delete(lab_placements))
            conn.execute(sa.delete(lab_units))


def test_a_file_rewritten_in_place_is_seen_by_the_full_scan_only(tmp_path: Path, cat: Catalog) -> None:
    root = tmp_path / "hot"
    unit = root / "datasets" / "set1"
    (unit / "sub").mkdir(parents=True)
    (unit / "a.bin").write_bytes(b"a" * 100)
    (unit / "sub" / "b.bin").write_bytes(b"b" * 100)
    _age(root, PAST)
    lab = _lab(root)
    first = scan_lab(cat, lab)
    assert first.hashed_files == 2
    with open(unit / "sub" / "b.bin", "r+b") as f:  # in place: the folder's mtime does not move
        f.write(b"B")
    os.utime(unit / "sub" / "b.bin", (PAST + 5, PAST + 5))
    quick = scan_lab(cat, lab, trust_folders=True)
    assert (quick.hashed_files, quick.cached_files) == (0, 2)
    assert _catalog_view(cat)[str(unit)] != _oid(unit)  # the documented limit of the quick check
    full = scan_lab(cat, lab)
    assert (full.hashed_files, full.changed_units) == (1, 1)
    assert _catalog_view(cat)[str(unit)] == _oid(unit)
    (unit / "sub" / "c.bin").write_bytes(b"c")  # a new file moves its folder's mtime: the quick check sees it
    _age(root, PAST + 10)
    assert scan_lab(cat, lab, trust_folders=True).hashed_files == 1
    assert _catalog_view(cat)[str(unit)] == _oid(unit)
