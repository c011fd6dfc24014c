"""docs/benchmarks.md sections rendered from the JSON of the scripts that write no Markdown
(bench/catalog_bench.py, bench/million_files.py, bench/web_bench.py, ...), with their floor rows
for the summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import provenance


def catalog_section(path: Path) -> tuple[str, list[tuple[str, str, str]]]:
    data = json.loads(path.read_text())
    w, res = data["workload"], data["results"]
    names = {
        "search": "search `{query}` ({matches} matches)",
        "lineage_up_5": "lineage, upstream, 5 levels",
        "lineage_both_5": "lineage, both directions, 5 levels",
        "register_many": "`register_many` of {entities:,} versions",
    }
    lines = [
        f"## Catalog at lab scale (`bench/catalog_bench.py`, run of {data['when'].replace('T', ' ')})",
        "",
        f"Workload per backend: {w['runs']:,} runs, {w['dataset_and_model_versions']:,} dataset and model versions, "
        f"{w['metrics']:,} metrics, {w['params']:,} params, {w['tags']:,} tags, {w['edges']:,} lineage edges "
        "(bulk-loaded, then ANALYZEd). Medians of repeated calls through `labvault.api`. Raw figures: "
        "`bench/results/catalog.json`. Source: "
        f"{provenance.describe(data.get('provenance'))}.",
        "",
        "| measurement | SQLite | PostgreSQL 15 | floor | |",
        "|---|---|---|---|---|",
    ]
    rows = []
    for key, label in names.items():
        s, p = res["sqlite"][key], res["postgresql"][key]
        text = label.format(**s)
        ok = s.get("ok") and p.get("ok")
        ms = lambda v: f"{v / 1000:.1f} s" if v >= 1000 else f"{v:.1f} ms"  # noqa: E731
        lines.append(f"| {text} | {ms(s['ms'])} | {ms(p['ms'])} | {ms(s['floor_ms'])} | **{'PASS' if ok else 'FAIL'}** |")
        rows.append((f"{text}: <= {ms(s['floor_ms'])}", f"{ms(s['ms'])} / {ms(p['ms'])}", "PASS" if ok else "FAIL"))
    extra = [(k, v) for k, v in res["sqlite"].items() if k.startswith("search_runs")]
    if extra:
        lines += ["", "Not floors (SQLite / PostgreSQL):", ""]
        for k, v in extra:
            lines.append(f"- `{v['query']}` over the runs: {v['ms']:.0f} ms / {res['postgresql'][k]['ms']:.0f} ms")
    return "\n".join(lines) + "\n", rows


def million_section(path: Path) -> tuple[str, list[tuple[str, str, str]]]:
    data = json.loads(path.read_text())
    n = data["files"]
    lines = [
        f"## Memory at {n:,} files (`bench/million_files.py`)",
        "",
        f"One folder of {n:,} files of 1..64 bytes (1,000 per sub-folder, seed {data['seed']}); each command a "
        "fresh process, peak RSS from GNU time. The core issue asks that a million tracked files fit in well "
        "under 1 GB. labvault only: dvc at this size takes far longer than the figure is worth. Run of "
        f"{data['meta'].get('date', '?')}; source: {provenance.describe(data['meta'].get('provenance'))}.",
        "",
        "| command | time | peak RSS | per file |",
        "|---|---|---|---|",
    ]
    worst = 0
    for r in data["rows"]:
        worst = max(worst, r["maxrss_kib"])
        lines.append(f"| {r['op']} | {r['seconds']:.1f} s | {r['maxrss_kib'] / 1024:.0f} MiB | {r['bytes_per_file']:.0f} bytes |")
    ok = worst * 1024 < 700 * (1 << 20) and n >= 1_000_000
    verdict = ("PASS" if ok else "FAIL") if n >= 1_000_000 else "NOT MEASURED"
    return "\n".join(lines) + "\n", [(f"{n:,} tracked files: peak memory well under 1 GB (here: < 700 MiB)",
                                      f"{worst / 1024:.0f} MiB at most", verdict)]


def backup_section(path: Path) -> tuple[str, list[tuple[str, str, str]]]:
    """bench/backup_bench.py: backups against restic, checksum files against md5sum -c."""
    data = json.loads(path.read_text())
    meta = data["meta"]
    lines = [
        "## Backups and checksum files (`bench/backup_bench.py`)",
        "",
        "W2 (50,000 small files): labvault's own engine to a folder target against restic to a local "
        "repository (password from a file), each on its own copy of the source, target and caches; first "
        "backup, a backup of the unchanged tree (target growth measured here), one changed file, restore of "
        "the last snapshot (checked byte for byte). `checksums check` against `md5sum -c` on W2 and W1, "
        f"plain outputs compared, injected corruption caught by both. Medians of {meta.get('repeats')}; "
        f"caches {meta.get('caches')}; {meta.get('restic')}. Source: {provenance.describe(meta.get('provenance'))}.",
        "",
        "| measurement | labvault wall | labvault CPU | reference wall | reference CPU |",
        "|---|---|---|---|---|",
    ]
    med: dict[tuple[str, str], list[dict]] = {}
    for r in data["records"]:
        med.setdefault((r["tool"], r["op"]), []).append(r)

    def mid(rows: list[dict], key: str) -> float:
        vals = sorted(float(r[key]) for r in rows)
        return vals[len(vals) // 2] if len(vals) % 2 else (vals[len(vals) // 2 - 1] + vals[len(vals) // 2]) / 2

    for op in ("first", "unchanged", "changed", "restore"):
        lv, rs = med.get(("labvault", op)), med.get(("restic", op))
        if lv and rs:
            lines.append(f"| backup {op} (restic) | {mid(lv, 'seconds'):.2f} s | {mid(lv, 'cpu_seconds'):.2f} s | "
                         f"{mid(rs, 'seconds'):.2f} s | {mid(rs, 'cpu_seconds'):.2f} s |")
    for name, c in data.get("checksums", {}).items():
        lines.append(f"| checksums check {name} (md5sum -c) | {c['median']['labvault']:.2f} s | "
                     f"{c['median_cpu']['labvault']:.2f} s | {c['median']['md5sum']:.2f} s | {c['median_cpu']['md5sum']:.2f} s |")
    lines += ["", "| floor | result | |", "|---|---|---|"]
    rows = []
    for f in data["floors"]:
        shown = f.get("shown", "")
        lines.append(f"| {f['floor']} | {shown or '-'} | **{f['status']}** |")
        rows.append((f["floor"], shown or "-", f["status"]))
    return "\n".join(lines) + "\n", rows


def _s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def lifecycle_section(path: Path) -> tuple[str, list[tuple[str, str, str]]]:
    """bench/lifecycle_bench.py: plan at 1M objects, plan vs the guide's scan, apply vs cp -a + rm -r."""
    data = json.loads(path.read_text())
    res, ok = data["results"], data["pass"]
    cat, disk, app = res["catalog"], res["disk"], res["apply"]
    verdict = {k: "PASS" if v else "FAIL" for k, v in ok.items()}
    lines = [
        f"## Lifecycle (`bench/lifecycle_bench.py`, run of {data['when'].replace('T', ' ')})",
        "",
        "Each command a fresh process under GNU time, median of 3, page cache warm; CPU time beside wall time "
        f"(the machine may be shared). Source: {provenance.describe(data.get('provenance'))}.",
        "",
        "| measurement | labvault | reference | floor | |",
        "|---|---|---|---|---|",
        f"| `lifecycle plan`, {cat['objects']:,} objects in {cat['units']:,} datasets ({cat['moves']:,} moves) | "
        f"{_s(cat['command']['seconds'])} (CPU {_s(cat['command']['cpu_seconds'])}), "
        f"{cat['command']['peak_rss_mib']:.0f} MiB | planner alone {_s(cat['plan_seconds'])} | 3 s, 400 MiB | "
        f"**{'PASS' if ok['plan_seconds'] and ok['peak_rss'] else 'FAIL'}** |",
        f"| `lifecycle plan` (scan included) on {disk['files']:,} files in {disk['units']:,} units | "
        f"{_s(disk['plan']['seconds'])} (CPU {_s(disk['plan']['cpu_seconds'])}) | guide's scan "
        f"{_s(disk['guide']['seconds'])} (CPU {_s(disk['guide']['cpu_seconds'])}): {disk['speedup']}x | 5x faster | "
        f"**{verdict['speedup']}** |",
        f"| `lifecycle apply` of {app['files']:,} files to another file system, verified | "
        f"{_s(app['apply']['seconds'])} (CPU {_s(app['apply']['cpu_seconds'])}) | `cp -a` + `rm -r` "
        f"{_s(app['baseline']['seconds'])}: {app['speed_ratio']}x its speed | 0.7x | **{verdict['apply_ratio']}** |",
    ]
    rows = [(f"lifecycle plan over {cat['objects']:,} objects: <= 3 s, <= 400 MiB",
             f"{_s(cat['command']['seconds'])}, {cat['command']['peak_rss_mib']:.0f} MiB",
             "PASS" if ok["plan_seconds"] and ok["peak_rss"] else "FAIL"),
            (f"lifecycle plan on {disk['files']:,} files: >= 5x the guide's scan", f"{disk['speedup']}x",
             verdict["speedup"]),
            ("lifecycle apply across file systems: >= 0.7x cp -a + rm -r", f"{app['speed_ratio']}x",
             verdict["apply_ratio"])]
    return "\n".join(lines) + "\n", rows


