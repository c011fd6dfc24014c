"""Benchmark the catalog on SQLite and PostgreSQL with a lab-sized history.

Workload (per backend): 1,000,000 runs in 1,000 experiments (2 metrics and 2 params each, 1% tagged
`production`), 100,000 dataset and model versions (pipelines raw -> run -> prepared -> run ->
features -> run -> train set -> run -> model, 1% of model versions tagged `production`), about
1.1 million lineage edges; generated with bulk inserts, then ANALYZEd.

Measured (median of repeated calls through the public API, `labvault.api`):
  * search:   catalog_search("models", "metrics.accuracy > 0.9 and tag = production")  floor 200 ms,
              the same over runs, and runs by "params.lr <= 1e-4 and metrics.accuracy > 0.99 and
              created > 2025-06-01"                                                 floor 200 ms each
  * lineage:  catalog_lineage(model, direction="up", depth=5) and direction="both"      floor 100 ms
  * register: register_many() of 100,000 new dataset and model versions                 floor 10 s

    .venv/bin/python bench/catalog_bench.py                     # both backends, full size
    .venv/bin/python bench/catalog_bench.py --scale 0.05 --backends sqlite   # a quick look

PostgreSQL: the script starts its own throwaway server (initdb + pg_ctl in a temp folder, as the
`postgres` user when run as root). Results go to bench/results/catalog.json.
"""

from __future__ import annotations

import argparse
import glob
import itertools
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

import provenance  # noqa: E402
from labvault import api  # noqa: E402
from labvault.catalog import NewVersion, store  # noqa: E402

FLOORS_MS = {
    "search": 200.0,
    "search_runs": 200.0,  # every search over the million runs meets the same floor
    "search_runs_params": 200.0,
    "lineage_up_5": 100.0,
    "lineage_both_5": 100.0,
    "register_many": 10_000.0,
}
EPOCH = datetime(2025, 1, 1)


