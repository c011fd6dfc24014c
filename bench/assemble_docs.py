"""Build docs/benchmarks.md from the latest results of every benchmark script.

Sections come from the Markdown each script renders (bench/results/core.md, remotes.md,
pipelines.md) and from the JSON of the others (catalog.json, million.json, lifecycle.json,
monitor.json, web.json); the summary at the
top lists every floor of those sections with its result, read from their floor tables, so it
cannot disagree with them. Nothing is measured here.

Refusals (exit 1, nothing written): every results file records the source tree it was measured
on (bench/provenance.py); the page is built only when all of them name the same commit, none was
taken on a dirty tree, that commit is in this checkout's history, and no later commit touched
src/ or the benchmark scripts. The page names that commit.

    .venv/bin/python bench/assemble_docs.py            # writes docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import provenance  # noqa: E402
from sections import (  # noqa: E402
    backup_section,
    catalog_section,
    lifecycle_section,
    million_section,
    monitor_section,
    web_section,
)

RESULTS = BENCH / "results"
OUT = BENCH.parent / "docs" / "benchmarks.md"

# A floor row: | floor | result | labvault | reference | **PASS** |
_ROW = re.compile(r"^\| (?P<floor>[^|]+) \| (?P<result>[^|]+) \|[^|]*\|[^|]*\| \*\*(?P<verdict>PASS|FAIL|NOT MEASURED)\*\* \|$")
# results file -> where its provenance records are
MARKDOWN = (("core", "core.md", "latest.json"), ("remotes", "remotes.md", "remotes.json"), ("pipelines", "pipelines.md", "pipelines.json"))
OPTIONAL = (("memory", "million.json"), ("catalog", "catalog.json"), ("backup", "backup.json"),
            ("lifecycle", "lifecycle.json"), ("monitor", "monitor.json"), ("web", "web.json"))


def floors(md: str) -> list[tuple[str, str, str]]:
    return [(m["floor"].strip(), m["result"].strip(), m["verdict"]) for m in map(_ROW.match, md.splitlines()) if m]


def demote(md: str) -> str:
    """One level down for every heading, so that each script's page becomes a section."""
    return re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", md, flags=re.M)


def provenances(path: Path) -> list[dict | None]:
    """The provenance records of one results file (the core suite's: one per run it merged)."""
    data = json.loads(path.read_text())
    if "runs" in data:  # bench/run_all.py: results merged from several runs
        used = {r.get("run_id") for r in data.get("records", [])}
        return [data["runs"].get(rid, {}).get("provenance") for rid in sorted(used, key=str)]
    meta = data.get("meta", data)
    return [meta.get("provenance") or data.get("provenance")]


def smoke_run(path: Path) -> bool:
    """A quick (small) run: its figures are not the floors' sizes."""
    data = json.loads(path.read_text())
    commands = [str(r.get("command", "")) for r in data.get("runs", {}).values()]
    commands.append(str(data.get("meta", {}).get("command", "")))
    small = data.get("workload", {}).get("scale", 1) < 1 or data.get("files", 1_000_000) < 1_000_000
    small = small or data.get("meta", {}).get("quick") is True  # backup_bench.py below the floors' sizes
    return small or any("--quick" in c for c in commands)


def problems(files: dict[str, Path], root: Path) -> tuple[list[str], str]:
    """Why these results may not be assembled together ([] when they may), and their commit."""
    out: list[str] = []
    commits: dict[str, list[str]] = {}
    for name, path in files.items():
        if smoke_run(path):
            out.append(f"{name}: a quick (small) run, not the floors' sizes: rerun it in full")
        for prov in provenances(path):
            if not prov or not prov.get("commit"):
                out.append(f"{name}: no source commit recorded: rerun it")
                continue
            if prov.get("dirty"):
                out.append(f"{name}: measured on a dirty tree ({', '.join(prov.get('dirty_paths') or [])}): commit, then rerun")
            commits.setdefault(str(prov["commit"]), []).append(name)
    if len(commits) > 1:
        mixed = "; ".join(f"{c[:12]}: {', '.join(sorted(set(n)))}" for c, n in commits.items())
        out.append(f"results from different commits ({mixed}): rerun them on one")
    if len(commits) == 1:
        commit = next(iter(commits))
        head = provenance._git("rev-parse", "HEAD", cwd=root).strip()
        last, when = provenance.last_src_commit(root)
        if not provenance.is_ancestor(commit, head, root):
            out.append(f"results measured on {commit[:12]}, which is not in this checkout's history")
        elif last and not provenance.is_ancestor(last, commit, root):
            out.append(f"results of {commit[:12]} are stale: {last[:12]} ({when}) changed src/ or bench/ since: rerun")
        return out, commit
    return out, ""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--root", type=Path, default=BENCH.parent, help="the git checkout the results belong to")
    a = p.parse_args(argv)
    files: dict[str, Path] = {}
    for area, md_name, json_name in MARKDOWN:
        for name in (md_name, json_name):
            if not (a.results / name).exists():
                print(f"missing {a.results / name}: run its benchmark first", file=sys.stderr)
                return 1
        files[area] = a.results / json_name
    for area, json_name in OPTIONAL:
        if (a.results / json_name).exists():
            files[area] = a.results / json_name
    wrong, commit = problems(files, a.root)
    if wrong:
        print("refusing to assemble docs/benchmarks.md:", file=sys.stderr)
        for w in wrong:
            print(f"  - {w}", file=sys.stderr)
        return 1

    parts: list[tuple[str, str]] = []  # (area, markdown)
    summary: list[tuple[str, str, str, str]] = []
    for area, md_name, _ in MARKDOWN:
        md = (a.results / md_name).read_text()
        if area == "core":
            md = md.replace("# Benchmarks", "# Core: versioning (W1, W2, scaling)", 1)
            parts.append((area, demote(md)))
        else:
            parts.append((area, md))
        summary += [(area, *f) for f in floors(md)]
    for area, fn in (("memory", million_section), ("catalog", catalog_section), ("backup", backup_section),
                     ("lifecycle", lifecycle_section), ("monitor", monitor_section), ("web", web_section)):
        if area in files:
            md, rows = fn(files[area])
            parts.append((area, md))
            summary += [(area, *r) for r in rows]
    passed = sum(1 for s in summary if s[3] == "PASS")
    failed = [s for s in summary if s[3] == "FAIL"]
    head = [
        "# Benchmarks",
        "",
        "labvault and dvc side by side, on one machine, on the same generated workloads; every figure below "
        "comes from the benchmark scripts in `bench/` (the runbook in `bench/README.md` reruns them all; raw "
        "results in `bench/results/`), and each section names its machine, date and method. This page is "
        f"assembled by `bench/assemble_docs.py` from those results, all measured on commit `{commit}` "
        "(clean tree), and every timed command's output was checked before its time was kept.",
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
    a.out.write_text(text)
    print(f"wrote {a.out}: {passed} floors met, {len(failed)} not met (commit {commit[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