def monitor_section(path: Path) -> tuple[str, list[tuple[str, str, str]]]:
    """bench/monitor_bench.py: monitor --json at 1M objects, the cost of recording a read."""
    data = json.loads(path.read_text())
    f, floors = data["figures"], data["floors"]
    v = {k: "PASS" if str(text).startswith("meets") else "FAIL" for k, text in floors.items()}
    lines = [
        f"## Monitor (`bench/monitor_bench.py`, {data['objects']:,} objects in {data['units']:,} units)",
        "",
        f"Source: {provenance.describe(data.get('provenance'))}.",
        "",
        "| measurement | result | floor | |",
        "|---|---|---|---|",
        f"| `monitor --json` (command) | {f['monitor_command_ms']:.0f} ms (CPU {f['monitor_command_cpu_ms']:.0f} ms), "
        f"{f['monitor_command_peak_rss_mib']:.0f} MiB; in-process {f['monitor_json_ms']:.0f} ms | 200 ms | "
        f"**{v['monitor_command_ms']}** |",
        f"| recording a read | {f['record_us']:.2f} us = {f['record_vs_1mib_read_percent']:.2f}% of a 1 MiB read "
        f"({f['read_1mib_us']:.0f} us) | 5% | **{v['record_vs_1mib_read_percent']}** |",
    ]
    rows = [(f"monitor --json at {data['objects']:,} objects: <= 200 ms", f"{f['monitor_command_ms']:.0f} ms",
             v["monitor_command_ms"]),
            ("recording a read: <= 5% of a 1 MiB read", f"{f['record_vs_1mib_read_percent']:.2f}%",
             v["record_vs_1mib_read_percent"])]
    return "\n".join(lines) + "\n", rows


