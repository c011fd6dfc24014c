"""Turns raw measurements into medians, floor checks and the Markdown report."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

import notes
import provenance

OP_TITLES = {
    "add": "add (fresh)",
    "add_warm": "add (fresh), file in the page cache",
    "status_noop": "status, nothing changed",
    "status_noop_warm": "status, nothing changed, warm caches",
    "status_changed": "status after changing one file",
    "readd": "add after changing one file",
    "checkout": "checkout after deleting the workspace copy",
}
BASELINE_FOR = {
    "cp_r": "checkout",
    "bare_loop": "add",
    "md5sum_tree": "add",
    "md5sum": "add",
    "md5sum_warm": "add_warm",
    "cp": "checkout",
    "walk_stat": "status_noop",
}
BASELINE_TITLES = {
    "cp_r": "`cp -r` of the folder",
    "bare_loop": "Python loop: read + md5 + write into `XX/rest` fan-out, 1 thread",
    "md5sum_tree": "`find | xargs md5sum` (C speed, hash only)",
    "walk_stat": "Python walk + `stat` of every file, one thread (a no-op status's listing, done plainly)",
    "md5sum": "`md5sum` of the file",
    "md5sum_warm": "`md5sum` of the file, in the page cache",
    "cp": "`cp` of the file",
}


@dataclass(frozen=True)
class Floor:
    """A performance floor: labvault's time against a reference (dvc or a baseline)."""

    workload: str
    op: str
    reference: tuple[str, str]  # (subject, op)
    kind: str  # "faster" (ref/lv >= limit) or "within" (lv/ref <= limit)
    limit: float
    info: bool = False  # not one of the required floors; shown for context

    def text(self) -> str:
        subj, op = self.reference
        ref = f"dvc {OP_TITLES.get(op, op)}" if subj == "dvc" else BASELINE_TITLES.get(op, op)
        tag = " (informational)" if self.info else ""
        if self.kind == "faster":
            return (
                f"{self.workload} {OP_TITLES[self.op]}: >= {self.limit:g}x faster than {ref}{tag}"
            )
        return f"{self.workload} {OP_TITLES[self.op]}: <= {self.limit:g}x the time of {ref}{tag}"


FLOORS = (
    Floor("W2", "add", ("dvc", "add"), "faster", 2.0),
    Floor("W2", "add", ("baseline", "bare_loop"), "within", 1.5),
    Floor("W2", "status_noop", ("dvc", "status_noop"), "faster", 5.0),
    Floor("W2", "status_noop_warm", ("dvc", "status_noop_warm"), "faster", 5.0, info=True),
    Floor("W2", "status_changed", ("dvc", "status_changed"), "faster", 5.0),
    Floor("W2", "readd", ("dvc", "readd"), "faster", 5.0),
    Floor("W2", "checkout", ("dvc", "checkout"), "faster", 2.0),
    Floor("W2", "checkout", ("baseline", "cp_r"), "within", 1.5),
    Floor("W1", "add", ("dvc", "add"), "faster", 2.0),
    Floor("W1", "add", ("baseline", "md5sum"), "within", 1.3),
    Floor("W1", "add_warm", ("baseline", "md5sum_warm"), "within", 1.3),
)


def medians(records: list[dict]) -> dict[tuple[str, str, str], dict[str, float]]:
    """(workload, subject, op) -> median seconds / maxrss and number of runs."""
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for r in records:
        groups[(r["workload"], r["subject"], r["op"])].append(r)
    out = {}
    for key, rs in groups.items():
        secs = [r["seconds"] for r in rs]
        out[key] = {
            "seconds": statistics.median(secs),
            "min": min(secs),
            "max": max(secs),
            "n": len(rs),
            "maxrss_kib": statistics.median(r["maxrss_kib"] for r in rs),
            "writeback_seconds": statistics.median(r["writeback_seconds"] for r in rs),
            "files": rs[0]["files"],
            "bytes": rs[0]["bytes"],
        }
    return out


