"""Reading any version: ``labvault.open`` at an old revision, and ``labvault get`` against ``dvc get``.

* ``open_old``: ``labvault.open(path, repo, rev="v1")`` + read of a 1 MiB tracked file whose
  content changed since v1 (warm: the object was read before timing, once the repository's config
  files were 2 s old, the age from which labvault keeps their parse and so the read's plan; a
  training loop's steady state), against ``open()`` + read of a checked-out copy of the same
  bytes, alternating. Per-call times, median of N calls (N = 200, quick 30). Both reads are
  compared with the expected bytes, and neither keeps its buffer into the next call.
* ``get``: ``labvault get REPO data -o OUT`` of W2 (50,000 files of 1..8 KiB in 100 folders;
  quick: 2,000) from a folder remote (the source repository's cache removed, so every object comes
  from the remote) against ``dvc get`` of the same, both on the command line, cold page cache not
  forced. Each result is compared byte for byte with the workload (no figure otherwise).

    .venv/bin/python bench/read_bench.py --quick
    .venv/bin/python bench/read_bench.py            # full: W2 50,000 files, 3 repeats

Raw results: bench/results/read_api.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import workloads  # noqa: E402

LV = str(ROOT / ".venv" / "bin" / "labvault")
DVC = str(ROOT / ".venv-dvc" / "bin" / "dvc")
ENV = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.invalid", "GIT_COMMITTER_NAME": "b",
       "GIT_COMMITTER_EMAIL": "b@example.invalid", "GIT_CONFIG_NOSYSTEM": "1", "DVC_NO_ANALYTICS": "1"}


def run(*args: str, cwd: Path) -> None:
    subprocess.run(list(args), cwd=cwd, env=ENV, check=True, capture_output=True)


def snapshot(base: Path) -> dict[str, bytes]:
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def bench_open(work: Path, calls: int) -> dict[str, float]:
    import labvault

    repo = work / "open-repo"
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    old, new = os.urandom(1 << 20), os.urandom(1 << 20)
    run("git", "init", "-q", cwd=repo)
    run(LV, "init", cwd=repo)
    (repo / "model.bin").write_bytes(old)
    run(LV, "add", "model.bin", cwd=repo)
    run("git", "add", "-A", cwd=repo)
    run("git", "commit", "-qm", "v1", cwd=repo)
    run("git", "tag", "v1", cwd=repo)
    copy = work / "checked-out-v1.bin"
    shutil.copyfile(repo / "model.bin", copy)
    (repo / "model.bin").chmod(0o644)
    (repo / "model.bin").write_bytes(new)
    run(LV, "add", "model.bin", cwd=repo)
    run("git", "commit", "-qam", "v2", cwd=repo)
    # Steady state, as in a training loop: labvault keeps a config file's parse (and so a read's
    # plan) only once the file is 2 s old; the repository was just made, so wait for that.
    newest = max(p.stat().st_ctime for p in (repo / ".dvc").iterdir() if p.is_file())
    time.sleep(max(0.0, newest + 2.2 - time.time()))
    for _ in range(2):  # warm-up, and the check
        if labvault.read("model.bin", repo=str(repo), rev="v1") != old:
            raise SystemExit("labvault.read returned the wrong bytes")
    lv_times, py_times = [], []
    for _ in range(calls):
        t = time.perf_counter()
        with labvault.open("model.bin", repo=str(repo), rev="v1") as f:
            data = f.read()
        lv_times.append(time.perf_counter() - t)
        if data != old:
            raise SystemExit("labvault.open returned the wrong bytes")
        del data  # both sides read into a fresh buffer, neither holding the last one
        t = time.perf_counter()
        with open(copy, "rb") as g:
            data = g.read()
        py_times.append(time.perf_counter() - t)
        if data != old:
            raise SystemExit("open() returned the wrong bytes")
        del data
    lv, py = statistics.median(lv_times), statistics.median(py_times)
    return {"labvault_open_s": lv, "python_open_s": py, "ratio": lv / py}


def bench_get(work: Path, nfiles: int, repeats: int) -> dict[str, object]:
    w, tree = workloads.ensure(workloads.tree_workload("W2", nfiles, 2), work / "pristine")
    src = work / "get-src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    run("git", "init", "-q", cwd=src)
    run(LV, "init", cwd=src)
    shutil.copytree(tree, src / "data")
    run(LV, "add", "data", cwd=src)
    run(LV, "remote", "add", "-d", "store", str(work / "get-store"), cwd=src)
    shutil.rmtree(work / "get-store", ignore_errors=True)
    run(LV, "push", cwd=src)
    run("git", "add", "-A", cwd=src)
    run("git", "commit", "-qm", "data", cwd=src)
    shutil.rmtree(src / ".dvc" / "cache")
    expected = snapshot(tree)
    times: dict[str, list[float]] = {"labvault": [], "dvc": []}
    for i in range(repeats):
        for tool, argv in (("labvault", [LV, "get", str(src), "data", "-o"]), ("dvc", [DVC, "get", str(src), "data", "-o"])):
            out = work / f"out-{tool}-{i}"
            shutil.rmtree(out, ignore_errors=True)
            t = time.perf_counter()
            run(*argv, str(out), cwd=work)
            times[tool].append(time.perf_counter() - t)
            if snapshot(out) != expected:
                raise SystemExit(f"{tool} get wrote something else than the workload")
            shutil.rmtree(out)
    lv, dv = statistics.median(times["labvault"]), statistics.median(times["dvc"])
    return {"workload": w.description, "labvault_s": lv, "dvc_s": dv, "speedup": dv / lv, "runs": times}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--work", default=str(ROOT / ".bench-read"))
    ap.add_argument("--files", type=int)
    ap.add_argument("--out-json", default=str(BENCH / "results" / "read_api.json"))
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    nfiles = args.files or (2000 if args.quick else 50_000)
    result = {
        "quick": args.quick,
        "open_old": bench_open(work, 30 if args.quick else 200),
        "get_w2_folder_remote": bench_get(work, nfiles, 1 if args.quick else 3),
    }
    Path(args.out_json).write_text(json.dumps(result, indent=2))
    o, g = result["open_old"], result["get_w2_folder_remote"]
    print(f"open 1 MiB at v1 (warm): labvault {o['labvault_open_s'] * 1e3:.2f} ms, open() {o['python_open_s'] * 1e3:.2f} ms, "
          f"ratio {o['ratio']:.1f}x")
    assert isinstance(g, dict)
    print(f"get W2 ({nfiles} files) from a folder remote: labvault {g['labvault_s']:.2f} s, dvc {g['dvc_s']:.2f} s, "
          f"labvault {g['speedup']:.1f}x faster")


if __name__ == "__main__":
    main()
