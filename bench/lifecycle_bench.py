"""Benchmark ``lifecycle plan`` (SQLite catalog).

1. Catalog scale: N objects in N/10 units (default 1,000,000 objects in 100,000 datasets, on the
   hot, warm and cold tiers with random ages and last reads), bulk-inserted straight into
   ``lab_units``/``lab_placements``. ``plan_lifecycle`` is timed in a child process (median of the
   repeats), which also reports its peak RSS (``resource.getrusage``). Floors: 3 s, 400 MiB.
2. On disk: a tree of F files (default 50,000) in F/10 unit folders on the hot and warm tiers, with
   mtimes of random ages, registered by a scan whose last-access times are set to the mtimes. The
   plan (from the catalog) against the guide's ``rglob``-and-stat age scan of the same tiers
   (``DataLifecycleManager.archive_old_data`` without its moves). Floor: 5x faster. The plan with
   its scan (what ``labvault lifecycle plan`` runs) is reported too, without a floor.

Every timed plan is checked: its move count must equal a count worked out here from the generated
rows (and, on disk, the guide's count of old files / 10); a wrong count stops the run (exit 1).

    .venv/bin/python bench/lifecycle_bench.py            # full size; results in bench/results/lifecycle.json
    .venv/bin/python bench/lifecycle_bench.py --quick    # 20,000 objects, 5,000 files; prints only
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

import provenance  # noqa: E402
from checks import OutputWrong, run_checked  # noqa: E402
from labvault.catalog import store  # noqa: E402
from labvault.tiers.lab import LabConfig, Promotion, Rule, Tier  # noqa: E402
from labvault.tiers.plan import plan_lifecycle  # noqa: E402

FLOOR_PLAN_S = 3.0
FLOOR_RSS_MIB = 400.0
FLOOR_SPEEDUP = 5.0
NOW = datetime(2026, 12, 1, 12, 0, 0)
RULES = ((Rule("hot->warm", "hot", "warm", last_access_days=7), 7.0),
         (Rule("warm->cold", "warm", "cold", last_access_days=30), 30.0))


def lab_config(root: Path) -> LabConfig:
    tiers = (Tier("hot", path=root / "nvme0", price_per_gb_month=0.15),
             Tier("warm", path=root / "ssd0", price_per_gb_month=0.035),
             Tier("cold", path=root / "hdd0", price_per_gb_month=0.007))
    return LabConfig(source=None, tiers=tiers, rules=tuple(r for r, _ in RULES), promotion=Promotion(reads=0))


def sql_time(when: datetime | None) -> str | None:
    return when.strftime("%Y-%m-%d %H:%M:%S.%f") if when is not None else None


def build_catalog(url: str, units: int, seed: int = 1) -> int:
    """Insert ``units`` units of 10 objects each; returns the moves the two rules must plan."""
    rng = random.Random(seed)
    limits = {r.from_tier: days for r, days in RULES}
    unit_rows, placement_rows, expected = [], [], 0
    for uid in range(1, units + 1):
        tier = rng.choice(("hot", "warm", "warm", "cold"))
        created = NOW - timedelta(days=rng.uniform(0, 400))
        read = None if rng.random() < 0.3 else created + (NOW - created) * rng.random()
        idle = (NOW - (read or created)).total_seconds() / 86400
        expected += tier in limits and idle >= limits[tier]
        unit_rows.append((uid, "dataset", f"project{uid % 100}/set{uid}", "v1", "", f"{uid:032x}.dir",
                          rng.randrange(1 << 20, 1 << 34), 10, sql_time(created), sql_time(created), sql_time(read),
                          sql_time(NOW)))
        placement_rows.append((uid, uid, tier, f"/lab/{tier}/datasets/set{uid}", "present", sql_time(created)))
    cat = store.open_catalog(url)
    raw = cat.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN IMMEDIATE")
        cur.executemany("INSERT INTO lab_units (id, kind, name, version, part, content_hash, size, nfiles, "
                        "created_at, modified_at, last_access, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        unit_rows)
        cur.executemany("INSERT INTO lab_placements (id, unit_id, tier, location, state, created_at) "
                        "VALUES (?,?,?,?,?,?)", placement_rows)
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
        cur.close()
    finally:
        raw.close()
    return expected


def child(url: str) -> None:
    """Plan once in this (fresh) process; print seconds, moves and peak RSS as JSON."""
    cat = store.open_catalog(url)
    started = time.perf_counter()
    plan = plan_lifecycle(cat, lab_config(Path("/lab")), NOW)
    seconds = time.perf_counter() - started
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "moves": len(plan.moves), "rss_mib": rss_kib / 1024}))


def catalog_scale(objects: int, repeats: int, work: Path) -> dict[str, Any]:
    url = f"sqlite:///{work / 'catalog.sqlite'}"
    t = time.perf_counter()
    expected = build_catalog(url, objects // 10)
    print(f"catalog: {objects:,} objects in {objects // 10:,} units loaded in {time.perf_counter() - t:.1f} s; "
          f"{expected:,} moves expected", flush=True)
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, __file__, "--child", url], capture_output=True, text=True, check=True)
        got = json.loads(out.stdout.strip().splitlines()[-1])
        if got["moves"] != expected:
            raise OutputWrong(f"plan over the catalog: {got['moves']:,} moves, expected {expected:,}")
        runs.append(got)
    seconds = statistics.median(r["seconds"] for r in runs)
    rss = max(r["rss_mib"] for r in runs)
    print(f"plan: {seconds:.2f} s (floor {FLOOR_PLAN_S:g} s), peak RSS {rss:.0f} MiB (floor {FLOOR_RSS_MIB:g} MiB), "
          f"{expected:,} moves", flush=True)
    return {"objects": objects, "units": objects // 10, "moves": expected, "plan_seconds": round(seconds, 3),
            "peak_rss_mib": round(rss, 1), "runs": runs}


def make_tree(root: Path, files: int, seed: int = 2) -> dict[str, float]:
    """F files in F/10 unit folders on hot and warm; returns unit folder -> age in days."""
    rng = random.Random(seed)
    ages: dict[str, float] = {}
    for u in range(files // 10):
        tier = ("nvme0", "ssd0")[u % 2]
        folder = root / tier / "datasets" / f"set{u:06d}"
        folder.mkdir(parents=True)
        age = rng.uniform(0, 60)
        when = (NOW - timedelta(days=age)).timestamp()
        for i in range(10):
            f = folder / f"part{i}.bin"
            f.write_bytes(b"%d %d\n" % (u, i))
            os.utime(f, (when, when))
        ages[str(folder)] = age
    return ages


def guide_scan(root: Path) -> int:
    """The guide's archive_old_data, judging age by mtime with rglob and stat, without moving."""
    now = NOW
    old = 0
    for tier, days in (("nvme0", 7), ("ssd0", 30)):
        for item in (root / tier).rglob("*"):
            if item.is_file():
                age = now - datetime.fromtimestamp(item.stat().st_mtime)
                if age > timedelta(days=days):
                    old += 1
    return old