def check_floors(med: dict) -> list[dict]:
    results = []
    for f in FLOORS:
        lv = med.get((f.workload, "labvault", f.op))
        ref = med.get((f.workload, *f.reference))
        if lv is None or ref is None:
            results.append({"floor": f.text(), "status": "NOT MEASURED", "ratio": None})
            continue
        if f.kind == "faster":
            ratio = ref["seconds"] / lv["seconds"]
            ok = ratio >= f.limit
            shown = f"{ratio:.2f}x faster"
        else:
            ratio = lv["seconds"] / ref["seconds"]
            ok = ratio <= f.limit
            shown = f"{ratio:.2f}x the time"
        verdict = ("pass" if ok else "fail") if f.info else ("PASS" if ok else "FAIL")
        results.append(
            {
                "floor": f.text(),
                "status": verdict,
                "ratio": ratio,
                "shown": shown,
                "labvault_s": lv["seconds"],
                "reference_s": ref["seconds"],
            }
        )
    return results


def _t(s: float) -> str:
    if s >= 100:
        return f"{s:.0f} s"
    if s >= 1:
        return f"{s:.2f} s"
    return f"{s * 1000:.0f} ms"


def _mib(kib: float) -> str:
    return f"{kib / 1024:.0f} MiB"


def _cell(m: dict | None) -> str:
    if m is None:
        return "-"
    spread = f" ({_t(m['min'])}..{_t(m['max'])})" if m["n"] > 1 else ""
    return f"{_t(m['seconds'])}{spread}"


