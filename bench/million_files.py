"""Memory at a million files: peak RSS of labvault add and status on one folder of N tiny files.

The core issue asks that a million tracked files fit in well under 1 GB. This generates N files of
1..64 bytes (1,000 per sub-folder), then measures, each as its own process under GNU time:
``add`` (fresh), ``status`` with nothing changed, ``status`` after changing one file, ``add``
after that change, ``checkout`` after deleting the workspace copy, ``status`` after that.
Files are tiny on purpose: the figure is memory per file, not bytes per file.
Only labvault runs here (dvc at a million files takes far longer than this benchmark is worth).

    .venv/bin/python bench/million_files.py                  # 1,000,000 files (several minutes)
    .venv/bin/python bench/million_files.py --files 100000   # a quicker look

Raw results: bench/results/million.json.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import checks  # noqa: E402
import machine  # noqa: E402
from checks import (  # noqa: E402
    check_clean,
    check_pointer,
    check_reports_change,
    check_restored,
    tree_oid,
)
from extra_common import fresh_dir, src_snapshot, write_json_atomic  # noqa: E402
from measure import Measurement, run_timed, run_untimed  # noqa: E402
from tools import labvault  # noqa: E402


def generate(folder: Path, n: int, seed: int) -> dict[str, str]:
    """Write the files; return their manifest (relpath -> md5) for the output checks."""
    rnd = random.Random(seed)
    content: dict[str, str] = {}
    per = 1000
    for d in range(-(-n // per)):
        sub = folder / f"d{d:04d}"
        sub.mkdir(parents=True)
        for i in range(d * per, min(n, (d + 1) * per)):
            fd = os.open(sub / f"f{i:07d}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            data = rnd.randbytes(rnd.randint(1, 64))
            os.write(fd, data)
            os.close(fd)
            content[f"d{d:04d}/f{i:07d}"] = hashlib.md5(data).hexdigest()
    # date everything in the past: no file is "racy" (just written) when add records it
    past = time.time() - 3600
    for d in folder.iterdir():
        for f in d.iterdir():
            os.utime(f, (past, past))
    return content


def main(argv: list[str] | None = None) -> int:
    return checks.run_checked(_main, argv)


def _main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=20240603)
    p.add_argument("--work", type=Path, default=BENCH / "work" / "extra" / "million")
    p.add_argument("--out", type=Path, default=None, help="default bench/results/million.json (other sizes: million-N.json)")
    a = p.parse_args(argv)
    if a.out is None:
        a.out = BENCH / "results" / ("million.json" if a.files == 1_000_000 else f"million-{a.files}.json")
    tool = labvault()
    repo = fresh_dir(a.work)
    repo.mkdir(parents=True)
    log = repo.with_name(repo.name + "-commands.log")
    env = tool.env(repo)
    print(f"workload: {a.files:,} files of 1..64 bytes in folders of 1,000 under {repo}/data (seed {a.seed})")
    t0 = time.perf_counter()
    content = generate(repo / "data", a.files, a.seed)
    print(f"  generated in {time.perf_counter() - t0:.0f} s", flush=True)
    run_untimed([str(tool.exe), "init", "--no-scm"], repo, log, env)
    rows = []

    def timed(op: str, check: Callable[[Measurement], None], *args: str) -> None:
        m = run_timed([str(tool.exe), *args], repo, log, env)
        check(m)  # raises OutputWrong: a wrong answer is not a figure
        rows.append({"op": op, "seconds": m.seconds, "maxrss_kib": m.maxrss_kib,
                     "bytes_per_file": m.maxrss_kib * 1024 / a.files})
        print(f"  {op:28} {m.seconds:8.1f} s   peak {m.maxrss_kib / 1024:7.0f} MiB"
              f"   {m.maxrss_kib * 1024 / a.files:6.0f} bytes/file", flush=True)

    pointer = repo / "data.dvc"
    timed("add (fresh)", lambda m: check_pointer(pointer, tree_oid(content), "add"), "add", "data")
    timed("status, nothing changed", lambda m: check_clean(m.output, "status"), "status")
    victim = repo / "data" / "d0000" / "f0000000"
    victim.write_bytes(b"changed")
    os.utime(victim, (time.time() - 60, time.time() - 60))
    content["d0000/f0000000"] = hashlib.md5(b"changed").hexdigest()
    timed(
        "status after changing one file",
        lambda m: check_reports_change(m.output, "data", "status after a change"),
        "status",
    )
    timed(
        "add after changing one file",
        lambda m: check_pointer(pointer, tree_oid(content), "re-add"),
        "add",
        "data",
    )
    t0 = time.perf_counter()
    shutil.rmtree(repo / "data")
    print(f"  deleted the workspace copy in {time.perf_counter() - t0:.0f} s (untimed)", flush=True)
    timed(
        "checkout after deleting it",
        lambda m: check_restored(repo / "data", content, "checkout"),
        "checkout",
    )
    timed("status after the checkout", lambda m: check_clean(m.output, "status after checkout"), "status")
    meta = {**machine.describe(repo, {"labvault_version": tool.version()}), **src_snapshot()}
    result = {"meta": meta, "files": a.files, "seed": a.seed, "rows": rows}
    write_json_atomic(a.out, result)
    print(f"results: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
