"""`labvault checksums check` against `md5sum -c` on W2 (many small files) and W1 (one big file).

Floors (issue "backups, integrity"): W2 at least 1.6x faster than `md5sum -c` (two cores), W1
within 1.1x of it. Both tools check the same checksum file (written by md5sum, names relative to
the workload's parent) and print the same thing, one `NAME: OK` line per file. Every timed run is
checked: exit 0 and exactly one `OK` line per listed name. Then, untimed, a byte is flipped in one
file and one file is truncated: both tools must exit 1 and name exactly those files (labvault's
--json `failed` list), or the run fails.

    .venv/bin/python bench/checksums_bench.py                       # full: 50,000 files, 4 GiB
    .venv/bin/python bench/checksums_bench.py --files 5000 --size 256M --repeats 3   # reduced
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from checks import OutputWrong
from measure import CachePolicy, run_timed
from provenance import current
from workloads import Workload, ensure, file_workload, tree_layout, tree_workload

ROOT = Path(__file__).resolve().parent.parent
LABVAULT = str(ROOT / ".venv" / "bin" / "labvault")


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else int(text)


def _names(w: Workload) -> list[str]:
    return [f"{w.target}/{rel}" for rel in tree_layout(w)] if w.kind == "tree" else [w.target]


def _write_sums(base: Path, names: list[str]) -> Path:
    sums = base / "sums.md5"
    if not sums.exists():
        with open(sums, "wb") as out:
            for start in range(0, len(names), 2000):
                subprocess.run(["md5sum", *names[start : start + 2000]], cwd=base, stdout=out, check=True)
    return sums


def _check_output(tool: str, output: str, names: list[str]) -> None:
    """Both tools print `NAME: OK` per file (labvault as md5sum does): every name once, nothing else."""
    lines = output.splitlines()
    ok = sorted(ln[: -len(": OK")] for ln in lines if ln.endswith(": OK"))
    if ok != sorted(names) or len(lines) != len(names):
        raise OutputWrong(f"{tool}: {len(ok)} files OK in {len(lines)} lines, expected {len(names)}")


def _argv(tool: str, sums: Path, as_json: bool = False) -> list[str]:
    if tool == "md5sum":
        return ["md5sum", "-c", sums.name]
    return [LABVAULT, "checksums", "check", sums.name, *(["--json"] if as_json else [])]


def _corruption_caught(base: Path, w: Workload, names: list[str]) -> None:
    """Flip a byte in one file and truncate another (in a copy of the sums' targets): both tools
    must exit 1 naming exactly those files."""
    victims = [names[len(names) // 2]] + ([names[-1]] if len(names) > 1 else [])
    saved = {v: (base / v).read_bytes() for v in victims} if w.kind == "tree" else {}
    try:
        for i, v in enumerate(victims):
            p = base / v
            if w.kind == "file":
                with open(p, "r+b") as f:
                    f.seek(p.stat().st_size // 2)
                    b = f.read(1)
                    f.seek(-1, os.SEEK_CUR)
                    f.write(bytes([b[0] ^ 1]))
            elif i == 0:
                data = bytearray(saved[v])
                data[len(data) // 2] ^= 1
                p.write_bytes(bytes(data))
            else:
                p.write_bytes(saved[v][:-1])
        for tool in ("md5sum", "labvault"):
            proc = subprocess.run(_argv(tool, base / "sums.md5", as_json=True), cwd=base, capture_output=True,
                                  text=True)
            failed = sorted(ln[: -len(": FAILED")] for ln in proc.stdout.splitlines() if ln.endswith(": FAILED"))
            if tool == "labvault":
                failed = sorted(json.loads(proc.stdout)["failed"])
            if proc.returncode != 1 or failed != sorted(victims):
                raise OutputWrong(f"{tool} missed injected corruption: rc {proc.returncode}, failed {failed}")
    finally:
        for v in victims:
            p = base / v
            if w.kind == "file":
                with open(p, "r+b") as f:  # flip the same byte back
                    f.seek(p.stat().st_size // 2)
                    b = f.read(1)
                    f.seek(-1, os.SEEK_CUR)
                    f.write(bytes([b[0] ^ 1]))
            else:
                p.write_bytes(saved[v])


def bench(w: Workload, work: Path, repeats: int, caches: CachePolicy) -> dict[str, object]:
    w, path = ensure(w, work / "pristine")
    base = path.parent
    names = _names(w)
    sums = _write_sums(base, names)
    log = work / f"{w.name}.log"
    times: dict[str, list[float]] = {"md5sum": [], "labvault": []}
    cpu: dict[str, list[float]] = {"md5sum": [], "labvault": []}
    for _ in range(repeats):
        for tool in ("md5sum", "labvault"):
            m = run_timed(_argv(tool, sums), base, log, caches=caches)
            _check_output(tool, m.output, names)
            times[tool].append(m.seconds)
            cpu[tool].append(m.cpu_seconds)
    _corruption_caught(base, w, names)
    med = {t: statistics.median(v) for t, v in times.items()}
    return {"workload": w.description, "files": len(names), "bytes": w.size, "seconds": times, "median": med,
            "cpu_seconds": cpu, "median_cpu": {t: statistics.median(v) for t, v in cpu.items()},
            "ratio_md5sum_over_labvault": med["md5sum"] / med["labvault"], "corruption_caught": True}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=50_000, help="W2 size (files)")
    ap.add_argument("--size", default="4G", help="W1 size (bytes, K/M/G)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "work" / "checksums")
    ap.add_argument("--drop-caches", action="store_true", help="drop the page cache before each run (root)")
    args = ap.parse_args()
    if shutil.which("md5sum") is None:
        print("md5sum (coreutils) not found", file=sys.stderr)
        return 1
    quick = args.files != 50_000 or parse_size(args.size) != 4 << 30
    caches = CachePolicy(args.drop_caches)
    results = {
        "W2": bench(tree_workload("W2" if not quick else f"W2-{args.files}", args.files, seed=2), args.work,
                    args.repeats, caches),
        "W1": bench(file_workload("W1" if not quick else f"W1-{args.size}", parse_size(args.size), seed=1),
                    args.work, args.repeats, caches),
    }
    out = {"provenance": current(), "quick": quick, "caches": caches.describe(), "load": os.getloadavg(),
           "results": results}
    dest = ROOT / "bench" / "results" / ("checksums-quick.json" if quick else "checksums.json")
    dest.write_text(json.dumps(out, indent=2) + "\n")
    for name, r in results.items():
        med = r["median"]
        assert isinstance(med, dict)
        print(f"{name}: md5sum -c {med['md5sum']:.2f}s, labvault {med['labvault']:.2f}s, "
              f"ratio {r['ratio_md5sum_over_labvault']:.2f}x; all runs {r['seconds']}")
    print(f"written {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