def on_disk(files: int, repeats: int, work: Path) -> dict[str, Any]:
    import sqlalchemy as sa

    from labvault.api.lab import unit_namer
    from labvault.catalog.lab_schema import lab_placements, lab_units
    from labvault.tiers.scan import scan_lab

    root = work / "mnt"
    ages = make_tree(root, files)
    lab = lab_config(root)
    cat = store.open_catalog(f"sqlite:///{work / 'tree.sqlite'}")
    scan_lab(cat, lab, unit_namer(), None)

    def set_reads(conn: sa.Connection) -> None:  # last access = the files' mtime (a recorded history)
        rows = conn.execute(sa.select(lab_placements.c.unit_id, lab_placements.c.location)).all()
        conn.execute(sa.update(lab_units).where(lab_units.c.id == sa.bindparam("uid")).values(
            last_access=sa.bindparam("at")),
            [{"uid": uid, "at": NOW - timedelta(days=ages[loc])} for uid, loc in rows])

    cat.write(set_reads)
    guide_times, plan_times, full_times = [], [], []
    for _ in range(repeats):
        t = time.perf_counter()
        old = guide_scan(root)
        guide_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        plan = plan_lifecycle(cat, lab, NOW)
        plan_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        scan_lab(cat, lab, unit_namer(), None)
        full = plan_lifecycle(cat, lab, NOW)
        full_times.append(time.perf_counter() - t)
        for who, p in (("plan", plan), ("scan + plan", full)):
            if len(p.moves) * 10 != old:
                raise OutputWrong(f"{who} on {files:,} files: {len(p.moves):,} units to move, the guide's "
                                  f"scan finds {old:,} old files")
    g, p, f = (statistics.median(x) for x in (guide_times, plan_times, full_times))
    print(f"on disk, {files:,} files: guide rglob+stat {g * 1000:.0f} ms; plan {p * 1000:.0f} ms "
          f"({g / p:.1f}x, floor {FLOOR_SPEEDUP:g}x); scan + plan {f * 1000:.0f} ms ({g / f:.1f}x, no floor)",
          flush=True)
    return {"files": files, "old_files": old, "guide_seconds": round(g, 4), "plan_seconds": round(p, 4),
            "scan_and_plan_seconds": round(f, 4), "speedup": round(g / p, 2), "speedup_with_scan": round(g / f, 2)}


def main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 objects and 5,000 files; no floors, no file.")
    parser.add_argument("--objects", type=int, default=None)
    parser.add_argument("--files", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "lifecycle.json")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    objects = args.objects or (20_000 if args.quick else 1_000_000)
    files = args.files or (5_000 if args.quick else 50_000)
    work = Path(tempfile.mkdtemp(prefix="labvault-lifecycle-bench-"))
    try:
        result = {"catalog": catalog_scale(objects, args.repeats, work), "disk": on_disk(files, args.repeats, work)}
    finally:
        store.forget()
        shutil.rmtree(work, ignore_errors=True)
    full = not args.quick and objects >= 1_000_000 and files >= 50_000
    checks = {"plan_seconds": result["catalog"]["plan_seconds"] <= FLOOR_PLAN_S,
              "peak_rss": result["catalog"]["peak_rss_mib"] <= FLOOR_RSS_MIB,
              "speedup": result["disk"]["speedup"] >= FLOOR_SPEEDUP}
    for name, ok in checks.items():
        print(f"{name}: {'PASS' if ok else 'FAIL'}{'' if full else ' (quick run: not a floor check)'}")
    if full:
        report = {"when": datetime.now().isoformat(timespec="seconds"), "provenance": provenance.current(),
                  "floors": {"plan_seconds": FLOOR_PLAN_S, "peak_rss_mib": FLOOR_RSS_MIB, "speedup": FLOOR_SPEEDUP},
                  "results": result, "pass": checks}
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}")
        return 0 if all(checks.values()) else 1
    return 0


if __name__ == "__main__":
    sys.exit(run_checked(main, sys.argv[1:]))
