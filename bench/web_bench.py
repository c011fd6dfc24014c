"""Benchmark the dashboard's JSON API and pages at lab scale, through the real HTTP server.

Workload (per backend, from ``catalog_bench.generate``): 1,000,000 runs in 1,000 experiments,
100,000 datasets (one version each) and 150,000 model versions in 1,500 model names, with their
lineage, plus a hub: one dataset read by 24 runs whose 24 outputs are each read by 20 runs (529
versions within 3 steps), bulk-loaded and ANALYZEd. ``labvault serve`` runs in a subprocess (uvicorn,
loopback) with a viewer user; the API is called with a Bearer token over keep-alive connections.

Measured (each response checked: status 200, a full page unless it is the last, every item matching
its filter, no version twice in a walk, the next cursor leading to older items):
  * lists:    datasets, models (latest of each name), runs of one experiment, runs tagged
              production, models by name prefix, runs by a search expression; walks of up to 20 pages
              of 50, with 1 and with 4 concurrent clients: p95           floor 50 ms (goal 10 ms)
  * lineage:  /api/v1/lineage/model/REF?depth=3&max_nodes=500 of pipeline models and the hub: p95
                                                                                   floor 50 ms
  * first page of datasets against fetching the whole list (pages of 500)         floor 20x
  * pages (bench/web_browser.py): headless chromium, the hub's lineage page (529 nodes) interactive
    within 3 s; every page's first load at most 500 KiB transferred

    .venv/bin/python bench/web_bench.py --scale 0.01 --backends sqlite    # a quick look
    .venv/bin/python bench/web_bench.py                                   # both backends, full size

Results go to bench/results/web.json (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

import catalog_bench  # noqa: E402
import provenance  # noqa: E402
import web_browser  # noqa: E402
import web_client  # noqa: E402
from labvault.api import users  # noqa: E402
from labvault.catalog import store  # noqa: E402

FLOORS = {"list_p95_ms": 50.0, "lineage_p95_ms": 50.0, "first_page_speedup": 20.0}
GOAL_LIST_P95_MS = 10.0
PASSWORD = "bench-password-1"


def hub(rows: catalog_bench.Rows, width: int = 24, reads: int = 20) -> int:
    """A dataset read by ``width`` runs whose outputs are each read by ``reads`` runs; its id."""
    when = catalog_bench.EPOCH
    exp = rows.entity("experiment", "bench-hub")
    root = rows.version(rows.entity("dataset", "bench/hub"), "dataset", when, content_hash="hub")
    for i in range(width):
        part = rows.version(rows.entity("dataset", f"bench/part{i:02d}"), "dataset", when, content_hash=f"hub{i}")
        split = rows.version(exp, "run", when, status="completed")
        rows.edges += [(root, split, "input"), (split, part, "output")]
        for _ in range(reads):
            rows.edges.append((part, rows.version(exp, "run", when, status="completed"), "input"))
    return root


def start_server(url: str, folder: Path, workers: int = 1) -> tuple[subprocess.Popen[bytes], str, str]:
    if all(u.name != "bench" for u in users.user_list(url)):  # a kept catalog (web_profile.py) has it
        users.user_add("bench", "viewer", PASSWORD, catalog_url=url)
    token = users.token_create("bench", catalog_url=url).token
    port = free_port()
    log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([str(Path(sys.executable).parent / "labvault"), "serve", "--port", str(port),
                             "--catalog", url, "--workers", str(workers)], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            web_client.Client(base, token).get("/api/v1/datasets?limit=1")
            return proc, base, token
        except (OSError, web_client.WrongAnswer):
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"the server did not start: {(folder / 'server.log').read_text()[-2000:]}")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_backend(name: str, url: str, rows: catalog_bench.Rows, chain: list[int], args: argparse.Namespace,
                folder: Path) -> dict[str, Any]:
    print(f"[{name}] loading {len(rows.versions):,} versions, {len(rows.edges):,} edges ...", flush=True)
    print(f"[{name}] loaded in {catalog_bench.load(url, rows):.1f} s", flush=True)
    proc, base, token = start_server(url, folder, args.workers)
    try:
        names = {eid: n for eid, _k, n, _t in rows.entities}
        refs = [f"{names[rows.versions[vid - 1][1]]}@{rows.versions[vid - 1][3]}" for vid in [*chain[:39], chain[-1]]]
        out = web_client.measure_api(base, token, refs, args.requests, n_datasets=sum(
            1 for _i, k, _n, _t in rows.entities if k == "dataset"))
        out["browser"] = web_browser.measure_pages(base, "bench", PASSWORD, folder / "profile")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    verdicts = {
        "list_p95_ms": max(v["p95_ms"] for v in out["lists"].values()) <= FLOORS["list_p95_ms"],
        "lineage_p95_ms": out["lineage"]["p95_ms"] <= FLOORS["lineage_p95_ms"],
        "first_page_speedup": out["whole_list"]["speedup"] >= FLOORS["first_page_speedup"],
        "lineage_page_s": out["browser"]["lineage_page"]["interactive_s"] <= 3.0,
        "first_load_kib": max(p["kib"] for p in out["browser"]["pages"].values()) <= 500,
    }
    out["pass"] = verdicts
    for key, ok in verdicts.items():
        print(f"[{name}] {key:20} {'ok' if ok else 'NOT MET'}", flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0, help="Fraction of the full workload (default 1).")
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--requests", type=int, default=200, help="Requests per list and client count.")
    p.add_argument("--out", type=Path, default=BENCH / "results" / "web.json")
    p.add_argument("--workers", type=int, default=1, help="Server processes (`labvault serve --workers N`).")
    args = p.parse_args()
    n_runs, n_datasets = int(1_000_000 * args.scale), int(100_000 * args.scale)
    rows, chain = catalog_bench.generate(n_runs, int(250_000 * args.scale), dataset_names=n_datasets)
    chain.append(hub(rows))
    workload = {"runs": sum(1 for v in rows.versions if v[2] == "run"),
                "datasets": sum(1 for e in rows.entities if e[1] == "dataset"),
                "dataset_versions": sum(1 for v in rows.versions if v[2] == "dataset"),
                "model_versions": sum(1 for v in rows.versions if v[2] == "model"),
                "models": sum(1 for e in rows.entities if e[1] == "model"),
                "experiments": sum(1 for e in rows.entities if e[1] == "experiment"),
                "edges": len(rows.edges), "tags": len(rows.tags), "scale": args.scale,
                "server_workers": args.workers}
    print("workload: " + ", ".join(f"{k} {v:,}" for k, v in workload.items()), flush=True)
    report: dict[str, Any] = {
        "when": datetime.now().isoformat(timespec="seconds"), "provenance": provenance.current(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average": os.getloadavg()},
        "workload": workload, "floors": FLOORS, "goal_list_p95_ms": GOAL_LIST_P95_MS, "results": {},
    }
    for backend in args.backends.split(","):
        folder = Path(tempfile.mkdtemp(prefix="labvault-bench-web-"))
        try:
            if backend == "sqlite":
                report["results"]["sqlite"] = run_backend(
                    "sqlite", f"sqlite:///{folder / 'catalog.sqlite'}", rows, chain, args, folder)
            elif backend == "postgresql":
                with catalog_bench.postgres() as url:
                    report["results"]["postgresql"] = run_backend("postgresql", url, rows, chain, args, folder)
            else:
                raise SystemExit(f"unknown backend {backend!r}")
        finally:
            store.forget()
            shutil.rmtree(folder, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
