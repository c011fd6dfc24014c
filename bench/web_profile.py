"""Where the CPU time of one dashboard list request goes, layer by layer, in this process.

Builds the catalog of bench/web_bench.py once (``--keep FILE`` keeps an SQLite catalog between runs;
PostgreSQL is loaded into a throwaway server each time), then for each list of bench/web_client.py
walks pages of 50 and times, in CPU seconds of this process (the machine may be loaded; wall
time is printed too), each layer of a request:

  * page:    ``catalog.browse.page_rows``, the keyset query of one page
  * entries: ``catalog.queries.load_entries`` for that page (lineage bounded, as the API's:
             ``link_cap=LINK_CAP``)
  * json:    ``api.jsonshape.to_json`` of the entries
  * request: the whole GET through the FastAPI application, called as ASGI (Bearer token:
             authentication, the query, the shaping, the JSON encoding; no socket, no HTTP parsing)

With ``--server N`` it also serves the catalog with ``labvault serve`` (uvicorn, as bench/web_bench.py
does) and walks each list for N requests over one keep-alive connection: the server process's CPU
per request (``/proc/PID/stat``: everything from HTTP parsing to the JSON bytes), p50 and p95.

On PostgreSQL the database's own CPU is in another process: compare wall times there.

    .venv/bin/python bench/web_profile.py --scale 0.1 --keep /tmp/web-0.1.sqlite
    .venv/bin/python bench/web_profile.py --scale 0.1 --backend postgresql
    .venv/bin/python bench/web_profile.py --scale 0.01 --cprofile runs_where   # the top functions
    .venv/bin/python bench/web_profile.py --scale 0.1 --server 200             # through uvicorn too
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

import catalog_bench  # noqa: E402
import web_bench  # noqa: E402
import web_client  # noqa: E402
from labvault.api import users  # noqa: E402
from labvault.api.jsonshape import to_json  # noqa: E402
from labvault.catalog import browse, queries, store  # noqa: E402
from labvault.catalog.links import LINK_CAP  # noqa: E402
from labvault.errors import LabvaultError  # noqa: E402
from labvault.web.app import Settings, create_app  # noqa: E402

LIMIT = web_client.LIMIT


def build(url: str, scale: float) -> None:
    rows, _chain = catalog_bench.generate(int(1_000_000 * scale), int(250_000 * scale),
                                          dataset_names=int(100_000 * scale))
    web_bench.hub(rows)
    print(f"loaded {len(rows.versions):,} versions in {catalog_bench.load(url, rows):.1f} s", flush=True)


@contextlib.contextmanager
def catalog(args: argparse.Namespace) -> Iterator[str]:
    if args.backend == "postgresql":
        with catalog_bench.postgres() as url:
            build(url, args.scale)
            yield url
        return
    path = Path(args.keep)
    url = f"sqlite:///{path}"
    if not path.exists():
        build(url, args.scale)
    yield url


def clocks(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """CPU and wall milliseconds of ``fn()``, and its result."""
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000, out


class Asgi:
    """GET requests straight into an ASGI application, on one event loop: status and body."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()

    def get(self, target: str, headers: dict[str, str]) -> tuple[int, Any]:
        path, _, query = target.partition("?")
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
                 "root_path": "", "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        self.loop.run_until_complete(self.app(scope, receive, send))
        status = next(m["status"] for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return status, json.loads(body)

    def close(self) -> None:
        self.loop.close()


def filter_of(params: dict[str, Any], kind: str) -> browse.VersionFilter:
    return browse.VersionFilter(kind, params.get("name"), params.get("prefix"), params.get("tag"),
                                params.get("where"), latest=True)


def layers(url: str, client: Asgi, token: str, name: str, pages: int) -> dict[str, Any]:
    """Per-layer CPU and wall ms (median over ``pages`` pages of a walk) of list ``name``."""
    path, params, _ok = web_client.LISTS[name]
    kind = path.rsplit("/", 1)[1]
    f = filter_of(params, kind)
    cat = store.open_catalog(url)
    found: dict[str, list[tuple[float, float]]] = {k: [] for k in ("page", "entries", "json", "request")}
    after: browse.PageKey | None = None
    cursor: str | None = None
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(pages):
        with cat.read() as conn:
            cpu, wall, rows = clocks(lambda: browse.page_rows(conn, f, LIMIT, after))  # noqa: B023
            found["page"].append((cpu, wall))
            ids = [i for i, _ in rows[:LIMIT]]
            cpu, wall, entries = clocks(lambda: queries.load_entries(conn, ids, LINK_CAP))  # noqa: B023
            found["entries"].append((cpu, wall))
        cpu, wall, _ = clocks(lambda: to_json(entries))  # noqa: B023
        found["json"].append((cpu, wall))
        query = web_client.q(path, limit=LIMIT, after=cursor, **params)
        cpu, wall, (status, body) = clocks(lambda: client.get(query, headers))  # noqa: B023
        found["request"].append((cpu, wall))
        if status != 200 or body["items"] != to_json(entries):
            raise SystemExit(f"{query}: HTTP {status}, or items unlike load_entries's: {str(body)[:200]}")
        cursor = body["next"]
        after = browse.PageKey(rows[LIMIT - 1][1], rows[LIMIT - 1][0]) if len(rows) > LIMIT else None
        if after is None or cursor is None:
            after, cursor = None, None
    return {k: {"cpu_ms": round(statistics.median(c for c, _ in v), 2),
                "wall_ms": round(statistics.median(w for _, w in v), 2)} for k, v in found.items()}


def server_cpu(url: str, requests: int, folder: Path) -> dict[str, Any]:
    """Per list: the ``labvault serve`` process's CPU ms per request, p50 and p95 ms of a walk."""
    proc, base, token = web_bench.start_server(url, folder)
    tick = os.sysconf("SC_CLK_TCK")

    def cpu_s() -> float:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    out: dict[str, Any] = {}
    try:
        for name, (path, params, ok) in web_client.LISTS.items():
            client = web_client.Client(base, token)
            web_client.walk(client, path, params, ok, 5)  # warm
            before, times = cpu_s(), []
            web_client.walk(client, path, params, ok, requests, times=times)
            out[name] = {"server_cpu_ms": round((cpu_s() - before) * 1000 / requests, 2),
                         "p50_ms": round(statistics.median(times), 2), "p95_ms": web_client.p95(times)}
            print(f"{name:20} server cpu {out[name]['server_cpu_ms']:6.2f} ms/request  p50 "
                  f"{out[name]['p50_ms']:6.2f}  p95 {out[name]['p95_ms']:6.2f} ms", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=0.1)
    p.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--keep", default="/tmp/labvault-web-profile.sqlite", help="SQLite catalog file (reused).")
    p.add_argument("--pages", type=int, default=20, help="Pages walked per list.")
    p.add_argument("--cprofile", metavar="LIST", help="Also profile this list's requests; print the top.")
    p.add_argument("--server", type=int, metavar="N", help="Also walk each list N requests through uvicorn.")
    p.add_argument("--out", type=Path, help="Write the figures as JSON here.")
    args = p.parse_args()
    with catalog(args) as url:
        with contextlib.suppress(LabvaultError):  # a kept catalog has the user already
            users.user_add("profile", "viewer", catalog_url=url)
        token = users.token_create("profile", catalog_url=url).token
        client = Asgi(create_app(Settings(catalog_url=url)))
        report: dict[str, Any] = {"backend": args.backend, "scale": args.scale, "load_average": os.getloadavg(),
                                  "lists": {}}
        for name in web_client.LISTS:
            layers(url, client, token, name, 3)  # warm
            out = layers(url, client, token, name, args.pages)
            report["lists"][name] = out
            print(f"{name:20} " + "  ".join(f"{k} {v['cpu_ms']:6.2f} cpu/{v['wall_ms']:6.2f} wall"
                                            for k, v in out.items()), flush=True)
        if args.cprofile:
            prof = cProfile.Profile()
            prof.runcall(layers, url, client, token, args.cprofile, args.pages)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
        client.close()
        if args.server:
            with tempfile.TemporaryDirectory(prefix="labvault-web-profile-") as folder:
                report["server"] = server_cpu(url, args.server, Path(folder))
        if args.out:
            args.out.write_text(json.dumps(report, indent=2) + "\n")
    store.forget()


if __name__ == "__main__":
    main()
