"""Build docs/benchmarks.md from the latest results of every benchmark script.

Sections come from the Markdown each script renders (bench/results/core.md, remotes.md,
pipelines.md) and from the JSON of the others (catalog.json, million.json); the summary at the
top lists every floor of those sections with its result, read from their floor tables, so it
cannot disagree with them. Nothing is measured here.

    .venv/bin/python bench/assemble_docs.py            # writes docs/benchmarks.md
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
OUT = BENCH.parent / "docs" / "benchmarks.md"

# A floor row: | floor | result | labvault | reference | **PASS** |
_ROW = re.compile(r"^\| (?P<floor>[^|]+) \| (?P<result>[^|]+) \|[^|]*\|[^|]*\| \*\*(?P<verdict>PASS|FAIL|NOT MEASURED)\*\* \|$")


def floors(md: str) -> list[tuple[str, str, str]]:
    return [(m["floor"].strip(), m["result"].strip(), m["verdict"]) for m in map(_ROW.match, md.splitlines()) if m]


def demote(md: str) -> str:
    """One level down for every heading, so that each script's page becomes a section."""
    return re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", md, flags=re.M)


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
        "`bench/results/catalog.json`.",
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
        f"{data['meta'].get('date', '?')}; {data['meta'].get('labvault_src', '')}.",
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


def main() -> int:
    parts: list[tuple[str, str]] = []  # (area, markdown)
    summary: list[tuple[str, str, str, str]] = []
    for area, name in (("core", "core.md"), ("remotes", "remotes.md"), ("pipelines", "pipelines.md")):
        path = RESULTS / name
        if not path.exists():
            print(f"missing {path}: run its benchmark first", file=sys.stderr)
            return 1
        md = path.read_text()
        if area == "core":
            md = md.replace("# Benchmarks", "# Core: versioning (W1, W2, scaling)", 1)
            parts.append((area, demote(md)))
        else:
            parts.append((area, md))
        summary += [(area, *f) for f in floors(md)]
    for area, fn, name in (("memory", million_section, "million.json"), ("catalog", catalog_section, "catalog.json")):
        path = RESULTS / name
        if path.exists():
            md, rows = fn(path)
            parts.append((area, md))
            summary += [(area, *r) for r in rows]
    passed = sum(1 for s in summary if s[3] == "PASS")
    failed = [s for s in summary if s[3] == "FAIL"]
    head = [
        "# Benchmarks",
        "",
        "labvault and dvc side by side, on one machine, on the same generated workloads; every figure below "
        "comes from the benchmark scripts in `bench/` (`make bench` runs them all; raw results in "
        "`bench/results/`), and each section names its machine, date and method. This page is assembled "
        "by `bench/assemble_docs.py` from those results.",
        "",
        f"## Summary: {passed} floors met, {len(failed)} not met",
        "",
        "| area | floor | result | |",
        "|---|---|---|---|",
    ]
    for area, floor, result, verdict in summary:
        head.append(f"| {area} | {floor} | {result} | **{verdict}** |")
    notes = BENCH / "floor_notes.md"  # hand-written: why a floor is not met, when one is not
    if failed and notes.exists():
        head += ["", notes.read_text().rstrip()]
    text = "\n".join(head) + "\n\n" + "\n".join(md.rstrip() + "\n" for _, md in parts)
    OUT.write_text(text)
    print(f"wrote {OUT}: {passed} floors met, {len(failed)} not met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
