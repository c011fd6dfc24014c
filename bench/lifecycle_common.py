"""What the lifecycle benchmark's parts share: a timed child process with its CPU time and peak RSS,
the lab config they run with, and the W2 workload.

``timed`` runs a command under GNU time (``%e %U %S %M``): wall time is taken here around it, CPU
time (user + system) and peak RSS are the command's own, as GNU time's ``wait4`` reports them
(children it reaped included). On a machine shared with other work the CPU figure is the steadier
one; both are printed.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from checks import OutputWrong
from workloads import Workload, ensure, tree_workload

BENCH = Path(__file__).resolve().parent
GNU_TIME = "/usr/bin/time"
W2_SEED = 20240601 + 1  # bench/run_all.py's W2: its default seed + 1, 100 folders
NOW = datetime(2026, 12, 1, 12, 0, 0)
AS_OF = NOW.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class Timed:
    seconds: float
    cpu_seconds: float
    rss_mib: float
    output: str


def timed(argv: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None,
          codes: tuple[int, ...] = (0,)) -> Timed:
    """Run ``argv``; an exit code not in ``codes`` is an error (its output shown)."""
    fmt = "__gnutime__ %U %S %M"
    start = time.perf_counter()
    proc = subprocess.run([GNU_TIME, "-f", fmt, *argv], capture_output=True, text=True, env=env, cwd=cwd)
    seconds = time.perf_counter() - start
    lines = proc.stderr.splitlines()
    stats = next((ln.split()[1:] for ln in reversed(lines) if ln.startswith("__gnutime__")), None)
    if proc.returncode not in codes or stats is None:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    err = "\n".join(ln for ln in lines if not ln.startswith(("__gnutime__", "Command exited with non-zero")))
    return Timed(seconds, float(stats[0]) + float(stats[1]), int(stats[2]) / 1024, proc.stdout + err)


def medians(runs: list[Timed]) -> dict[str, float]:
    return {"seconds": round(statistics.median(r.seconds for r in runs), 4),
            "cpu_seconds": round(statistics.median(r.cpu_seconds for r in runs), 4),
            "peak_rss_mib": round(max(r.rss_mib for r in runs), 1),
            "runs_seconds": [round(r.seconds, 4) for r in runs]}  # type: ignore[dict-item]


def repeat(n: int, fn: Callable[[], Timed], check: Callable[[Timed], None]) -> list[Timed]:
    """``n`` timed runs, each checked before it is kept (a wrong output raises OutputWrong)."""
    runs = []
    for _ in range(n):
        got = fn()
        check(got)
        runs.append(got)
    return runs


def labvault_exe() -> str:
    exe = BENCH.parent / ".venv" / "bin" / "labvault"
    if not exe.exists():
        raise OutputWrong(f"{exe} is missing: run `make venv`")
    return str(exe)


def lab_yaml(path: Path, tiers: dict[str, Path], rules: Sequence[tuple[str, str, int]], extra: str = "") -> Path:
    """A lab config with folder tiers (hottest first, the guide's prices) and last-access rules."""
    prices = (0.15, 0.035, 0.007)
    lines = ["version: 1", "tiers:"]
    lines += [f"  {name}: {{path: {folder}, price_per_gb_month: {prices[i]}}}" for i, (name, folder)
              in enumerate(tiers.items())]
    lines += ["lifecycle:", "  promotion: {reads: 0}", "  rules:"]
    lines += [f"    - {{name: {a}->{b}, from: {a}, to: {b}, last_access_days: {days}}}" for a, b, days in rules]
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def env_for(catalog: Path, lab: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["LABVAULT_CATALOG_URL"] = f"sqlite:///{catalog}"
    env["LABVAULT_LAB"] = str(lab)
    return env


def w2(work: Path, files: int) -> tuple[Workload, Path]:
    """W2 as the core suite generates it (random 1..8 KiB files in 100 folders), generated once."""
    return ensure(tree_workload("W2", files, W2_SEED, ndirs=100 if files >= 100 else None), work / "pristine")
