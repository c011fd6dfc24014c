"""Benchmark labvault against dvc on generated workloads, side by side in one run.

Prints each workload and measurement as it goes, writes raw results as JSON and a Markdown
report (bench/results/core.md for full runs, which bench/assemble_docs.py puts into
docs/benchmarks.md; bench/results/quick.* for --quick).

    .venv/bin/python bench/run_all.py                 # everything, 3 repeats
    .venv/bin/python bench/run_all.py --quick         # small smoke run
    .venv/bin/python bench/run_all.py --workloads W2 --ops add,checkout --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import checks  # noqa: E402
import machine  # noqa: E402
import provenance  # noqa: E402
import report  # noqa: E402
from checks import OutputWrong  # noqa: E402
from measure import CachePolicy, CommandFailed  # noqa: E402
from scenarios import (  # noqa: E402
    ALL_OPS,
    FILE_OPS,
    SCALING_OPS,
    TREE_OPS,
    Context,
    run_file_baselines,
    run_tool,
    run_tree_baselines,
)
from tools import all_tools  # noqa: E402
from workloads import Workload, ensure, file_workload, fmt_bytes, tree_workload  # noqa: E402

ALL_WORKLOADS = ("W1", "W2", "scaling")
TREE_BASELINES = ("cp_r", "bare_loop", "md5sum_tree", "walk_stat")


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(t)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="small smoke run: W1 64 MiB, W2 2,000 files, scaling 1k/2k/4k files",
    )
    p.add_argument(
        "--workloads",
        default=",".join(ALL_WORKLOADS),
        help=f"comma-separated subset of {','.join(ALL_WORKLOADS)} (default: all)",
    )
    p.add_argument(
        "--ops",
        default=",".join(ALL_OPS),
        help=f"comma-separated subset of {','.join(ALL_OPS)} (add always runs; add_warm is "
        "W1's only; default: all)",
    )
    p.add_argument("--tools", default="labvault,dvc", help="comma-separated subset of labvault,dvc")
    p.add_argument(
        "--scaling-tools",
        default=None,
        help="tools for the scaling series (default: same as --tools)",
    )
    p.add_argument(
        "--baselines", default="yes", choices=("yes", "no"), help="run the bare baselines"
    )
    p.add_argument(
        "--repeats", type=int, default=3, help="runs per measurement; the median is reported"
    )
    p.add_argument(
        "--w1-size", type=parse_size, default=None, help="W1 file size, e.g. 4G (default), 256M"
    )
    p.add_argument("--w2-files", type=int, default=None, help="W2 file count (default 50000)")
    p.add_argument(
        "--scale-sizes",
        default=None,
        help="file counts for the scaling series (default 10000,50000,200000)",
    )
    p.add_argument("--seed", type=int, default=20240601, help="seed of the generated workloads")
    p.add_argument(
        "--work", type=Path, default=BENCH / "work", help="scratch folder (default bench/work)"
    )
    p.add_argument(
        "--no-drop-caches", action="store_true", help="keep the page cache between commands"
    )
    p.add_argument("--out-json", type=Path, default=None)
    p.add_argument("--out-md", type=Path, default=None)
    p.add_argument(
        "--fresh",
        action="store_true",
        help="do not merge with earlier results in --out-json (default: merge, replacing "
        "only the measurements repeated in this run)",
    )
    p.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: re-render --out-md from the results in --out-json",
    )
    p.add_argument("--note", default=None, help="a remark printed at the top of the report")
    p.add_argument("--clean", action="store_true", help="delete the generated workloads at the end")
    a = p.parse_args(argv)
    if a.quick:
        a.w1_size = a.w1_size or 64 << 20
        a.w2_files = a.w2_files or 2000
        a.scale_sizes = a.scale_sizes or "1000,2000,4000"
        a.out_json = a.out_json or BENCH / "results" / "quick.json"
        a.out_md = a.out_md or BENCH / "results" / "quick.md"
    a.w1_size = a.w1_size or 4 << 30
    a.w2_files = a.w2_files or 50_000
    a.scale_sizes = [int(x) for x in (a.scale_sizes or "10000,50000,200000").split(",") if x]
    a.out_json = a.out_json or BENCH / "results" / "latest.json"
    a.out_md = a.out_md or BENCH / "results" / "core.md"
    a.workloads = [w for w in a.workloads.split(",") if w]
    a.ops = tuple(o for o in a.ops.split(",") if o)
    a.tools = [t for t in a.tools.split(",") if t]
    a.scaling_tools = [t for t in a.scaling_tools.split(",") if t] if a.scaling_tools else a.tools
    for w in a.workloads:
        if w not in ALL_WORKLOADS:
            p.error(f"unknown workload {w!r}")
    for o in a.ops:
        if o not in ALL_OPS:
            p.error(f"unknown op {o!r}")
    if a.repeats < 1:
        p.error("--repeats must be at least 1")
    return a


class Results:
    """Raw records of this run, merged over earlier ones, saved after every measurement."""

    def __init__(self, path: Path, run_id: str, meta: dict, merge: bool) -> None:
        self.path, self.run_id = path, run_id
        old = json.loads(path.read_text()) if merge and path.exists() else {}
        self.old_records: list[dict] = old.get("records", [])
        self.runs: dict = {**old.get("runs", {}), run_id: meta}
        self.workloads: dict[str, str] = old.get("workloads", {})
        self.new: list[dict] = []
        self.failures: list[dict] = []

    def records(self) -> list[dict]:
        fresh = {(r["workload"], r["subject"], r["op"]) for r in self.new}
        kept = [r for r in self.old_records if (r["workload"], r["subject"], r["op"]) not in fresh]
        return kept + self.new

    def add(self, rec: dict) -> None:
        self.new.append({**rec, "run_id": self.run_id, "load1": os.getloadavg()[0]})
        self.save()
        tag = f"{rec['workload']:6} {rec['subject']:9} {rec['op']:17} r{rec['repeat']}"
        print(
            f"    {tag} {rec['seconds']:9.3f} s   peak {rec['maxrss_kib'] / 1024:7.0f} MiB"
            f"   (write-back after: {rec['writeback_seconds']:.2f} s)",
            flush=True,
        )

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        used = {r["run_id"] for r in self.records()}
        data = {
            "runs": {k: v for k, v in self.runs.items() if k in used or k == self.run_id},
            "workloads": self.workloads,
            "records": self.records(),
            "failures": self.failures,
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(self.path)


def check_space(work: Path, need: int) -> None:
    work.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(work).free
    print(f"free space under {work}: {fmt_bytes(free)}; this run needs about {fmt_bytes(need)}")
    if free < need:
        sys.exit(
            f"error: not enough free space in {work}: free {fmt_bytes(free)}, need {fmt_bytes(need)}"
        )


def render_only(a: argparse.Namespace) -> int:
    data = json.loads(a.out_json.read_text())
    records, runs = data["records"], data["runs"]
    latest = runs[max({r["run_id"] for r in records})]
    if a.note:
        latest["note"] = a.note
    a.out_md.write_text(
        report.render(
            latest, data["workloads"], records, runs, latest["command"], data.get("failures", [])
        )
    )
    print(f"wrote {a.out_md} from {a.out_json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return checks.run_checked(_main, argv)


def _main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    if a.report_only:
        return render_only(a)
    tools = all_tools()
    chosen = {}
    for name in sorted(set(a.tools) | set(a.scaling_tools)):
        if name not in tools:
            sys.exit(f"error: unknown tool {name!r}")
        if tools[name].available():
            chosen[name] = tools[name]
        else:
            print(f"WARNING: {name} not runnable at {tools[name].exe}; skipping it", flush=True)
    versions = {name: t.version() for name, t in tools.items() if name in chosen}
    caches = CachePolicy(want_drop=not a.no_drop_caches)
    meta = machine.describe(a.work if a.work.exists() else BENCH, versions)
    meta |= {
        "caches": caches.describe(),
        "repeats": str(a.repeats),
        "seed": str(a.seed),
        "command": "python bench/run_all.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "provenance": provenance.current(),
    }
    run_id = time.strftime("%Y%m%dT%H%M%S")
    results = Results(a.out_json, run_id, meta, merge=not a.fresh)

    print("labvault benchmark suite")
    for k, v in meta.items():
        print(f"  {k}: {v}")

    plan: list[Workload] = []
    if "W1" in a.workloads:
        plan.append(file_workload("W1", a.w1_size, a.seed))
    if "W2" in a.workloads or ("scaling" in a.workloads and a.w2_files in a.scale_sizes):
        plan.append(
            tree_workload("W2", a.w2_files, a.seed + 1, ndirs=100 if a.w2_files >= 100 else None)
        )
    if "scaling" in a.workloads:
        for n in a.scale_sizes:
            if n != a.w2_files:
                plan.append(
                    tree_workload(f"S{n // 1000}k" if n % 1000 == 0 else f"S{n}", n, a.seed + 2)
                )
    need = sum(w.size * 3 if w.kind == "file" else w.nfiles * 4600 * 3 + (256 << 20) for w in plan)
    check_space(a.work, need)
    log = a.work / "commands.log"
    log.write_text("")
    print(f"  command output: {log}")
    ctx = Context(a.work, caches, results.add, log)

    started = time.perf_counter()
    for w0 in plan:
        print(f"\nworkload: generating {w0.name} ...", flush=True)
        t = time.perf_counter()
        w, pristine = ensure(w0, a.work / "pristine")
        results.workloads[w.name] = w.description
        print(f"workload {w.description}  [ready in {time.perf_counter() - t:.1f} s]", flush=True)
        scaling_only = w.name.startswith("S") or (w.name == "W2" and "W2" not in a.workloads)
        if w.kind == "file":
            ops = tuple(o for o in a.ops if o in FILE_OPS)
        elif scaling_only:
            ops = tuple(o for o in a.ops if o in SCALING_OPS)
        else:
            ops = tuple(o for o in a.ops if o in TREE_OPS)
        names = [n for n in (a.scaling_tools if scaling_only else a.tools) if n in chosen]
        print(f"  tools: {', '.join(names) or 'none'}; ops: {', '.join(ops)}", flush=True)
        for r in range(1, a.repeats + 1):
            if a.baselines == "yes" and not scaling_only:
                if w.kind == "file":
                    run_file_baselines(ctx, w, pristine, r)
                else:
                    run_tree_baselines(ctx, w, pristine, r, TREE_BASELINES)
            order = names if r % 2 else list(reversed(names))
            for name in order:
                try:
                    run_tool(ctx, chosen[name], w, pristine, ops, r)
                except OutputWrong:
                    raise  # a wrong answer stops the run: main() reports it and exits 1
                except (CommandFailed, RuntimeError) as exc:
                    msg = str(exc).strip().splitlines()
                    print(f"    FAILED {w.name} {name} r{r}: {msg[0] if msg else exc}", flush=True)
                    results.failures.append(
                        {
                            "workload": w.name,
                            "tool": name,
                            "repeat": r,
                            "error": "\n".join(msg[-15:]),
                        }
                    )
                    results.save()
        results.save()
        if a.clean:
            shutil.rmtree(pristine.parent)

    records = results.records()
    how = meta["command"]
    a.out_md.parent.mkdir(parents=True, exist_ok=True)
    a.out_md.write_text(
        report.render(meta, results.workloads, records, results.runs, how, results.failures)
    )
    print(f"\ndone in {time.perf_counter() - started:.0f} s; wrote {a.out_json} and {a.out_md}")
    for f in report.check_floors(report.medians(records)):
        print(
            f"  {f['status']:12} {f['floor']}"
            + (f"  ({f['shown']})" if f["ratio"] is not None else "")
        )
    if results.failures:
        print(f"\n{len(results.failures)} run(s) failed (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
