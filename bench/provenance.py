"""Which source tree a result was measured on: git commit, dirty or not, machine and date.

Every results file carries this record under ``"provenance"``; ``assemble_docs.py`` refuses to
build docs/benchmarks.md from results of a dirty tree, of different commits, or older than the
last commit that touched ``src/``.
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str, cwd: Path = ROOT) -> str:
    r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    return r.stdout.rstrip("\n") if r.returncode == 0 else ""


def dirty_paths(cwd: Path = ROOT) -> list[str]:
    """Uncommitted changes that can change a figure: anything tracked or new under src/ and bench/
    (results, notes and scratch excluded)."""
    out = _git("status", "--porcelain", "--untracked-files=all", "--", *MEASURED, cwd=cwd)
    paths = [line[3:] for line in out.splitlines() if line.strip()]
    return [p for p in paths if not p.startswith("bench/work/") and "__pycache__" not in p]


def current(cwd: Path = ROOT) -> dict[str, object]:
    return {
        "commit": _git("rev-parse", "HEAD", cwd=cwd).strip(),
        "dirty": bool(dirty_paths(cwd)),
        "dirty_paths": dirty_paths(cwd)[:20],
        "machine": f"{platform.node()} ({platform.machine()}, {platform.release()})",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


# What can change a figure: the code measured and the scripts measuring it (not the results, the
# hand-written notes, or the assembler, which measures nothing).
MEASURED = ("src", "bench", ":(exclude)bench/results", ":(exclude)bench/*.md", ":(exclude)bench/assemble_docs.py")


def last_src_commit(cwd: Path = ROOT) -> tuple[str, str]:
    """(commit, ISO date) of the newest commit that touched src/ or the benchmark scripts."""
    out = _git("log", "-1", "--format=%H %cI", "--", *MEASURED, cwd=cwd)
    commit, _, date = out.partition(" ")
    return commit, date


def is_ancestor(older: str, newer: str, cwd: Path = ROOT) -> bool:
    r = subprocess.run(["git", "merge-base", "--is-ancestor", older, newer], cwd=cwd, capture_output=True)
    return r.returncode == 0


def describe(prov: dict | None) -> str:
    """One line naming the source tree a result was measured on."""
    if not prov:
        return "unknown (a result from before commits were recorded: not usable for the docs)"
    state = "DIRTY tree" if prov.get("dirty") else "clean tree"
    return f"commit {str(prov.get('commit'))[:12]} ({state}), {prov.get('machine')}, {prov.get('date')}"