# -- a throwaway PostgreSQL server ----------------------------------------------------------------


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextmanager
def postgres() -> Iterator[str]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL is not installed: apt-get install -y postgresql")
    binary = Path(found[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="labvault-bench-pg-"))
    os.chmod(folder, 0o777)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    subprocess.run(
        _as_postgres(
            [
                str(binary / "initdb"),
                "-D",
                str(folder / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(
        _as_postgres(
            [
                str(binary / "pg_ctl"),
                "-D",
                str(folder / "data"),
                "-l",
                str(folder / "log"),
                "-w",
                "-o",
                f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off "
                "-c shared_buffers=256MB -c max_wal_size=4GB",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    import psycopg

    with psycopg.connect(
        f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
    ) as c:
        c.execute("CREATE DATABASE bench")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/bench"
    finally:
        store.forget()
        subprocess.run(
            _as_postgres(
                [
                    str(binary / "pg_ctl"),
                    "-D",
                    str(folder / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ]
            ),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


# -- the generated history ------------------------------------------------------------------------


class Rows:
    """Rows of every table, with ids assigned here (the database is empty and nobody else writes)."""

    def __init__(self) -> None:
        self.entities: list[tuple[Any, ...]] = []
        self.versions: list[tuple[Any, ...]] = []
        self.metrics: list[tuple[Any, ...]] = []
        self.params: list[tuple[Any, ...]] = []
        self.tags: list[tuple[Any, ...]] = []
        self.edges: list[tuple[Any, ...]] = []
        self.seq: dict[int, int] = {}

    def entity(self, kind: str, name: str) -> int:
        eid = len(self.entities) + 1
        self.entities.append((eid, kind, name, EPOCH))
        return eid

    def version(self, eid: int, kind: str, when: datetime, **extra: Any) -> int:
        vid = len(self.versions) + 1
        seq = self.seq.get(eid, 0) + 1
        self.seq[eid] = seq
        self.versions.append(
            (
                vid,
                eid,
                kind,
                str(seq),
                seq,
                extra.get("content_hash"),
                extra.get("path"),
                extra.get("size"),
                extra.get("nfiles"),
                extra.get("architecture"),
                extra.get("status"),
                extra.get("stage"),
                when,
            )
        )
        return vid


VERSION_COLUMNS = (
    "id",
    "entity_id",
    "kind",
    "version",
    "seq",
    "content_hash",
    "path",
    "size",
    "nfiles",
    "architecture",
    "status",
    "stage",
    "created_at",
)


def generate(
    n_runs: int, n_versions: int, seed: int = 1, dataset_names: int | None = None
) -> tuple[Rows, list[int]]:
    """The history; returns the rows and the ids of models at the end of 4-run pipelines.

    ``dataset_names``: that many dataset names, the dataset versions dealt to them in turn (the
    default: a fiftieth of ``n_versions``, each version's name drawn at random)."""
    rng = random.Random(seed)
    rows = Rows()
    span = 365 * 24 * 3600

    def when() -> datetime:
        return EPOCH + timedelta(seconds=rng.randrange(span))

    n_pipelines = n_versions // 10  # 4 datasets + 1 model each: half the versions
    n_dataset_names, n_model_names = dataset_names or max(1, n_versions // 50), max(1, n_versions // 100)
    dataset_eids = [rows.entity("dataset", f"data/set{i:05d}") for i in range(n_dataset_names)]
    model_eids = [rows.entity("model", f"models/model{i:05d}") for i in range(n_model_names)]
    exp_eids = [rows.entity("experiment", f"exp{i:04d}") for i in range(max(1, n_runs // 1000))]

    def metric(vid: int, kind: str, acc: float) -> None:
        rows.metrics.append((vid, "accuracy", acc, kind))
        rows.metrics.append(
            (vid, "f1" if kind == "model" else "loss", round(rng.random(), 4), kind)
        )

    def model(at: datetime) -> int:
        vid = rows.version(
            rng.choice(model_eids),
            "model",
            at,
            architecture=rng.choice(["bert", "cnn", "gpt2"]),
            content_hash=f"m{len(rows.versions):08x}",
            size=rng.randrange(10**9),
        )
        metric(vid, "model", round(rng.random(), 4))
        if rng.random() < 0.01:
            rows.tags.append((vid, "production", at))
        if rng.random() < 0.10:
            rows.tags.append((vid, "candidate", at))
        return vid

    dealt = itertools.cycle(dataset_eids)

    def dataset(at: datetime) -> int:
        return rows.version(
            next(dealt) if dataset_names else rng.choice(dataset_eids),
            "dataset",
            at,
            content_hash=f"d{len(rows.versions):08x}",
            size=rng.randrange(10**10),
            nfiles=rng.randrange(1, 10**5),
        )

    runs_made = 0

    def run(at: datetime, inputs: Sequence[int], outputs: Sequence[int]) -> int:
        nonlocal runs_made
        runs_made += 1
        vid = rows.version(rng.choice(exp_eids), "run", at, status="completed", stage="train")
        metric(vid, "run", round(rng.random(), 4))
        lr = 10.0 ** -rng.randrange(2, 6)  # one draw: the text and the number agree
        rows.params.append((vid, "lr", repr(lr), lr, "run"))
        rows.params.append((vid, "batch_size", "32", 32.0, "run"))
        if rng.random() < 0.01:
            rows.tags.append((vid, "production", at))
        rows.edges.extend((i, vid, "input") for i in dict.fromkeys(inputs))
        rows.edges.extend((vid, o, "output") for o in outputs)
        return vid

    chain_models = []
    raw_ids = []
    for _ in range(n_pipelines):
        t = when()
        current = dataset(t)
        raw_ids.append(current)
        for _step in range(3):
            t += timedelta(minutes=5)
            nxt = dataset(t)
            run(t, [current, *([rng.choice(raw_ids)] if rng.random() < 0.3 else [])], [nxt])
            current = nxt
        t += timedelta(minutes=30)
        m = model(t)
        run(t, [current], [m])
        chain_models.append(m)
    all_datasets = [v[0] for v in rows.versions if v[2] == "dataset"]
    while len(rows.versions) - runs_made < n_versions:  # the other half: models trained directly
        m = model(when())
        rows.edges.append((rng.choice(all_datasets), m, "trained_on"))
    while runs_made < n_runs:  # experiments that read a dataset and wrote nothing
        run(when(), [rng.choice(all_datasets)], [])
    return rows, chain_models


def load(url: str, rows: Rows) -> float:
    """Bulk-insert the rows (COPY on PostgreSQL, executemany on SQLite); returns seconds."""
    cat = store.open_catalog(url)
    tables = [
        ("entities", ("id", "kind", "name", "created_at"), rows.entities),
        ("versions", VERSION_COLUMNS, rows.versions),
        ("metrics", ("version_id", "key", "value", "kind"), rows.metrics),
        ("params", ("version_id", "key", "value_text", "value_num", "kind"), rows.params),
        ("tags", ("version_id", "tag", "created_at"), rows.tags),
        ("edges", ("src_id", "dst_id", "relation"), rows.edges),
    ]
    started = time.perf_counter()
    raw = cat.engine.raw_connection()
    try:
        cur = raw.cursor()
        if cat.dialect == "postgresql":
            for table, cols, data in tables:
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in data:
                        copy.write_row(row)
            for table in ("entities", "versions"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            raw.commit()
            driver = raw.driver_connection
            driver.autocommit = True  # type: ignore[union-attr]
            driver.execute("VACUUM ANALYZE")  # type: ignore[union-attr]
            driver.autocommit = False  # type: ignore[union-attr]
        else:
            cur.execute("BEGIN IMMEDIATE")
            for table, cols, data in tables:
                marks = ", ".join("?" for _ in cols)
                cur.executemany(
                    f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})",
                    ([sql_text(v) for v in row] for row in data),
                )
            cur.execute("COMMIT")
            cur.execute("ANALYZE")
        cur.close()
    finally:
        raw.close()
    return time.perf_counter() - started


def sql_text(value: Any) -> Any:
    """Datetimes in SQLAlchemy's SQLite text format, as the catalog itself writes them."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


# -- measurements ---------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    fn()  # warm: connection pool, statement caches, database pages
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def _check_found(found: list[Any], kind: str, where: str, holds: Callable[[Any], bool]) -> None:
    """A timed search must find something, and only what its condition selects."""
    bad = [e.ref for e in found if not holds(e)]
    if not found or bad:
        raise SystemExit(f"wrong output: {kind} where {where}: {len(found)} found, not matching: {bad[:3]}")


def measure(url: str, chain_models: list[int], n_register: int, repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    where = "metrics.accuracy > 0.9 and tag = production"
    ms, found = timed(
        lambda: api.catalog_search("models", where, limit=100, catalog_url=url), repeats
    )
    _check_found(found, "models", where, lambda e: e.metrics.get("accuracy", 0) > 0.9 and "production" in e.tags)
    out["search"] = {"ms": round(ms, 2), "query": f"models where {where}", "matches": len(found)}
    ms, found = timed(
        lambda: api.catalog_search("runs", where, limit=100, catalog_url=url), repeats
    )
    _check_found(found, "runs", where, lambda e: e.metrics.get("accuracy", 0) > 0.9 and "production" in e.tags)
    out["search_runs"] = {"ms": round(ms, 2), "query": f"runs where {where}", "matches": len(found)}
    where2 = "params.lr <= 1e-4 and metrics.accuracy > 0.99 and created > 2025-06-01"
    ms, found = timed(
        lambda: api.catalog_search("runs", where2, limit=100, catalog_url=url), repeats
    )
    _check_found(found, "runs", where2, lambda e: e.params.get("lr", 1) <= 1e-4
                 and e.metrics.get("accuracy", 0) > 0.99 and e.created > "2025-06-01")
    out["search_runs_params"] = {
        "ms": round(ms, 2),
        "query": f"runs where {where2}",
        "matches": len(found),
    }

    cat = store.open_catalog(url)
    from labvault.catalog.queries import load_entries

    with cat.read() as conn:
        refs = [e.ref for e in load_entries(conn, chain_models[: repeats + 1])]
    for direction, key in (("up", "lineage_up_5"), ("both", "lineage_both_5")):
        times, sizes = [], []
        for ref in refs:
            t = time.perf_counter()
            graph = api.catalog_lineage("model", ref, direction=direction, depth=5, catalog_url=url)
            times.append((time.perf_counter() - t) * 1000)
            sizes.append(len(graph.nodes))
            if len(graph.nodes) < 2:
                raise SystemExit(f"wrong output: lineage {direction} of model {ref} found {len(graph.nodes)} node(s)")
        out[key] = {
            "ms": round(statistics.median(times[1:]), 2),
            "nodes_median": statistics.median(sizes),
            "depth_reached": 5,
        }

    items: list[NewVersion] = []
    for i in range(n_register):
        if i % 2:
            items.append(
                NewVersion(
                    "model",
                    f"new/model{i % 997}",
                    content_hash=f"new-m{i}",
                    architecture="bert",
                    metrics={"accuracy": (i % 100) / 100, "f1": 0.5},
                    tags=("fresh",),
                )
            )
        else:
            items.append(
                NewVersion(
                    "dataset", f"new/data{i % 991}", content_hash=f"new-d{i}", size=i, nfiles=1
                )
            )
    t = time.perf_counter()
    created = api.register_many(items, catalog_url=url)
    if created != n_register:
        raise SystemExit(f"wrong output: register_many created {created:,} of {n_register:,} new versions")
    out["register_many"] = {
        "ms": round((time.perf_counter() - t) * 1000, 1),
        "entities": n_register,
        "created": created,
    }
    return out


def run_backend(
    name: str, url: str, args: argparse.Namespace, rows: Rows, chain_models: list[int]
) -> dict[str, Any]:
    print(
        f"[{name}] loading {len(rows.versions):,} versions, {len(rows.metrics):,} metrics, "
        f"{len(rows.params):,} params, {len(rows.tags):,} tags, {len(rows.edges):,} edges ...",
        flush=True,
    )
    seconds = load(url, rows)
    print(f"[{name}] loaded in {seconds:.1f} s", flush=True)
    result = measure(url, chain_models, int(100_000 * args.scale), args.repeats)
    result["load_seconds"] = round(seconds, 1)
    for key, floor in FLOORS_MS.items():
        result[key]["floor_ms"] = floor if args.scale >= 1 else None
        result[key]["ok"] = result[key]["ms"] < floor
        print(
            f"[{name}] {key:16} {result[key]['ms']:>10.1f} ms   (floor {floor:.0f} ms) "
            f"{'ok' if result[key]['ok'] else 'SLOW'}",
            flush=True,
        )
    for key in ("search", "search_runs", "search_runs_params"):
        print(
            f"[{name}] {key:16} {result[key]['ms']:>10.1f} ms   ({result[key]['matches']} matches)",
            flush=True,
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="Fraction of the full workload (default 1)."
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "catalog.json")
    args = parser.parse_args()
    n_runs, n_versions = int(1_000_000 * args.scale), int(100_000 * args.scale)
    t = time.perf_counter()
    rows, chain_models = generate(n_runs, n_versions)
    print(
        f"generated {n_runs:,} runs and {n_versions:,} dataset/model versions in {time.perf_counter() - t:.1f} s",
        flush=True,
    )
    report: dict[str, Any] = {
        "when": datetime.now().isoformat(timespec="seconds"),
        "provenance": provenance.current(),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "workload": {
            "runs": n_runs,
            "dataset_and_model_versions": n_versions,
            "metrics": len(rows.metrics),
            "params": len(rows.params),
            "tags": len(rows.tags),
            "edges": len(rows.edges),
            "register_many": int(100_000 * args.scale),
            "scale": args.scale,
        },
        "results": {},
    }
    for backend in args.backends.split(","):
        if backend == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="labvault-bench-sqlite-"))
            try:
                report["results"]["sqlite"] = run_backend(
                    "sqlite", f"sqlite:///{folder / 'catalog.sqlite'}", args, rows, chain_models
                )
            finally:
                store.forget()
                shutil.rmtree(folder, ignore_errors=True)
        elif backend == "postgresql":
            with postgres() as url:
                report["results"]["postgresql"] = run_backend(
                    "postgresql", url, args, rows, chain_models
                )
        else:
            raise SystemExit(f"unknown backend {backend!r}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
