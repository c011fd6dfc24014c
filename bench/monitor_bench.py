"""Benchmark ``monitor --json`` on a lab-sized catalog, and the cost of recording a read.

Workload: a SQLite catalog with 1,000,000 objects (files) in 100,000 lab units (datasets, models,
experiments, checkpoints; 1 to 19 files each) placed on three folder tiers (a tenth of them with a
second copy), bulk-inserted and ANALYZEd, plus 30 days of hourly usage history for each mount and
tier. ``--quick``: a tenth of that (not for the docs).

Measured (medians, warm):
  * monitor command: ``labvault monitor --json``, a fresh process under GNU time (wall, CPU, peak
              RSS), median of 3; its JSON checked as below                                floor 200 ms
  * monitor in-process: ``api.monitor(...)`` and the JSON the command prints (``emit_json``'s
              conversion + ``json.dumps``), median of ``--repeats``: the command without its
              interpreter start and imports (no floor)
  * record:   ``AccessLog.record()`` stamped with the current time (as readers call it), the
              per-read cost of the batched access log, against
              reading 1 MiB from the page cache (the cheapest 1 MiB read)                floor 5 %
  Reported without a floor: the flush (one transaction per command, whatever the number of reads),
  and what checkout/pull pay without a lab config (the lab config lookup).

Checked before any figure is kept (the command's JSON and the in-process report): the report's per-tier unit bytes, objects and units equal the
sums the generator placed, the dataset and project counts are right, the largest dataset is the
one the generator made largest, and the flushed reads are in ``lab_access`` with ``last_access``
moved. A wrong answer exits 1 and writes nothing.

    .venv/bin/python bench/monitor_bench.py --quick     # bench/results/monitor-quick.json
    .venv/bin/python bench/monitor_bench.py             # full size: bench/results/monitor.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

import sqlalchemy as sa  # noqa: E402

import provenance  # noqa: E402
from labvault import api  # noqa: E402
from labvault.catalog import store  # noqa: E402
from labvault.catalog.lab_schema import lab_access, lab_placements, lab_units, lab_usage  # noqa: E402
from labvault.tiers.access import AccessLog  # noqa: E402
from labvault.tiers.load import find_lab_file  # noqa: E402
from lifecycle_common import labvault_exe, medians, timed  # noqa: E402

FLOORS = {"monitor_command_ms": 200.0, "record_vs_1mib_read_percent": 5.0}
TIERS = ("hot", "warm", "cold")
KINDS = ("dataset", "model", "experiment", "checkpoint")
NOW = datetime(2026, 6, 1, 12, 0, 0)


def _median_ms(fn: Callable[[], object], repeats: int, clock: Callable[[], float] = time.perf_counter) -> float:
    times = []
    for _ in range(repeats):
        t = clock()
        fn()
        times.append((clock() - t) * 1000)
    return statistics.median(times)


def build(url: str, root: Path, units: int, objects: int) -> dict[str, object]:
    """Bulk-insert the lab state; returns what the report must show."""
    cat = store.open_catalog(url)
    rng = random.Random(1)
    # nfiles 1..19 scaled so the total is exactly ``objects``.
    counts = [rng.randint(1, 19) for _ in range(units)]
    scale = objects / sum(counts)
    counts = [max(1, round(c * scale)) for c in counts]
    counts[-1] += objects - sum(counts)
    t0 = NOW - timedelta(days=400)
    unit_rows, place_rows = [], []
    expect = {t: [0, 0, 0] for t in TIERS}  # bytes, objects, units
    dataset_names: set[str] = set()
    projects: set[str] = set()
    biggest = ("", -1)
    for i in range(units):
        kind = KINDS[i % 4]
        name = f"proj{i % 997}_{kind}{i // 4 % 5000}"
        size = counts[i] * rng.randint(1000, 5_000_000)
        if i == 12_344:  # a dataset made largest on purpose
            kind, name, size = "dataset", "largest_dataset", 10**15
        uid = i + 1
        unit_rows.append({"id": uid, "kind": kind, "name": name, "version": f"v{i}", "part": "",
                          "content_hash": f"{i:032x}", "size": size, "nfiles": counts[i], "version_id": None,
                          "created_at": t0, "modified_at": t0, "last_access": None, "updated_at": t0})
        tiers = [TIERS[i % 3]] + ([TIERS[(i + 1) % 3]] if i % 10 == 0 else [])
        for tier in tiers:
            place_rows.append({"unit_id": uid, "tier": tier, "location": f"{root}/{tier}/datasets/u{i}", "state":
                               "present", "verified_at": None, "created_at": t0})
            e = expect[tier]
            e[0] += size
            e[1] += counts[i]
            e[2] += 1
        projects.add(name.split("_", 1)[0])
        if kind == "dataset":
            dataset_names.add(name)
            if size > biggest[1]:
                biggest = (name, size)
    usage = []
    for h in range(30 * 24):
        at = NOW - timedelta(hours=h + 1)
        usage.append({"at": at, "tier": None, "mount": "/", "used": 10**12 - h * 10**6, "total": 2 * 10**12})
        usage.extend({"at": at, "tier": t, "mount": str(root / t), "used": 10**11, "total": 2 * 10**12}
                     for t in TIERS)

    def write(conn: sa.Connection) -> None:
        for table, rows in ((lab_units, unit_rows), (lab_placements, place_rows), (lab_usage, usage)):
            for j in range(0, len(rows), 20_000):
                conn.execute(sa.insert(table), rows[j:j + 20_000])

    cat.write(write)
    with cat.engine.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
        conn.commit()
    return {"tiers": {t: tuple(v) for t, v in expect.items()}, "datasets": len(dataset_names),
            "projects": len(projects), "largest": biggest[0]}


def check_report(report: api.MonitorReport, expect: dict[str, object]) -> list[str]:
    wrong = []
    tiers = expect["tiers"]
    assert isinstance(tiers, dict)
    for t in report.tiers:
        got = (t.unit_bytes, t.objects, t.units)
        if got != tiers[t.name]:
            wrong.append(f"tier {t.name}: {got} != {tiers[t.name]}")
    if report.datasets_total != expect["datasets"] or report.projects_total != expect["projects"]:
        wrong.append(f"counts {report.datasets_total}/{report.projects_total} != "
                     f"{expect['datasets']}/{expect['projects']}")
    if not report.datasets or report.datasets[0].name != expect["largest"]:
        wrong.append(f"largest dataset {report.datasets[0].name if report.datasets else None}")
    return wrong


def check_json(doc: dict[str, Any], expect: dict[str, object]) -> list[str]:
    """``check_report`` on the command's JSON."""
    tiers = expect["tiers"]
    assert isinstance(tiers, dict)
    wrong = [f"tier {t['name']}: {(t['unit_bytes'], t['objects'], t['units'])} != {tiers[t['name']]}"
             for t in doc["tiers"] if (t["unit_bytes"], t["objects"], t["units"]) != tiers[t["name"]]]
    if (doc["datasets_total"], doc["projects_total"]) != (expect["datasets"], expect["projects"]):
        wrong.append(f"counts {doc['datasets_total']}/{doc['projects_total']} in the command's JSON")
    if not doc["datasets"] or doc["datasets"][0]["name"] != expect["largest"]:
        wrong.append("the command's largest dataset is wrong")
    return wrong


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true", help="a tenth of the size (not for the docs)")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", type=Path, default=None, help="results file (default bench/results/monitor[-quick].json)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="labvault-monitor-bench-"))
    try:
        return measure(args.quick, args.repeats, work, args.out)
    finally:
        store.forget()
        shutil.rmtree(work, ignore_errors=True)