def render(
    meta: dict,
    workloads: dict[str, str],
    records: list[dict],
    runs: dict,
    how: str,
    failures: list[dict] | None = None,
) -> str:
    med = medians(records)
    floors = check_floors(med)
    lines: list[str] = ["# Benchmarks", ""]
    lines += [
        "labvault and dvc measured side by side in one run, on the same generated workloads, "
        "each operation in a fresh git repo. Times are medians of the repeats "
        "(min..max in parentheses); ratios are dvc time / labvault time "
        "(higher is better for labvault).",
        "",
        f"Regenerate with `{how}` (see *How to run* at the end).",
        *(["", f"**Note:** {meta['note']}"] if meta.get("note") else []),
        "",
        "## Floors",
        "",
        "| floor | result | labvault | reference | |",
        "|---|---|---|---|---|",
    ]
    for f in floors:
        if f["ratio"] is None:
            lines.append(f"| {f['floor']} | not measured | | | NOT MEASURED |")
        else:
            lines.append(
                f"| {f['floor']} | {f['shown']} | {_t(f['labvault_s'])} | {_t(f['reference_s'])} "
                f"| **{f['status']}** |"
            )
    lines += ["", "PASS/FAIL lines:", ""]
    for f in floors:
        lines.append(
            f"- {f['status']}: {f['floor']}"
            + (f" ({f['shown']})" if f["ratio"] is not None else "")
        )
    lines.append("")

    lines += ["## Workloads", ""]
    lines += [f"- {d}" for d in workloads.values()]
    lines.append("")

    lines += ["## Results", ""]
    for wname in workloads:
        ops = sorted(
            {op for (w, s, op) in med if w == wname and s != "baseline"},
            key=lambda o: list(OP_TITLES).index(o) if o in OP_TITLES else 99,
        )
        if not ops:
            continue
        lines += [
            f"### {workloads[wname]}",
            "",
            "| operation | labvault | dvc | dvc / labvault | labvault peak RSS | dvc peak RSS |",
            "|---|---|---|---|---|---|",
        ]
        for op in ops:
            lv, dv = med.get((wname, "labvault", op)), med.get((wname, "dvc", op))
            ratio = f"**{dv['seconds'] / lv['seconds']:.1f}x**" if lv and dv else "-"
            lines.append(
                f"| {OP_TITLES.get(op, op)} | {_cell(lv)} | {_cell(dv)} | {ratio} | "
                f"{_mib(lv['maxrss_kib']) if lv else '-'} | {_mib(dv['maxrss_kib']) if dv else '-'} |"
            )
        base = [(op, m) for (w, s, op), m in med.items() if w == wname and s == "baseline"]
        if base:
            lines += [
                "",
                "| baseline (same run, same page-cache policy) | time | peak RSS | compared with | "
                "labvault / baseline | dvc / baseline |",
                "|---|---|---|---|---|---|",
            ]
            for op, m in base:
                vs = BASELINE_FOR.get(op, "add")
                cells = []
                for tool in ("labvault", "dvc"):
                    t = med.get((wname, tool, vs))
                    cells.append(f"{t['seconds'] / m['seconds']:.2f}x" if t else "-")
                lines.append(
                    f"| {BASELINE_TITLES.get(op, op)} | {_cell(m)} | {_mib(m['maxrss_kib'])} | "
                    f"{vs} | {cells[0]} | {cells[1]} |"
                )
        lines += ["", *notes.table(notes.CORE, OP_TITLES, ops)]
        add_lines = []
        for tool in ("labvault", "dvc"):
            m = med.get((wname, tool, "add"))
            if m and m["files"] > 1:
                add_lines.append(
                    f"{tool} add: {m['files'] / m['seconds']:,.0f} files/s, "
                    f"{m['bytes'] / m['seconds'] / (1 << 20):,.0f} MiB/s"
                )
            elif m:
                add_lines.append(f"{tool} add: {m['bytes'] / m['seconds'] / (1 << 20):,.0f} MiB/s")
        if add_lines:
            lines += ["", "Throughput: " + "; ".join(add_lines) + "."]
        ws = med.get((wname, "baseline", "walk_stat"))
        if ws:
            parts = []
            for tool in ("labvault", "dvc"):
                m = med.get((wname, tool, "status_noop"))
                if m:
                    parts.append(f"{tool}'s no-op status took {m['seconds'] / ws['seconds']:.2f}x that")
            lines += [
                "",
                f"Reference, not a bound: one single-threaded Python walk that lists and stats every "
                f"file (the least a status must do, done the plainest way) took {_t(ws['seconds'])} here, "
                f"same page-cache policy{'; ' + '; '.join(parts) if parts else ''}. It bounds the time "
                "of a status that does its listing the same way, not the ratio between two tools: a "
                "status that spreads the listing and stats over more than one process (labvault's "
                "read-ahead helper, where it runs, walks from the far end) can take less than this walk, and dvc's "
                "time says nothing about how fast the listing can go.",
            ]
        wb = [
            f"{s} {op} {_t(m['writeback_seconds'])}"
            for (w, s, op), m in med.items()
            if w == wname and m["writeback_seconds"] >= 0.5
        ]
        if wb:
            lines += [
                "",
                "Write-back left behind (the untimed `sync` right after the command): "
                + ", ".join(wb)
                + ".",
            ]
        lines.append("")

    if failures:
        lines += [
            "## Failed runs",
            "",
            "These repeats stopped with an error; their other measurements are kept.",
            "",
        ]
        for f in failures:
            first = f["error"].splitlines()[0] if f["error"] else ""
            lines.append(f"- {f['workload']} {f['tool']} repeat {f['repeat']}: `{first[:200]}`")
        lines.append("")
    lines += _scaling(med, workloads)
    lines += _machine(meta, runs, records)
    return "\n".join(lines) + "\n"


