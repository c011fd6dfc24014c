"""Backups and checksum files against restic and md5sum, in one run (floors of the issue "backups,
integrity, immutable raw data and access control"; medians of 3, wall and CPU time).

Backup part, on W2 (50,000 files of 1..8 KiB), per repeat and tool (labvault's own engine to a
folder target; restic to a local repository, password from a file), each on its own fresh copy of
the workload, target and caches:

* ``first``: the first backup. Checked: the snapshot holds every file and every file was read.
* ``unchanged``: a backup of the unchanged tree (a daily snapshot). Checked: no file read; the
  target's growth (allocated bytes, measured here) is recorded: floor at most 1 MiB.
* ``changed``: one file overwritten with new bytes of the same size, then a backup. Checked:
  exactly one file read.
* ``restore``: the last snapshot into an empty folder. Checked: every byte equals the source's
  (md5 of every file, computed here; ``BENCH_FAULT=corrupt-restored`` flips a restored byte and
  the run must then fail).

Floors: first at most 1.0x restic's time, changed at most 0.5x, restore at most 1.2x.

Checksums part (``checksums_bench.py``): ``labvault checksums check`` against ``md5sum -c`` on W2
(at least 1.6x faster) and W1 (one big file; within 1.1x), each run's output checked, and both
must catch a flipped byte and a truncated file (exit 1 naming exactly those files).

    .venv/bin/python bench/backup_bench.py                 # full: 50,000 files, W1 4 GiB
    .venv/bin/python bench/backup_bench.py --quick         # 2,000 files, W1 64 MiB (not for the docs)
    .venv/bin/python bench/backup_bench.py --files 10000 --w1-size 512M --parts backup
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import checksums_bench  # noqa: E402
from backup_tools import TOOLS, Tool, disk_usage  # noqa: E402
from checks import OutputWrong, check_restored, manifest, run_checked  # noqa: E402
from extra_common import write_json_atomic  # noqa: E402
from measure import CachePolicy, Measurement, run_timed, run_untimed  # noqa: E402
from provenance import current  # noqa: E402
from workloads import Workload, ensure, file_workload, modify_one, tree_workload  # noqa: E402

OPS = ("first", "unchanged", "changed", "restore")
MIB = 1 << 20
# (name, op or measure, limit, kind): "ratio" = labvault/restic median time at most limit;
# "growth" = labvault's target growth per unchanged snapshot at most limit bytes;
# "speedup" = md5sum/labvault median time at least limit.
FLOORS = (
    ("W2 first backup at most 1.0x restic's time", "first", 1.0, "ratio"),
    ("W2 backup after one changed file at most 0.5x restic's", "changed", 0.5, "ratio"),
    ("W2 target growth per unchanged snapshot at most 1 MiB", "unchanged", float(MIB), "growth"),
    ("W2 restore at most 1.2x restic's time, byte-identical", "restore", 1.2, "ratio"),
    ("W2 `checksums check` at least 1.6x faster than `md5sum -c`", "W2", 1.6, "speedup"),
    ("W1 `checksums check` within 1.1x of `md5sum -c`", "W1", 1 / 1.1, "speedup"),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small smoke run: 2,000 files, W1 64 MiB")
    p.add_argument("--files", type=int, default=None, help="W2 file count (default 50000)")
    p.add_argument("--w1-size", default=None, help="W1 size for the checksums part (default 4G)")
    p.add_argument("--repeats", type=int, default=3, help="runs per measurement; the median is reported")
    p.add_argument("--parts", default="backup,checksums", help="comma-separated subset of backup,checksums")
    p.add_argument("--tools", default="labvault,restic", help="comma-separated subset of labvault,restic")
    p.add_argument("--seed", type=int, default=20240602, help="seed of the generated W2 (run_all's)")
    p.add_argument("--work", type=Path, default=BENCH / "work" / "backup", help="scratch folder")
    p.add_argument("--out", type=Path, default=None, help="results JSON (default bench/results/backup.json)")
    p.add_argument("--drop-caches", action="store_true", help="drop the page cache before each timed command")
    a = p.parse_args(argv)
    a.quick = a.quick or (a.files is not None and a.files != 50_000) or (a.w1_size not in (None, "4G"))
    if a.quick:
        a.files = a.files or 2000
        a.w1_size = a.w1_size or "64M"
    a.files, a.w1_size = a.files or 50_000, a.w1_size or "4G"
    a.out = a.out or BENCH / "results" / ("backup-quick.json" if a.quick else "backup.json")
    a.parts = [x for x in a.parts.split(",") if x]
    a.tools = [x for x in a.tools.split(",") if x]
    for t in a.tools:
        if t not in TOOLS:
            p.error(f"unknown tool {t!r}")
    return a


class Recorder:
    def __init__(self, path: Path, meta: dict[str, object]) -> None:
        self.path, self.meta = path, meta
        self.records: list[dict[str, object]] = []
        self.checksums: dict[str, object] = {}

    def add(self, **rec: object) -> None:
        self.records.append({**rec, "load1": os.getloadavg()[0]})
        extra = f"   growth {rec['growth_bytes']:,} B" if "growth_bytes" in rec else ""
        print(f"    {rec['tool']:9} {rec['op']:10} r{rec['repeat']}  {rec['seconds']:8.2f} s wall"
              f"  {rec['cpu_seconds']:8.2f} s CPU  peak {int(rec['maxrss_kib']) // 1024:5} MiB{extra}", flush=True)
        self.save()

    def save(self) -> None:
        write_json_atomic(self.path, {"meta": self.meta, "records": self.records, "checksums": self.checksums,
                                      "floors": floor_rows(self.records, self.checksums)})


def _expect(what: str, got: int, want: int, tool: str) -> None:
    if got != want:
        raise OutputWrong(f"{tool} {what}: {got:,}, expected {want:,}")


def one_repeat(tool: Tool, w: Workload, pristine: Path, r: int, caches: CachePolicy, rec: Recorder) -> None:
    """The four timed commands of one tool, each checked before its time is recorded."""
    home, log = tool.home, tool.home.parent / f"{tool.name}.log"
    tool.source.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", str(pristine), str(tool.source)], check=True)
    for argv in tool.setup():
        run_untimed(argv, home, log, env=tool.env)

    def timed(argv: list[str]) -> Measurement:
        return run_timed(argv, home, log, env=tool.env, caches=caches)

    def keep(op: str, m: Measurement, **extra: object) -> None:
        rec.add(tool=tool.name, op=op, repeat=r, seconds=m.seconds, cpu_seconds=m.cpu_seconds,
                maxrss_kib=m.maxrss_kib, **extra)

    m = timed(tool.backup_argv())
    first = tool.parse_backup(m.output)
    _expect("first backup: files in the snapshot", first.files, w.nfiles, tool.name)
    _expect("first backup: files read", first.read, w.nfiles, tool.name)
    keep("first", m, target_bytes=disk_usage(tool.target)[1])

    grown_from = disk_usage(tool.target)
    m = timed(tool.backup_argv())
    same = tool.parse_backup(m.output)
    _expect("unchanged backup: files in the snapshot", same.files, w.nfiles, tool.name)
    _expect("unchanged backup: files read", same.read, 0, tool.name)
    grown_to = disk_usage(tool.target)
    keep("unchanged", m, growth_bytes=grown_to[1] - grown_from[1], growth_apparent_bytes=grown_to[0] - grown_from[0])

    modify_one(tool.source, w, salt=r)
    m = timed(tool.backup_argv())
    changed = tool.parse_backup(m.output)
    _expect("backup after one change: files in the snapshot", changed.files, w.nfiles, tool.name)
    _expect("backup after one change: files read", changed.read, 1, tool.name)
    keep("changed", m, bytes_added=changed.bytes_added)

    to = home / "restored"
    expect = manifest(tool.source)
    m = timed(tool.restore_argv(changed.snapshot, to))
    check_restored(tool.restored_root(to), expect, f"{tool.name} restore")
    keep("restore", m)


def medians(records: list[dict[str, object]]) -> dict[tuple[str, str], dict[str, float]]:
    groups: dict[tuple[str, str], list[dict[str, object]]] = {}
    for r in records:
        groups.setdefault((str(r["tool"]), str(r["op"])), []).append(r)
    out: dict[tuple[str, str], dict[str, float]] = {}
    for key, rows in groups.items():
        out[key] = {f: statistics.median(float(str(x[f])) for x in rows)
                    for f in ("seconds", "cpu_seconds", "growth_bytes") if all(f in x for x in rows)}
    return out


def floor_rows(records: list[dict[str, object]], sums: dict[str, object]) -> list[dict[str, object]]:
    """One row per floor: its figures and PASS, FAIL or NOT MEASURED."""
    med = medians(records)
    rows: list[dict[str, object]] = []
    for name, what, limit, kind in FLOORS:
        row: dict[str, object] = {"floor": name, "status": "NOT MEASURED"}
        if kind == "ratio" and ("labvault", what) in med and ("restic", what) in med:
            lv, rs = med[("labvault", what)]["seconds"], med[("restic", what)]["seconds"]
            ok = lv <= limit * rs
            row |= {"labvault_s": lv, "reference_s": rs, "ratio": lv / rs, "status": "PASS" if ok else "FAIL",
                    "shown": f"{lv / rs:.2f}x restic's time ({lv:.2f} s vs {rs:.2f} s)"}
        elif kind == "growth" and ("labvault", what) in med:
            g = med[("labvault", what)]["growth_bytes"]
            row |= {"growth_bytes": g, "status": "PASS" if g <= limit else "FAIL", "shown": f"{g / 1024:.1f} KiB"}
        elif kind == "speedup" and isinstance(sums.get(what), dict):
            r = sums[what]
            assert isinstance(r, dict)
            ratio = float(r["ratio_md5sum_over_labvault"])
            row |= {"ratio": ratio, "status": "PASS" if ratio >= limit else "FAIL",
                    "shown": f"{ratio:.2f}x md5sum's speed ({r['median']['labvault']:.2f} s vs "
                             f"{r['median']['md5sum']:.2f} s)"}
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    return run_checked(_main, argv)


def _main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    for exe in ("restic", "md5sum"):
        if shutil.which(exe) is None and (exe == "md5sum" or "restic" in a.tools):
            print(f"error: {exe} not found: `make postgres` installs restic; md5sum is coreutils", file=sys.stderr)
            return 1
    caches = CachePolicy(a.drop_caches)
    meta = {"provenance": current(), "command": "python bench/backup_bench.py " + " ".join(
                sys.argv[1:] if argv is None else argv),
            "quick": a.quick, "caches": caches.describe(), "repeats": a.repeats, "cpus": os.cpu_count(),
            "restic": subprocess.run(["restic", "version"], capture_output=True, text=True).stdout.strip()
            if shutil.which("restic") else None}
    rec = Recorder(a.out, meta)
    started = time.perf_counter()
    if "backup" in a.parts:
        w, pristine = ensure(tree_workload("W2" if not a.quick else f"W2-{a.files}", a.files, a.seed,
                                           ndirs=100 if a.files >= 100 else None), a.work / "pristine")
        print(f"backup part: {w.description}; caches {caches.describe()}", flush=True)
        for r in range(1, a.repeats + 1):
            order = a.tools if r % 2 else list(reversed(a.tools))
            for name in order:
                home = a.work / "runs" / name
                if home.exists():
                    shutil.rmtree(home)
                tool = TOOLS[name](home, a.work / "runs" / f"{name}-src" / "data")
                if tool.source.parent.exists():
                    shutil.rmtree(tool.source.parent)
                try:
                    one_repeat(tool, w, pristine, r, caches, rec)
                finally:
                    shutil.rmtree(home, ignore_errors=True)
                    shutil.rmtree(tool.source.parent, ignore_errors=True)
    if "checksums" in a.parts:
        work = a.work / "checksums"
        w2 = tree_workload("W2" if not a.quick else f"W2-{a.files}", a.files, seed=2)
        w1 = file_workload("W1" if not a.quick else f"W1-{a.w1_size}", checksums_bench.parse_size(a.w1_size), seed=1)
        for name, wl in (("W2", w2), ("W1", w1)):
            print(f"checksums part: {name}", flush=True)
            rec.checksums[name] = checksums_bench.bench(wl, work, a.repeats, caches)
            rec.save()
    rec.save()
    print(f"\ndone in {time.perf_counter() - started:.0f} s; wrote {a.out}")
    for (tool, op), m in sorted(medians(rec.records).items()):
        print(f"  median {tool:9} {op:10} {m['seconds']:8.2f} s wall {m['cpu_seconds']:8.2f} s CPU")
    for name, r in rec.checksums.items():
        assert isinstance(r, dict)
        print(f"  checksums {name}: md5sum -c {r['median']['md5sum']:.2f} s, labvault {r['median']['labvault']:.2f} s"
              f" (CPU {r['median_cpu']['md5sum']:.2f} s vs {r['median_cpu']['labvault']:.2f} s)")
    for row in floor_rows(rec.records, rec.checksums):
        print(f"  {row['status']:12} {row['floor']}  {row.get('shown', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