def web_section(path: Path) -> tuple[str, list[tuple[str, str, str]]]:
    """bench/web_bench.py: the JSON API and pages through the real server, both backends."""
    data = json.loads(path.read_text())
    w, res = data["workload"], data["results"]
    backends = [b for b in ("sqlite", "postgresql") if b in res]
    lines = [
        f"## Dashboard at lab scale (`bench/web_bench.py`, run of {data['when'].replace('T', ' ')})",
        "",
        f"Workload per backend: {w['runs']:,} runs in {w['experiments']:,} experiments, {w['datasets']:,} datasets, "
        f"{w['model_versions']:,} model versions of {w['models']:,} models, {w['edges']:,} lineage edges. "
        "`labvault serve` in a subprocess, a viewer's API token, keep-alive connections; every response "
        "checked (status, full pages, filters, cursors leading on). Source: "
        f"{provenance.describe(data.get('provenance'))}.",
        "",
        "| measurement | " + " | ".join(backends) + " |",
        "|---|" + "---|" * len(backends),
    ]
    for key in res[backends[0]]["lists"]:
        v = res[backends[0]]["lists"][key]
        cells = " | ".join(f"{res[b]['lists'][key]['p95_ms']:.1f} ms" for b in backends)
        lines.append(f"| p95 `{v['path']}`, {v['clients']} client(s) | {cells} |")
    lines.append("| p95 lineage neighbourhood (depth 3, at most 500 nodes) | "
                 + " | ".join(f"{res[b]['lineage']['p95_ms']:.1f} ms" for b in backends) + " |")
    lines.append("| first page against the whole list of datasets | "
                 + " | ".join(f"{res[b]['whole_list']['speedup']}x" for b in backends) + " |")
    lines.append("| 529-node lineage page interactive (chromium) | "
                 + " | ".join(f"{res[b]['browser']['lineage_page']['interactive_s']:.2f} s" for b in backends) + " |")
    lines.append("| largest first load of a page | "
                 + " | ".join(f"{max(p['kib'] for p in res[b]['browser']['pages'].values()):.0f} KiB"
                              for b in backends) + " |")

    def worst(fn: Any) -> str:
        return " / ".join(fn(res[b]) for b in backends)

    def verdict(key: str) -> str:
        return "PASS" if all(res[b]["pass"][key] for b in backends) else "FAIL"

    rows = [
        ("list and filter endpoints: p95 <= 50 ms (goal 10 ms, 4 clients)",
         worst(lambda r: f"{max(v['p95_ms'] for v in r['lists'].values()):.1f} ms"), verdict("list_p95_ms")),
        ("lineage neighbourhood: p95 <= 50 ms", worst(lambda r: f"{r['lineage']['p95_ms']:.1f} ms"),
         verdict("lineage_p95_ms")),
        ("first page >= 20x faster than the whole list", worst(lambda r: f"{r['whole_list']['speedup']}x"),
         verdict("first_page_speedup")),
        ("500-node lineage page interactive <= 3 s",
         worst(lambda r: f"{r['browser']['lineage_page']['interactive_s']:.2f} s"), verdict("lineage_page_s")),
        ("every page's first load <= 500 KiB",
         worst(lambda r: f"{max(p['kib'] for p in r['browser']['pages'].values()):.0f} KiB"), verdict("first_load_kib")),
    ]
    lines += ["", "| floor | result | |", "|---|---|---|"]
    lines += [f"| {f} | {r} | **{v}** |" for f, r, v in rows]
    return "\n".join(lines) + "\n", rows