def _scaling(med: dict, workloads: dict[str, str]) -> list[str]:
    series = sorted(
        {w for (w, s, op) in med if w.startswith("S") or w == "W2"},
        key=lambda w: next(m["files"] for (ww, s, op), m in med.items() if ww == w),
    )
    series = [w for w in series if any(k[0] == w and k[2] == "status_noop" for k in med)]
    if len(series) < 2:
        return []
    out = [
        "## Scaling: per-file cost",
        "",
        "Same file-size distribution (1..8 KiB, 500 files per folder); µs/file = median time / files.",
        "",
        "| files | tool | add | add µs/file | status (no-op) | status µs/file | status warm | warm µs/file |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for w in series:
        for tool in ("labvault", "dvc"):
            a, s, sw = (med.get((w, tool, op)) for op in ("add", "status_noop", "status_noop_warm"))
            if not a:
                continue
            n = a["files"]

            def us(m: dict | None, n: int = n) -> str:
                return f"{m['seconds'] / n * 1e6:.0f}" if m else "-"

            out.append(
                f"| {n:,} | {tool} | {_t(a['seconds'])} | {us(a)} | "
                f"{_t(s['seconds']) if s else '-'} | {us(s)} | {_t(sw['seconds']) if sw else '-'} | {us(sw)} |"
            )
    out.append("")
    return out


def _machine(meta: dict, runs: dict, records: list[dict]) -> list[str]:
    out = ["## Machine and method", ""]
    keys = (
        "date",
        "cpu",
        "nproc",
        "cpu_count",
        "memory",
        "filesystem",
        "disk_free",
        "kernel",
        "os",
        "python",
        "git",
        "labvault_version",
        "dvc_version",
    )
    out += [f"- {k}: {meta.get(k, 'unknown')}" for k in keys]
    out.append(f"- source: {provenance.describe(meta.get('provenance'))}")
    loads = sorted(r["load1"] for r in records if "load1" in r)
    if loads:
        out.append(
            f"- 1-minute load average right after each timed command: median {statistics.median(loads):.1f}, "
            f"max {loads[-1]:.1f} (on {meta.get('nproc')} CPUs; anything well above 1 means other work "
            "was competing with the benchmark)"
        )
    out += [
        f"- page cache: {meta.get('caches', 'unknown')}",
        f"- repeats: {meta.get('repeats')}; workload seed: {meta.get('seed')}",
        "",
    ]
    used = {r.get("run_id") for r in records}
    if len(used) > 1:
        out += ["Results merged from several runs on this machine:", ""]
        out += [
            f"- {rid}: {runs[rid].get('date')} `{runs[rid].get('command')}`"
            for rid in sorted(used)
            if rid in runs
        ]
        out.append("")
    out += [
        "Method: each tool works in its own fresh git repo (`git init`, `<tool> init`; dvc also gets "
        "`core.analytics false` and `core.check_update false`, and a per-repo `DVC_SITE_CACHE_DIR` so that "
        "repeats share no state). The workload is copied in untimed. Only the operation is timed: wall time "
        "with `time.perf_counter` around the child process (`Popen` + `os.wait4`). Before each timed command, tools and baselines alike, dirty pages are flushed (`sync`) "
        "and, when allowed, the page cache is dropped; the *warm* status rows skip the drop. Both tools use "
        "their default cache type (`reflink,copy`, which is `copy` on ext4). Tool order alternates between "
        "repeats. Peak memory comes from GNU time (`/usr/bin/time -f %M`), which reads the command's "
        "`ru_maxrss` with `wait4`; our own `os.wait4` value is not used because a child started from Python "
        "inherits the Python process's high-water mark at exec. After a checkout, the restored data is checked (file count and a sample of contents).",
        "",
        "## How to run",
        "",
        "```",
        "make bench                                 # full run: .venv/bin/python bench/run_all.py",
        ".venv/bin/python bench/run_all.py --quick  # small smoke run (bench/results/quick.*)",
        ".venv/bin/python bench/run_all.py --workloads W2 --ops add,status_noop --repeats 5",
        ".venv/bin/python bench/run_all.py --help",
        "```",
        "",
        "Raw measurements: `bench/results/latest.json`. Scratch data: `bench/work/` (not versioned).",
    ]
    return out