def measure(quick: bool, repeats: int, work: Path, out_file: Path | None = None) -> int:
    units, objects = (10_000, 100_000) if quick else (100_000, 1_000_000)
    for t in TIERS:
        (work / t).mkdir()
    lab = work / "lab.yaml"
    lab.write_text("version: 1\ntiers:\n" + "".join(f"  {t}: {{path: {work / t}}}\n" for t in TIERS))
    url = f"sqlite:///{work / 'catalog.sqlite'}"
    t = time.perf_counter()
    expect = build(url, work, units, objects)
    build_s = time.perf_counter() - t
    from labvault.api.jsonshape import to_json as _jsonable

    def run() -> api.MonitorReport:
        report = api.monitor(lab, url, at=NOW)
        json.dumps(_jsonable(report))
        return report

    print(f"workload: a catalog of {objects:,} objects in {units:,} lab units (datasets, models, experiments, "
          f"checkpoints) on 3 folder tiers, a tenth with a second copy, 30 days of hourly usage history "
          f"(built in {build_s:.1f} s)", flush=True)
    wrong = check_report(run(), expect)
    env = dict(os.environ, LABVAULT_CATALOG_URL=url, LABVAULT_LAB=str(lab))
    command = []
    for _ in range(3):
        got = timed([labvault_exe(), "monitor", "--json"], env, codes=(0, 1, 2))  # ok, warn, critical
        wrong += check_json(json.loads(got.output[got.output.index("{"):]), expect)
        command.append(got)
    cmd = medians(command)
    monitor_ms = _median_ms(run, repeats)
    monitor_cpu_ms = _median_ms(run, repeats, time.process_time)  # what a busy machine's wait leaves out
    # The read side: 1 MiB from the page cache, against one record() of the batched log.
    blob = work / "blob.bin"
    blob.write_bytes(os.urandom(1024**2))
    blob.read_bytes()

    def read() -> None:
        with open(blob, "rb", buffering=0) as f:
            f.readinto(buf)

    buf = bytearray(1024**2)
    read_us = _median_ms(read, 201) * 1000
    cat = store.open_catalog(url)
    log = AccessLog(cat)
    n = 100_000
    started = store.now()
    t, c = time.perf_counter(), time.process_time()
    for i in range(n):
        log.record(i % units + 1, "read")  # stamped now, as every reader records
    record_us = (time.perf_counter() - t) / n * 1e6
    record_cpu_us = (time.process_time() - c) / n * 1e6
    read_cpu_us = _median_ms(read, 201, time.process_time) * 1000
    t = time.perf_counter()
    flushed = log.flush()
    flush_ms = (time.perf_counter() - t) * 1000
    with cat.read() as conn:
        rows = conn.execute(sa.select(sa.func.sum(lab_access.c.reads))).scalar()
        moved = conn.execute(sa.select(sa.func.count()).select_from(lab_units)
                             .where(lab_units.c.last_access >= started)).scalar()
    if flushed != n or rows != n or moved != min(units, n):
        wrong.append(f"flush wrote {flushed}, lab_access holds {rows}, last_access moved on {moved}")
    one = AccessLog(cat)
    one.record(1, "checkout")
    t = time.perf_counter()
    one.flush()
    flush_one_ms = (time.perf_counter() - t) * 1000
    os.environ["XDG_CONFIG_HOME"] = str(work / "no-config")
    os.environ["LABVAULT_SYSTEM_CONFIG_DIR"] = str(work / "no-config")
    os.environ.pop("LABVAULT_LAB", None)
    no_lab_us = _median_ms(lambda: find_lab_file(None), 1001) * 1000
    if wrong:
        print("WRONG (no figures kept):\n  " + "\n  ".join(wrong))
        return 1
    figures = {
        "monitor_command_ms": round(cmd["seconds"] * 1000, 1),
        "monitor_command_cpu_ms": round(cmd["cpu_seconds"] * 1000, 1),
        "monitor_command_peak_rss_mib": cmd["peak_rss_mib"],
        "monitor_json_ms": round(monitor_ms, 2),
        "monitor_json_cpu_ms": round(monitor_cpu_ms, 2),
        "read_1mib_us": round(read_us, 2),
        "record_us": round(record_us, 3),
        "record_vs_1mib_read_percent": round(record_us / read_us * 100, 3),
        "record_cpu_us": round(record_cpu_us, 3),
        "read_1mib_cpu_us": round(read_cpu_us, 2),
        "flush_100k_reads_ms": round(flush_ms, 1),
        "flush_one_read_ms": round(flush_one_ms, 2),
        "no_lab_lookup_us": round(no_lab_us, 2),
    }
    verdict = {k: ("meets" if figures[k] <= v else "MISSES") + f" floor {v:g}" for k, v in FLOORS.items()}
    out = {"provenance": provenance.current(), "quick": quick, "units": units, "objects": objects,
           "repeats": repeats, "build_seconds": round(build_s, 1), "figures": figures, "floors": verdict}
    dest = out_file or BENCH / "results" / ("monitor-quick.json" if quick else "monitor.json")
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0 if all(v.startswith("meets") for v in verdict.values()) else 2


if __name__ == "__main__":
    sys.exit(main())
