"""Pipelines benchmark: labvault repro / status against dvc, side by side in one run.

* P100: a generated pipeline of 100 stages; stage ``sNNN`` depends on the folder ``data/dNNN``
  (500 files of 1..8 KiB each: 50,000 files in all, the W2 generator of the core suite), on
  ``stage.py`` and, except the first, on the output of stage ``(NNN-1)//2``: a binary-tree DAG
  seven levels deep. Each stage reads every file of its folder and writes a small ``out/sNNN.txt``.
  Each tool gets its own copy, runs ``repro`` once to populate dvc.lock (untimed), then, timed:
  ``repro`` with nothing changed and ``status`` with nothing changed (page cache dropped before
  each when allowed; ``*_warm`` rows keep it). After every no-op command the benchmark checks that
  dvc.lock and the outputs were left untouched.
* PAR20: 20 independent stages, each ``sleep 1`` then a tiny output. labvault ``repro -f -j 1``
  against ``repro -f -j 2`` (``-f`` forces every stage to run).

    .venv/bin/python bench/pipelines_bench.py --quick   # smoke run: 20 stages over 1,000 files; 8 sleepers
    .venv/bin/python bench/pipelines_bench.py           # full: 100 stages / 50,000 files; 20 sleepers; 3 repeats

Raw results: bench/results/pipelines.json; Markdown section: bench/results/pipelines.md.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import checks  # noqa: E402
import machine  # noqa: E402
import notes  # noqa: E402
import provenance  # noqa: E402
from checks import OutputWrong, check_clean  # noqa: E402
from extra_common import fmt_s, fresh_dir, src_snapshot, write_json_atomic  # noqa: E402
from measure import CachePolicy, CommandFailed, Measurement, run_timed, run_untimed  # noqa: E402
from tools import Tool, all_tools  # noqa: E402
from workloads import ensure, tree_workload  # noqa: E402

NAME = "pipelines"
STAGE_SCRIPT = '''\
"""One benchmark stage: digest every file of a folder (and an upstream output) into a small file."""
import hashlib, os, sys

folder, out, *ups = sys.argv[1:]
h = hashlib.md5()
n = 0
for name in sorted(os.listdir(folder)):
    with open(os.path.join(folder, name), "rb") as f:
        h.update(f.read())
    n += 1
for up in ups:
    with open(up, "rb") as f:
        h.update(f.read())
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    f.write(f"{n} {h.hexdigest()}\\n")
'''
OP_TITLES = {
    "repro_noop": "repro, nothing changed",
    "status_noop": "status, nothing changed",
    "repro_noop_warm": "repro, nothing changed, warm caches",
    "status_noop_warm": "status, nothing changed, warm caches",
    "repro_j1": "`labvault repro -f -j 1`",
    "repro_j2": "`labvault repro -f -j 2`",
}


# ------------------------------------------------------------------------------------ generation


def dag_yaml(nstages: int) -> str:
    lines = ["stages:"]
    for i in range(nstages):
        ups = [f"out/s{(i - 1) // 2:03d}.txt"] if i else []
        cmd = " ".join(["python3 stage.py", f"data/d{i:03d}", f"out/s{i:03d}.txt", *ups])
        lines += [
            f"  s{i:03d}:",
            f"    cmd: {cmd}",
            "    deps:",
            "    - stage.py",
            f"    - data/d{i:03d}",
        ]
        lines += [f"    - {u}" for u in ups]
        lines += ["    outs:", f"    - out/s{i:03d}.txt"]
    return "\n".join(lines) + "\n"


def sleepers_yaml(nstages: int) -> str:
    lines = ["stages:"]
    for i in range(nstages):
        lines += [
            f"  p{i:02d}:",
            f"    cmd: mkdir -p out && sleep 1 && echo {i} > out/p{i:02d}.txt",
            "    outs:",
            f"    - out/p{i:02d}.txt",
        ]
    return "\n".join(lines) + "\n"


def state_digest(repo: Path) -> str:
    """dvc.lock's bytes plus every output's name, size and mtime: a no-op must leave it unchanged."""
    h = hashlib.md5((repo / "dvc.lock").read_bytes())
    for p in sorted((repo / "out").iterdir()):
        st = p.stat()
        h.update(f"{p.name} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()


# ------------------------------------------------------------------------------------ results


class Results:
    def __init__(self, path: Path, meta: dict) -> None:
        self.path, self.meta = path, meta
        self.workloads: dict[str, str] = {}
        self.records: list[dict] = []
        self.failures: list[dict] = []

    def add(self, wl: str, subject: str, op: str, repeat: int, m: Measurement) -> None:
        self.records.append(
            {
                "workload": wl,
                "subject": subject,
                "op": op,
                "repeat": repeat,
                "seconds": m.seconds,
                "maxrss_kib": m.maxrss_kib,
                "writeback_seconds": m.writeback_seconds,
            }
        )
        self.save()
        print(
            f"    {wl:6} {subject:9} {op:17} r{repeat} {m.seconds:9.3f} s   peak {m.maxrss_kib / 1024:6.0f} MiB",
            flush=True,
        )

    def save(self) -> None:
        data = {
            "meta": self.meta,
            "workloads": self.workloads,
            "records": self.records,
            "failures": self.failures,
            "floors": check_floors(medians(self.records), self.workloads),
        }
        write_json_atomic(self.path, data)


def medians(records: list[dict]) -> dict[tuple[str, str, str], dict]:
    groups: dict[tuple[str, str, str], list[dict]] = collections.defaultdict(list)
    for r in records:
        groups[(r["workload"], r["subject"], r["op"])].append(r)
    return {
        k: {
            "seconds": statistics.median(r["seconds"] for r in rs),
            "min": min(r["seconds"] for r in rs),
            "max": max(r["seconds"] for r in rs),
            "n": len(rs),
            "maxrss_kib": statistics.median(r["maxrss_kib"] for r in rs),
        }
        for k, rs in groups.items()
    }


def floor_specs(workloads: dict[str, str]) -> list[tuple[str, str, str, str, float, str]]:
    dag = next((w for w in workloads if w.startswith("P")), "P100")
    par = next((w for w in workloads if w.startswith("PAR")), "PAR20")
    return [
        (
            dag,
            "repro_noop",
            "dvc",
            "repro_noop",
            5.0,
            f"{dag} repro, nothing changed: >= 5x faster than dvc repro",
        ),
        (
            dag,
            "status_noop",
            "dvc",
            "status_noop",
            5.0,
            f"{dag} status, nothing changed: >= 5x faster than dvc status",
        ),
        (
            par,
            "repro_j2",
            "labvault",
            "repro_j1",
            1.8,
            f"{par} `labvault repro -j 2` >= 1.8x faster than `labvault repro -j 1`",
        ),
    ]


def check_floors(meds: dict, workloads: dict[str, str]) -> list[dict]:
    out = []
    for wl, op, ref_subj, ref_op, limit, text in floor_specs(workloads):
        lv, ref = meds.get((wl, "labvault", op)), meds.get((wl, ref_subj, ref_op))
        rec = {
            "floor": text,
            "labvault": lv and lv["seconds"],
            "reference": ref and ref["seconds"],
            "ratio": None,
            "status": "NOT MEASURED",
            "shown": "not measured",
        }
        if lv and ref and lv["seconds"] > 0:
            ratio = ref["seconds"] / lv["seconds"]
            rec.update(
                ratio=ratio,
                status="PASS" if ratio >= limit else "FAIL",
                shown=f"{ratio:.2f}x faster",
            )
        out.append(rec)
    return out


def render(res: Results, quick: bool) -> str:
    meds = medians(res.records)
    meta = res.meta
    title = "## Pipelines: repro and status" + (
        " (QUICK smoke run: small workloads, not the floors' sizes)" if quick else ""
    )
    lines = [
        title,
        "",
        f"labvault and dvc side by side in one run ({meta['date']}); times are medians of "
        f"{meta['repeats']} runs (min..max).",
        "",
        "### Floors",
        "",
        "| floor | result | labvault | reference | |",
        "|---|---|---|---|---|",
    ]
    for f in check_floors(meds, res.workloads):
        lv = fmt_s(f["labvault"]) if f["labvault"] is not None else ""
        ref = fmt_s(f["reference"]) if f["reference"] is not None else ""
        lines.append(f"| {f['floor']} | {f['shown']} | {lv} | {ref} | **{f['status']}** |")
    lines += ["", "### Workloads", ""] + [f"- {wl}: {d}" for wl, d in res.workloads.items()]
    for wl in res.workloads:
        rows = [(op, meds.get((wl, "labvault", op)), meds.get((wl, "dvc", op))) for op in OP_TITLES]
        rows = [r for r in rows if r[1] or r[2]]
        if not rows:
            continue
        lines += [
            "",
            f"### {wl}: measurements",
            "",
            "| operation | labvault | dvc | dvc / labvault | labvault peak RSS | dvc peak RSS |",
            "|---|---|---|---|---|---|",
        ]
        for op, lv, dv in rows:

            def cell(m: dict | None) -> str:
                return f"{fmt_s(m['seconds'])} ({fmt_s(m['min'])}..{fmt_s(m['max'])})" if m else ""

            ratio = f"**{dv['seconds'] / lv['seconds']:.1f}x**" if lv and dv else ""
            rss = [f"{m['maxrss_kib'] / 1024:.0f} MiB" if m else "" for m in (lv, dv)]
            lines.append(
                f"| {OP_TITLES[op]} | {cell(lv)} | {cell(dv)} | {ratio} | {rss[0]} | {rss[1]} |"
            )
    shown = [op for op in OP_TITLES if any(k[2] == op for k in meds)]
    lines += ["", *notes.table(notes.PIPELINES, OP_TITLES, shown)]
    setup = [r for r in res.meta.get("setup", [])]
    if setup:
        lines += ["", "Untimed setup, once per tool: " + "; ".join(setup) + "."]
    if res.failures:
        lines += ["", "### Failures", ""]
        lines += [
            f"- {f['workload']} {f['tool']} r{f['repeat']}: `{f['error'].splitlines()[0][:200]}`"
            for f in res.failures
        ]
    lines += ["", "### Machine and method", ""]
    lines += [
        f"- {k}: {v}" for k, v in meta.items() if k not in ("command", "setup", "provenance")
    ]
    lines.append(f"- source: {provenance.describe(meta.get('provenance'))}")
    lines += [
        "",
        "Method: each tool works in its own git repo holding a copy of the data, `dvc.yaml` and "
        "`stage.py` (dvc also gets `core.analytics false`, `core.check_update false` and its own "
        "`DVC_SITE_CACHE_DIR`), populated by one untimed `repro`. The no-op commands then run in that "
        "repo, tool order alternating between repeats; after each, dvc.lock and the outputs' mtimes are "
        "checked unchanged. Timing: wall time around the child process, peak RSS from GNU time; before "
        "every timed command dirty pages are flushed and, when allowed, the page cache dropped (not for "
        "`*_warm` rows). The sleepers run in their own repo, forced with `-f`, `-j 1` and `-j 2` "
        "alternating first.",
        "",
        f"Run: `{meta['command']}`. Raw data: `bench/results/{NAME}.json`.",
    ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ scenarios


def make_repo(tool: Tool, repo: Path, yaml: str, log: Path, data: Path | None) -> dict[str, str]:
    fresh_dir(repo).mkdir(parents=True)
    env = tool.env(repo)
    run_untimed(["git", "init", "-q"], repo, log, env)
    run_untimed([str(tool.exe), "init"], repo, log, env)
    for extra in tool.init_extra:
        run_untimed([str(tool.exe), *extra], repo, log, env)
    (repo / "dvc.yaml").write_text(yaml)
    (repo / "stage.py").write_text(STAGE_SCRIPT)
    (repo / ".gitignore").write_text("/data/\n")
    if data is not None:
        run_untimed(["cp", "-r", str(data), str(repo / "data")], repo, log)
    run_untimed(["git", "add", "-A"], repo, log, env)
    run_untimed(["git", "commit", "-q", "-m", "pipeline"], repo, log, env)
    return env


def main(argv: list[str] | None = None) -> int:
    return checks.run_checked(_main, argv)


def _main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--quick", action="store_true", help="smoke run: 20 stages over 1,000 files; 8 sleepers"
    )
    p.add_argument(
        "--stages", type=int, default=None, help="stages of the DAG pipeline (default 100)"
    )
    p.add_argument(
        "--files", type=int, default=None, help="files over all stage folders (default 50000)"
    )
    p.add_argument(
        "--sleepers", type=int, default=None, help="independent `sleep 1` stages (default 20)"
    )
    p.add_argument("--parts", default="dag,par", help="comma-separated subset of dag,par")
    p.add_argument("--tools", default="labvault,dvc")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--work", type=Path, default=BENCH / "work" / "extra")
    p.add_argument("--no-drop-caches", action="store_true")
    p.add_argument("--out", type=Path, default=BENCH / "results")
    a = p.parse_args(argv)
    a.stages = a.stages or (20 if a.quick else 100)
    a.files = a.files or (1000 if a.quick else 50_000)
    a.sleepers = a.sleepers or (8 if a.quick else 20)
    parts = set(a.parts.split(","))

    tools = {n: t for n, t in all_tools().items() if n in a.tools.split(",") and t.available()}
    a.work.mkdir(parents=True, exist_ok=True)
    caches = CachePolicy(want_drop=not a.no_drop_caches)
    meta = machine.describe(
        a.work, {n: t.version() for n, t in all_tools().items() if t.available()}
    )
    meta |= src_snapshot()
    meta |= {
        "caches": caches.describe(),
        "repeats": str(a.repeats),
        "seed": str(a.seed),
        "command": "python bench/pipelines_bench.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "setup": [],
    }
    res = Results(a.out / f"{NAME}.json", meta)
    print("labvault pipelines benchmark")
    for k, v in meta.items():
        if k != "setup":
            print(f"  {k}: {v}")
    log = a.work / f"{NAME}-commands.log"
    log.write_text("")
    print(f"  command output: {log}", flush=True)
    runs = a.work / "runs"
    started = time.perf_counter()

    if "dag" in parts:
        # Same generator and seed as the core suite's W2: with the defaults, the same 50,000 files.
        w0 = tree_workload("W2", a.files, a.seed + 1, ndirs=a.stages)
        pristine_root = a.work / "pristine" / ("quick" if a.quick else "full")
        t = time.perf_counter()
        w, data = ensure(w0, pristine_root)
        wl = f"P{a.stages}"
        res.workloads[wl] = (
            f"{a.stages} stages in a binary-tree DAG (depth {a.stages.bit_length()}), stage i "
            f"depending on `data/d<i>` and on stage (i-1)//2's output; the folders: "
            f"{w.description.split(': ', 1)[1]}"
        )
        print(
            f"\nworkload {wl}: {res.workloads[wl]}  [ready in {time.perf_counter() - t:.1f} s]",
            flush=True,
        )
        repos: dict[str, tuple[Path, dict[str, str], str]] = {}
        for name, tool in tools.items():
            repo = runs / f"{name}-{wl}"
            env = make_repo(tool, repo, dag_yaml(a.stages), log, data)
            t = time.perf_counter()
            run_untimed([str(tool.exe), "repro"], repo, log, env)
            took = time.perf_counter() - t
            meta["setup"].append(f"{name} first `repro` of {wl} {took:.1f} s")
            print(
                f"  {name}: first repro (populates dvc.lock, untimed) took {took:.1f} s", flush=True
            )
            repos[name] = (repo, env, state_digest(repo))
        names = list(tools)
        for r in range(1, a.repeats + 1):
            for name in names if r % 2 else list(reversed(names)):
                repo, env, digest = repos[name]
                tool = tools[name]
                try:
                    for op, argv_op, warm in (
                        ("status_noop", "status", False),
                        ("repro_noop", "repro", False),
                        ("status_noop_warm", "status", True),
                        ("repro_noop_warm", "repro", True),
                    ):
                        m = run_timed(
                            [str(tool.exe), argv_op], repo, log, env, None if warm else caches
                        )
                        if state_digest(repo) != digest:
                            raise OutputWrong(
                                f"{name} {argv_op} changed dvc.lock or an output: not a no-op"
                            )
                        if argv_op == "status":
                            check_clean(m.output, f"{name} {wl} r{r} {op}")
                        elif "running stage" in m.output.lower():
                            raise OutputWrong(f"{name} {wl} r{r} repro ran a stage: not a no-op")
                        res.add(wl, name, op, r, m)
                except OutputWrong:
                    raise  # a wrong result stops the run: main() reports it and exits 1
                except (CommandFailed, RuntimeError) as exc:
                    msg = str(exc).strip().splitlines() or [repr(exc)]
                    print(f"    FAILED {wl} {name} r{r}: {msg[0]}", flush=True)
                    res.failures.append(
                        {"workload": wl, "tool": name, "repeat": r, "error": "\n".join(msg[-15:])}
                    )
                    res.save()
        for repo, _, _ in repos.values():
            fresh_dir(repo)

    if "par" in parts and "labvault" in tools:
        wl = f"PAR{a.sleepers}"
        res.workloads[wl] = (
            f"{a.sleepers} independent stages, each `sleep 1` then a one-line output"
        )
        print(f"\nworkload {wl}: {res.workloads[wl]}", flush=True)
        tool = tools["labvault"]
        repo = runs / f"labvault-{wl}"
        env = make_repo(tool, repo, sleepers_yaml(a.sleepers), log, None)
        run_untimed([str(tool.exe), "repro", "-j", "2"], repo, log, env)
        for r in range(1, a.repeats + 1):
            for jobs in (1, 2) if r % 2 else (2, 1):
                try:
                    before = time.time_ns()
                    m = run_timed(
                        [str(tool.exe), "repro", "-f", "-j", str(jobs)], repo, log, env, caches
                    )
                    # The outputs only: the .gitignore beside them is written once, not by each run.
                    outs = [p for p in sorted((repo / "out").iterdir()) if p.name != ".gitignore"]
                    stale = [p.name for p in outs if p.stat().st_mtime_ns < before]
                    if stale or len(outs) != a.sleepers:
                        raise OutputWrong(f"repro -f -j {jobs} did not rewrite every output: {stale[:3]}")
                    if jobs == 1 and m.seconds < a.sleepers:
                        raise OutputWrong(
                            f"repro -f -j 1 took {m.seconds:.1f} s < {a.sleepers} sleeps: not run?"
                        )
                    res.add(wl, "labvault", f"repro_j{jobs}", r, m)
                except OutputWrong:
                    raise
                except (CommandFailed, RuntimeError) as exc:
                    msg = str(exc).strip().splitlines() or [repr(exc)]
                    print(f"    FAILED {wl} j{jobs} r{r}: {msg[0]}", flush=True)
                    res.failures.append(
                        {
                            "workload": wl,
                            "tool": "labvault",
                            "repeat": r,
                            "error": "\n".join(msg[-15:]),
                        }
                    )
        fresh_dir(repo)

    res.save()
    md = a.out / f"{NAME}.md"
    md.write_text(render(res, a.quick))
    print(f"\ndone in {time.perf_counter() - started:.0f} s; wrote {res.path} and {md}")
    meds = medians(res.records)
    print("\nmedians:")
    for (wl, subj, op), m in sorted(meds.items()):
        print(f"  {wl:6} {subj:9} {op:17} {m['seconds']:9.3f} s  (n={m['n']})")
    print("\nfloors:")
    for f in check_floors(meds, res.workloads):
        print(f"  {f['status']:12} {f['floor']}  ({f['shown']})")
    if res.failures:
        print(f"\n{len(res.failures)} run(s) failed (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
