"""Benchmark the lab's lifecycle: ``lifecycle plan`` at catalog scale and on W2's files on disk,
and ``lifecycle apply`` of W2 across file systems (SQLite catalog).

1. Catalog scale: N objects in N/10 units (default 1,000,000 objects in 100,000 datasets, on the
   hot, warm and cold tiers with random ages and last reads), bulk-inserted straight into
   ``lab_units``/``lab_placements``. Timed: the command ``labvault lifecycle plan`` (a fresh
   process under GNU time: wall, CPU, peak RSS; its printed move count checked) and, in a child
   process, ``plan_lifecycle`` alone. Floors: 3 s and 400 MiB (on the command).
2. On disk (``lifecycle_disk.py``): ``lifecycle plan`` (its scan included) against the guide's
   ``rglob``-and-stat scan on W2's 50,000 files. Floor: 5x faster.
3. Apply (``lifecycle_apply.py``): ``lifecycle apply`` of W2 to a tmpfs, verification included,
   against ``cp -a`` then ``rm -r``. Floor: 0.7x the baseline's speed. Needs root (tmpfs).

Every timed command's output is checked (move counts against counts worked out here from the
generated rows or by the guide's scan; every moved byte's md5); a wrong output stops the run (exit
1). Medians of ``--repeats`` (3). The machine may be shared: CPU time is printed beside wall time.

    .venv/bin/python bench/lifecycle_bench.py            # full size; results in bench/results/lifecycle.json
    .venv/bin/python bench/lifecycle_bench.py --quick    # 20,000 objects, 5,000 files; prints only
"""

from __future__ import annotations

import argparse
import json
import random
import re
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
from lifecycle_common import (  # noqa: E402
    AS_OF,
    NOW,
    Timed,
    env_for,
    lab_yaml,
    labvault_exe,
    medians,
    repeat,
    timed,
)

FLOOR_PLAN_S = 3.0
FLOOR_RSS_MIB = 400.0
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
    started, cpu = time.perf_counter(), time.process_time()
    plan = plan_lifecycle(cat, lab_config(Path("/lab")), NOW)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "moves": len(plan.moves), "rss_mib": rss_kib / 1024}))



def catalog_scale(objects: int, repeats: int, work: Path) -> dict[str, Any]:
    url = f"sqlite:///{work / 'catalog.sqlite'}"
    t = time.perf_counter()
    expected = build_catalog(url, objects // 10)
    print(f"workload: a catalog of {objects:,} objects in {objects // 10:,} dataset units on hot, warm and cold "
          f"(loaded in {time.perf_counter() - t:.1f} s); {expected:,} moves expected", flush=True)
    lab = lab_yaml(work / "catalog-lab.yaml", {"hot": Path("/lab/nvme0"), "warm": Path("/lab/ssd0"),
                                               "cold": Path("/lab/hdd0")}, [("hot", "warm", 7), ("warm", "cold", 30)])
    header = re.compile(r"^lifecycle plan as of .*: ([\d,]+) units, ([\d,]+) moves", re.M)

    def command_ok(t: Timed) -> None:
        m = header.search(t.output)
        got = (int(m[1].replace(",", "")), int(m[2].replace(",", ""))) if m else None
        if got != (objects // 10, expected):
            raise OutputWrong(f"lifecycle plan over the catalog printed {got} (units, moves), "
                              f"expected {(objects // 10, expected)}")

    command = repeat(repeats, lambda: timed([labvault_exe(), "lifecycle", "plan", "--as-of", AS_OF],
                                            env_for(work / "catalog.sqlite", lab)), command_ok)
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, __file__, "--child", url], capture_output=True, text=True, check=True)
        got = json.loads(out.stdout.strip().splitlines()[-1])
        if got["moves"] != expected:
            raise OutputWrong(f"plan over the catalog: {got['moves']:,} moves, expected {expected:,}")
        runs.append(got)
    c = medians(command)
    seconds = statistics.median(r["seconds"] for r in runs)
    cpu = statistics.median(r["cpu_seconds"] for r in runs)
    print(f"lifecycle plan (command, text output): {c['seconds']:.2f} s (CPU {c['cpu_seconds']:.2f} s; floor "
          f"{FLOOR_PLAN_S:g} s), peak RSS {c['peak_rss_mib']:.0f} MiB (floor {FLOOR_RSS_MIB:g} MiB); "
          f"plan_lifecycle alone {seconds:.2f} s (CPU {cpu:.2f} s), {expected:,} moves", flush=True)
    return {"objects": objects, "units": objects // 10, "moves": expected, "command": c,
            "plan_seconds": round(seconds, 3), "plan_cpu_seconds": round(cpu, 3),
            "plan_peak_rss_mib": round(max(r["rss_mib"] for r in runs), 1)}


def main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 objects and 5,000 files; no floors, no file.")
    parser.add_argument("--objects", type=int, default=None)
    parser.add_argument("--files", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parts", default="catalog,disk,apply", help="comma-separated: catalog, disk, apply")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp folder)")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "lifecycle.json")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    from lifecycle_apply import FLOOR_RATIO, apply_bench
    from lifecycle_disk import FLOOR_SPEEDUP, on_disk

    objects = args.objects or (20_000 if args.quick else 1_000_000)
    files = args.files or (5_000 if args.quick else 50_000)
    parts = set(args.parts.split(","))
    work = args.work or Path(tempfile.mkdtemp(prefix="labvault-lifecycle-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {}
    checks: dict[str, bool] = {}
    try:
        if "catalog" in parts:
            result["catalog"] = catalog_scale(objects, args.repeats, work)
            checks["plan_seconds"] = result["catalog"]["command"]["seconds"] <= FLOOR_PLAN_S
            checks["peak_rss"] = result["catalog"]["command"]["peak_rss_mib"] <= FLOOR_RSS_MIB
        if "disk" in parts:
            result["disk"] = on_disk(files, args.repeats, work)
            checks["speedup"] = result["disk"]["speedup"] >= FLOOR_SPEEDUP
        if "apply" in parts:
            result["apply"] = apply_bench(files, args.repeats, work)
            checks["apply_ratio"] = result["apply"]["speed_ratio"] >= FLOOR_RATIO
    finally:
        store.forget()
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    full = not args.quick and objects >= 1_000_000 and files >= 50_000 and parts >= {"catalog", "disk", "apply"}
    for name, ok in checks.items():
        print(f"{name}: {'PASS' if ok else 'FAIL'}{'' if full else ' (not a full run: not a floor check)'}")
    if full:
        report = {"when": datetime.now().isoformat(timespec="seconds"), "provenance": provenance.current(),
                  "floors": {"plan_seconds": FLOOR_PLAN_S, "peak_rss_mib": FLOOR_RSS_MIB, "speedup": FLOOR_SPEEDUP,
                             "apply_ratio": FLOOR_RATIO},
                  "results": result, "pass": checks}
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}")
        return 0 if all(checks.values()) else 1
    return 0


if __name__ == "__main__":
    sys.exit(run_checked(main, sys.argv[1:]))
