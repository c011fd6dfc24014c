"""``lifecycle plan`` on W2's files on disk, against the guide's ``rglob``-and-stat scan.

Workload: W2's files (50,000 random files of 1..8 KiB) regrouped ten at a time into 5,000 unit
folders under ``datasets/``, alternately on the hot (``nvme0``) and warm (``ssd0``) tiers, each
unit's files given one age (atime = mtime, uniform over 0..60 days). ``lab scan`` registers them
(untimed, hashing everything once) and their last access is set to that age (a recorded history).

Timed, each a fresh process under GNU time (wall, CPU, peak RSS), page cache warm:
  * the guide's scan (``bench/guide_scan.py``): walk, stat, compare atime, build the list;
  * ``labvault lifecycle plan --json``: its scan of the tiers (the quick check of folder units), then
    the plan; floor: at least 5x faster than the guide's scan.
In-process figures beside them (the guide's function; ``api.lifecycle_plan``, scan included)
leave the interpreter's start and imports out. Checked: the plan's moves x 10 = the guide's old
files; in-process, its scan found every unit and hashed nothing (the tree did not change).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import guide_scan
from checks import OutputWrong
from lifecycle_common import (
    AS_OF,
    BENCH,
    NOW,
    Timed,
    env_for,
    lab_yaml,
    labvault_exe,
    medians,
    repeat,
    timed,
    w2,
)
from workloads import tree_layout

FLOOR_SPEEDUP = 5.0
PER_UNIT = 10


def make_tree(root: Path, pristine: Path, layout: list[str], seed: int = 2) -> dict[str, float]:
    """W2's files, ten per unit folder, on hot and warm; returns unit folder -> age in days."""
    rng = random.Random(seed)
    ages: dict[str, float] = {}
    for u in range(len(layout) // PER_UNIT):
        folder = root / ("nvme0", "ssd0")[u % 2] / "datasets" / f"set{u:06d}"
        folder.mkdir(parents=True)
        age = rng.uniform(0, 60)
        ages[str(folder)] = age
        for i in range(PER_UNIT):
            shutil.copyfile(pristine / layout[u * PER_UNIT + i], folder / f"part{i}.bin")
    set_ages(ages)
    return ages


def set_ages(ages: dict[str, float]) -> None:
    """atime = mtime = the unit's age, files and folder (after a scan read them, too)."""
    for folder, age in ages.items():
        when = (NOW - timedelta(days=age)).timestamp()
        for name in os.listdir(folder):
            os.utime(os.path.join(folder, name), (when, when))
        os.utime(folder, (when, when))


def _setup(files: int, work: Path) -> tuple[Path, Path, Path, dict[str, float]]:
    from labvault import api
    from labvault.catalog import store
    from labvault.catalog.lab_schema import lab_placements, lab_units

    w, pristine = w2(work, files)
    print(f"workload: {w.description}, regrouped as {files // PER_UNIT:,} unit folders of {PER_UNIT} files "
          f"on hot and warm (ages 0..60 days)", flush=True)
    root = work / "mnt"
    shutil.rmtree(root, ignore_errors=True)
    ages = make_tree(root, pristine, tree_layout(w))
    (root / "hdd0" / "datasets").mkdir(parents=True)
    lab = lab_yaml(work / "lab.yaml", {"hot": root / "nvme0", "warm": root / "ssd0", "cold": root / "hdd0"},
                   [("hot", "warm", 7), ("warm", "cold", 30)])
    catalog = work / "tree.sqlite"
    scanned = api.lab_scan(lab, f"sqlite:///{catalog}")
    if scanned.units != len(ages) or scanned.hashed_files != files:
        raise OutputWrong(f"setup scan: {scanned.units:,} units, {scanned.hashed_files:,} files hashed")
    cat = store.open_catalog(f"sqlite:///{catalog}")
    import sqlalchemy as sa

    def set_reads(conn: sa.Connection) -> None:
        rows = conn.execute(sa.select(lab_placements.c.unit_id, lab_placements.c.location)).all()
        conn.execute(sa.update(lab_units).where(lab_units.c.id == sa.bindparam("uid")).values(
            last_access=sa.bindparam("at")), [{"uid": uid, "at": NOW - timedelta(days=ages[loc])} for uid, loc in rows])

    cat.write(set_reads)
    api.lifecycle_plan(lab, f"sqlite:///{catalog}", NOW)  # records the folder rows of the quick check
    set_ages(ages)  # the scans read the files: give them back the atime the guide judges by
    return root, lab, catalog, ages


def on_disk(files: int, repeats: int, work: Path) -> dict[str, Any]:
    from labvault import api

    root, lab, catalog, _ages = _setup(files, work)
    expect = len(guide_scan.old_files(root, NOW))

    def guide_ok(t: Timed) -> None:
        if int(t.output.split()[0]) != expect:
            raise OutputWrong(f"guide's scan printed {t.output.split()[0]}, expected {expect:,}")

    def plan_ok(t: Timed) -> None:
        data = json.loads(t.output[t.output.index("{"):])
        moves = len(data["moves"])
        if moves * PER_UNIT != expect or data["scan_skipped"]:
            raise OutputWrong(f"lifecycle plan on {files:,} files: {moves:,} units to move ({expect:,} old files "
                              f"by the guide's scan), skipped {data['scan_skipped'][:3]}")

    env = env_for(catalog, lab)
    guide = repeat(repeats, lambda: timed([sys.executable, str(BENCH / "guide_scan.py"), str(root), AS_OF]), guide_ok)
    plan = repeat(repeats, lambda: timed([labvault_exe(), "lifecycle", "plan", "--json", "--as-of", AS_OF], env),
                  plan_ok)
    g_in, p_in = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        n = len(guide_scan.old_files(root, NOW))
        g_in.append(time.perf_counter() - t)
        t = time.perf_counter()
        p = api.lifecycle_plan(lab, f"sqlite:///{catalog}", NOW)
        p_in.append(time.perf_counter() - t)
        scan = p.scan
        if n != expect or len(p.moves) * PER_UNIT != expect or scan is None or scan.hashed_files != 0 \
                or scan.units != files // PER_UNIT or scan.missing_placements != 0:
            raise OutputWrong(f"in-process: guide {n:,}, plan {len(p.moves):,} units, expected {expect:,} files; "
                              f"scan {scan}")
    g, p = medians(guide), medians(plan)
    gi, pi = statistics.median(g_in), statistics.median(p_in)
    out = {"files": files, "units": files // PER_UNIT, "old_files": expect, "guide": g, "plan": p,
           "speedup": round(g["seconds"] / p["seconds"], 2), "speedup_cpu": round(g["cpu_seconds"] / p["cpu_seconds"], 2),
           "in_process": {"guide_seconds": round(gi, 4), "plan_seconds": round(pi, 4), "speedup": round(gi / pi, 2)}}
    print(f"on disk, {files:,} files in {files // PER_UNIT:,} units: guide's scan {g['seconds']:.2f} s "
          f"(CPU {g['cpu_seconds']:.2f} s, {g['peak_rss_mib']:.0f} MiB); lifecycle plan {p['seconds']:.2f} s "
          f"(CPU {p['cpu_seconds']:.2f} s, {p['peak_rss_mib']:.0f} MiB): {out['speedup']}x wall, "
          f"{out['speedup_cpu']}x CPU (floor {FLOOR_SPEEDUP:g}x); in-process {gi * 1000:.0f} ms vs "
          f"{pi * 1000:.0f} ms ({out['in_process']['speedup']}x)", flush=True)
    return out
