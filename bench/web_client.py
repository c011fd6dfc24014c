"""The JSON API side of bench/web_bench.py: keep-alive clients, page walks checked item by item,
p95 with 1 and 4 concurrent clients, lineage neighbourhoods, first page against the whole list."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

LIMIT = 50
WALK_PAGES = 20


class WrongAnswer(Exception):
    """A response that is not the real work asked for: the benchmark stops."""


class Client:
    """One keep-alive HTTP/1.1 connection with a Bearer token."""

    def __init__(self, base: str, token: str) -> None:
        parts = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def get(self, path: str) -> tuple[Any, float]:
        """The decoded JSON of ``path`` and the seconds the request took (status 200 or WrongAnswer)."""
        t = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        resp = self.conn.getresponse()
        body = resp.read()
        took = time.perf_counter() - t
        if resp.status != 200:
            raise WrongAnswer(f"GET {path}: HTTP {resp.status}: {body[:300]!r}")
        return json.loads(body), took


def q(path: str, **params: Any) -> str:
    return path + "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})


# name -> (path, params, check of one item)
LISTS: dict[str, tuple[str, dict[str, Any], Callable[[dict[str, Any]], bool]]] = {
    "datasets": ("/api/v1/datasets", {}, lambda e: e["kind"] == "dataset"),
    "models": ("/api/v1/models", {}, lambda e: e["kind"] == "model"),
    "runs_of_experiment": ("/api/v1/runs", {"name": "exp0001"}, lambda e: e["name"] == "exp0001"),
    "runs_tagged": ("/api/v1/runs", {"tag": "production"}, lambda e: "production" in e["tags"]),
    "models_by_prefix": ("/api/v1/models", {"prefix": "models/model00"},
                         lambda e: e["name"].startswith("models/model00")),
    "runs_where": ("/api/v1/runs", {"where": "metrics.accuracy > 0.9 and params.lr <= 1e-4"},
                   lambda e: e["metrics"]["accuracy"] > 0.9 and e["params"]["lr"] <= 1e-4),
}


def walk(client: Client, path: str, params: dict[str, Any], ok: Callable[[dict[str, Any]], bool],
         budget: int, limit: int = LIMIT, times: list[float] | None = None) -> int:
    """Fetch pages from the first on, following ``next``, ``budget`` requests in all (restarting at
    the first page after the last); every page checked. Returns the items seen."""
    seen_total, after, seen, last = 0, None, set(), None
    for _ in range(budget):
        data, took = client.get(q(path, limit=limit, after=after, **params))
        if times is not None:
            times.append(took * 1000)
        items, nxt = data["items"], data["next"]
        if nxt is not None and len(items) != limit:
            raise WrongAnswer(f"{path} {params}: {len(items)} items on a page that is not the last")
        if not items and after is not None:
            raise WrongAnswer(f"{path} {params}: an empty page after a cursor")
        for e in items:
            key = (e["kind"], e["name"], e["version"])
            if key in seen or not ok(e):
                raise WrongAnswer(f"{path} {params}: {key} seen twice or not matching the filter")
            if last is not None and e["created"] > last:
                raise WrongAnswer(f"{path} {params}: {key} is newer than the page before it")
            seen.add(key)
            last = e["created"]
        seen_total += len(items)
        after = nxt
        if after is None:
            seen, last = set(), None
    return seen_total


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2)


def concurrent(base: str, token: str, clients: int, work: Callable[[Client, list[float]], None]) -> list[float]:
    """Run ``work`` on ``clients`` threads at once, each with its own connection; all latencies."""
    results: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    start = threading.Barrier(clients)

    def one(i: int) -> None:
        try:
            c = Client(base, token)
            start.wait()
            work(c, results[i])
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return [x for r in results for x in r]


def measure_api(base: str, token: str, refs: list[str], requests: int, n_datasets: int) -> dict[str, Any]:
    out: dict[str, Any] = {"lists": {}}
    for name, (path, params, ok) in LISTS.items():
        walk(Client(base, token), path, params, ok, 3)  # warm: connection, caches, pages
        for clients in (1, 4):
            share = max(1, requests // clients)
            times = concurrent(base, token, clients, lambda c, t, p=path, pa=params, o=ok, n=share: walk(
                c, p, pa, o, n, times=t) and None)
            out["lists"][f"{name}_{clients}"] = {"path": q(path, **params), "clients": clients, "requests": len(times),
                                                 "p50_ms": round(statistics.median(times), 2), "p95_ms": p95(times)}
            print(f"  {name:20} {clients} client(s): p95 {p95(times):7.2f} ms  p50 "
                  f"{statistics.median(times):6.2f} ms  ({len(times)} requests)", flush=True)
    client, times, nodes = Client(base, token), [], []
    for ref in refs * max(1, requests // max(1, len(refs))):
        kind = "dataset" if ref.startswith("bench/") else "model"
        data, took = client.get(q(f"/api/v1/lineage/{kind}/{urllib.parse.quote(ref, safe='/')}", depth=3,
                                  max_nodes=500))
        n = len(data["nodes"])
        if not 2 <= n <= 500 or f"{data['root']['name']}@{data['root']['version']}" != ref:
            raise WrongAnswer(f"lineage of {ref}: {n} nodes, root {data['root']}")
        times.append(took * 1000)
        nodes.append(n)
    out["lineage"] = {"requests": len(times), "p50_ms": round(statistics.median(times), 2), "p95_ms": p95(times),
                      "nodes_median": statistics.median(nodes), "nodes_max": max(nodes)}
    print(f"  lineage neighbourhood: p95 {p95(times):.2f} ms, nodes median {statistics.median(nodes)}, "
          f"max {max(nodes)}", flush=True)
    client = Client(base, token)
    first = [client.get(q("/api/v1/datasets", limit=LIMIT))[1] * 1000 for _ in range(20)]
    t = time.perf_counter()
    total = walk(client, "/api/v1/datasets", {}, LISTS["datasets"][2], -(-n_datasets // 500), limit=500)
    whole = (time.perf_counter() - t) * 1000
    if total != n_datasets:
        raise WrongAnswer(f"the whole list of datasets has {total:,} items, not {n_datasets:,}")
    out["whole_list"] = {"items": total, "first_page_ms": round(statistics.median(first), 2),
                         "whole_ms": round(whole, 1), "speedup": round(whole / statistics.median(first), 1)}
    print(f"  first page {statistics.median(first):.2f} ms, whole list of {total:,} {whole:.0f} ms: "
          f"{out['whole_list']['speedup']}x", flush=True)
    return out
