"""Remotes benchmark: labvault push / pull against dvc, side by side in one run.

Workloads (same generator as the core suite, bench/workloads.py):

* W1: one random file (4 GiB by default, ``--w1-size``);
* W2: 50,000 files of 1..8 KiB in 100 folders.

To a LOCAL remote (a folder on the same disk), per tool and repeat, in a fresh git repo holding the
workload already added and committed (untimed):

* ``push``        everything to an empty remote;
* ``push_noop``   again, nothing to send;
* ``pull``        into a fresh ``git clone`` of the repo (empty cache, empty workspace);
* ``push_one``    (W2) after changing one file and re-adding it (untimed);

plus the baselines ``cp -r`` of the W2 folder and ``cp`` of the W1 file.

To an S3 server (moto, started here on 127.0.0.1, behind a small counting HTTP proxy that forwards
to it and counts requests by method), W2 only: ``s3_push`` to an empty bucket and ``s3_pull`` into a
fresh clone; both tools configured by ``remote add`` + ``remote modify endpointurl``. Neither tool is
given ``--jobs``: both use their shipped defaults.

    .venv/bin/python bench/remotes_bench.py --quick       # smoke run (W1 64 MiB, W2 2,000 files)
    .venv/bin/python bench/remotes_bench.py               # full: W1 4 GiB, W2 50,000 files, 3 repeats
    .venv/bin/python bench/remotes_bench.py --w1-size 1G --no-s3

Raw results: bench/results/remotes.json; Markdown section: bench/results/remotes.md.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import checks  # noqa: E402
import machine  # noqa: E402
import notes  # noqa: E402
import provenance  # noqa: E402
from checks import (  # noqa: E402
    OutputWrong,
    check_count,
    check_md5sum_lines,
    check_restored,
    count_files,
    expected_content,
)
from extra_common import fmt_s, fresh_dir, src_snapshot, write_json_atomic  # noqa: E402
from measure import CachePolicy, CommandFailed, Measurement, run_timed, run_untimed  # noqa: E402
from tools import Tool, all_tools  # noqa: E402
from workloads import Workload, ensure, file_workload, fmt_bytes, modify_one, tree_workload  # noqa: E402

NAME = "remotes"
S3_KEY = "testing"
OP_TITLES = {
    "push": "push to an empty remote",
    "push_noop": "push, nothing to send",
    "pull": "pull into a fresh clone",
    "push_one": "push after changing one file",
    "s3_push": "S3: push to an empty bucket",
    "s3_pull": "S3: pull into a fresh clone",
    "cp_r": "`cp -r` of the folder",
    "cp": "`cp` of the file",
    "md5sum_cp": "`md5sum` of the file, then one `cp` of it",
}
# (workload, op, reference subject, reference op, kind, limit)
#   kind "faster": reference / labvault >= limit;  "within": labvault / reference <= limit
FLOORS = (
    ("W2", "push", "dvc", "push", "faster", 2.0),
    ("W2", "push", "baseline", "cp_r", "within", 1.5),
    ("W2", "pull", "dvc", "pull", "faster", 2.0),
    ("W2", "pull", "baseline", "cp_r", "within", 1.5),
    ("W2", "push_one", "dvc", "push_one", "faster", 10.0),
    ("W2", "push_noop", "dvc", "push_noop", "faster", 10.0),
    ("W1", "push", "baseline", "cp", "within", 1.5),
    # labvault hashes every byte it receives, dvc does not; the reference that does the same work:
    ("W1", "pull", "dvc", "pull", "faster", 1.2),
    ("W1", "pull", "baseline", "md5sum_cp", "within", 1.3),
)
# S3 rows (moto, a Python test server, is the bottleneck): time and requests per object side by
# side, no ratio floor.
HOP_HEADERS = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "content-length",
}


# ------------------------------------------------------------------------------------ S3 server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Moto:
    """``moto_server`` as a child process on a free loopback port."""

    def __init__(self, log: Path) -> None:
        exe = Path(sys.executable).parent / "moto_server"
        if not exe.exists():
            found = shutil.which("moto_server")
            if not found:
                raise RuntimeError("moto_server not found: install moto[server] (`make venv`)")
            exe = Path(found)
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        self._log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(exe), "-H", "127.0.0.1", "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with _direct.open(f"http://127.0.0.1:{self.port}/moto-api/", timeout=5):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not start (see {log})") from None
                time.sleep(0.1)

    def call(self, method: str, path: str) -> None:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method, data=b"")
        with _direct.open(req, timeout=60) as resp:
            resp.read()

    def make_bucket(self, name: str) -> None:
        self.call("PUT", f"/{name}")

    def count_objects(self, bucket: str, prefix: str) -> int:
        """Objects under ``prefix`` in ``bucket``, listed straight from the server (ListObjectsV2)."""
        import urllib.parse
        import xml.etree.ElementTree as ET

        count, token = 0, ""
        while True:
            query = {"list-type": "2", "prefix": prefix, **({"continuation-token": token} if token else {})}
            url = f"http://127.0.0.1:{self.port}/{bucket}?{urllib.parse.urlencode(query)}"
            with _direct.open(url, timeout=60) as resp:
                root = ET.fromstring(resp.read())
            ns = root.tag.partition("}")[0] + "}" if root.tag.startswith("{") else ""
            count += len(root.findall(f"{ns}Contents"))
            token = root.findtext(f"{ns}NextContinuationToken") or ""
            if root.findtext(f"{ns}IsTruncated") != "true" or not token:
                return count

    def reset(self) -> None:
        self.call("POST", "/moto-api/reset")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class CountingProxy:
    """A plain HTTP/1.1 forwarder in a thread: each request goes to ``upstream_port``, counted by method."""

    def __init__(self, upstream_port: int) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            _conn: http.client.HTTPConnection | None = None

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _read_body(self) -> bytes | None:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    parts = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(parts)
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                length = self.headers.get("Content-Length")
                return self.rfile.read(int(length)) if length else None

            def _forward(self) -> None:
                body = self._read_body()
                with proxy.lock:
                    proxy.counts[self.command] += 1
                for attempt in (0, 1):
                    if self._conn is None:
                        self._conn = http.client.HTTPConnection(
                            "127.0.0.1", upstream_port, timeout=600
                        )
                    conn = self._conn
                    try:
                        conn.putrequest(
                            self.command, self.path, skip_host=True, skip_accept_encoding=True
                        )
                        for k, v in self.headers.items():
                            if k.lower() not in HOP_HEADERS:
                                conn.putheader(k, v)
                        if body is not None or self.command in ("PUT", "POST"):
                            conn.putheader("Content-Length", str(len(body or b"")))
                        conn.endheaders(body or None)
                        resp = conn.getresponse()
                        data = resp.read()
                        break
                    except (http.client.HTTPException, OSError):
                        conn.close()
                        self._conn = None
                        if attempt:
                            raise
                self.send_response_only(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in HOP_HEADERS:
                        self.send_header(k, v)
                if self.command == "HEAD":
                    if resp.getheader("Content-Length") is not None:
                        self.send_header("Content-Length", resp.getheader("Content-Length"))
                else:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                if resp.will_close:
                    conn.close()
                    self._conn = None

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

            def finish(self) -> None:
                super().finish()
                if self._conn is not None:
                    self._conn.close()

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 512

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="counting-proxy", daemon=True
        )
        self.thread.start()

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.counts)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def s3_env() -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": S3_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


# ------------------------------------------------------------------------------------ results


class Results:
    def __init__(self, path: Path, meta: dict) -> None:
        self.path = path
        self.meta = meta
        self.workloads: dict[str, str] = {}
        self.records: list[dict] = []
        self.failures: list[dict] = []

    def add(
        self, w: Workload, subject: str, op: str, repeat: int, m: Measurement, **extra: object
    ) -> None:
        rec = {
            "workload": w.name,
            "subject": subject,
            "op": op,
            "repeat": repeat,
            "seconds": m.seconds,
            "maxrss_kib": m.maxrss_kib,
            "writeback_seconds": m.writeback_seconds,
            "files": w.nfiles,
            "bytes": w.size,
            **extra,
        }
        self.records.append(rec)
        self.save()
        more = ""
        if "requests" in extra:
            reqs = extra["requests"]
            assert isinstance(reqs, dict)
            more = f"   requests {sum(reqs.values())} {json.dumps(reqs, sort_keys=True)}"
        print(
            f"    {w.name:3} {subject:9} {op:10} r{repeat} {m.seconds:9.3f} s   peak {m.maxrss_kib / 1024:6.0f} MiB"
            f"   (write-back after: {m.writeback_seconds:.2f} s){more}",
            flush=True,
        )

    def save(self) -> None:
        data = {
            "meta": self.meta,
            "workloads": self.workloads,
            "records": self.records,
            "failures": self.failures,
            "floors": check_floors(medians(self.records)),
        }
        write_json_atomic(self.path, data)


def medians(records: list[dict]) -> dict[tuple[str, str, str], dict]:
    groups: dict[tuple[str, str, str], list[dict]] = collections.defaultdict(list)
    for r in records:
        groups[(r["workload"], r["subject"], r["op"])].append(r)
    out = {}
    for key, rs in groups.items():
        secs = [r["seconds"] for r in rs]
        med: dict = {
            "seconds": statistics.median(secs),
            "min": min(secs),
            "max": max(secs),
            "n": len(rs),
            "maxrss_kib": statistics.median(r["maxrss_kib"] for r in rs),
        }
        if all("requests" in r for r in rs):
            methods = sorted({k for r in rs for k in r["requests"]})
            med["requests"] = {
                k: statistics.median(r["requests"].get(k, 0) for r in rs) for k in methods
            }
            med["objects"] = rs[0]["objects"]
        out[key] = med
    return out


def check_floors(meds: dict) -> list[dict]:
    out = []
    for wl, op, ref_subj, ref_op, kind, limit in FLOORS:
        ref_name = f"dvc {OP_TITLES[ref_op]}" if ref_subj == "dvc" else OP_TITLES[ref_op]
        if kind == "faster":
            text = f"{wl} {OP_TITLES[op]}: >= {limit:g}x faster than {ref_name}"
        else:
            text = f"{wl} {OP_TITLES[op]}: <= {limit:g}x the time of {ref_name}"
        if (
            op.startswith("s3_")
            and (wl, "labvault", op) not in meds
            and ("W2s3", "labvault", op) in meds
        ):
            wl = "W2s3"
            text = text.replace("W2 ", "W2s3 (smaller tree, see Workloads) ", 1)
        lv, ref = meds.get((wl, "labvault", op)), meds.get((wl, ref_subj, ref_op))
        rec = {
            "floor": text,
            "labvault": lv and lv["seconds"],
            "reference": ref and ref["seconds"],
            "ratio": None,
            "status": "NOT MEASURED",
            "shown": "not measured",
        }
        if lv and ref and lv["seconds"] > 0:
            if kind == "faster":
                ratio = ref["seconds"] / lv["seconds"]
                ok = ratio >= limit
                shown = f"{ratio:.2f}x faster"
            else:
                ratio = lv["seconds"] / ref["seconds"]
                ok = ratio <= limit
                shown = f"{ratio:.2f}x the time"
            rec.update(ratio=ratio, status="PASS" if ok else "FAIL", shown=shown)
        out.append(rec)
    return out


def render(res: Results, quick: bool) -> str:
    meds = medians(res.records)
    floors = check_floors(meds)
    meta = res.meta
    title = "## Remotes: push and pull" + (
        " (QUICK smoke run: small workloads, not the floors' sizes)" if quick else ""
    )
    lines = [
        title,
        "",
        f"labvault and dvc side by side in one run ({meta['date']}); times are medians of {meta['repeats']} "
        "runs (min..max); ratios are dvc / labvault unless said otherwise. Neither tool is given `--jobs`.",
        "",
    ]
    lines += [
        "### Floors",
        "",
        "| floor | result | labvault | reference | |",
        "|---|---|---|---|---|",
    ]
    for f in floors:
        if "requests/object" in f["floor"] and f["labvault"] is not None:
            lv, ref = f"{f['labvault']:.3f} req/object", f"{f['reference']:.3f} req/object"
        else:
            lv = fmt_s(f["labvault"]) if f["labvault"] is not None else ""
            ref = fmt_s(f["reference"]) if f["reference"] is not None else ""
        lines.append(f"| {f['floor']} | {f['shown']} | {lv} | {ref} | **{f['status']}** |")
    lines += ["", "### Workloads", ""]
    lines += [f"- {d}" for d in res.workloads.values()]
    for wl in res.workloads:
        lines += [
            "",
            f"### {wl}: measurements",
            "",
            "| operation | labvault | dvc | dvc / labvault | labvault peak RSS | dvc peak RSS |",
            "|---|---|---|---|---|---|",
        ]
        for op in ("push", "push_noop", "pull", "push_one", "s3_push", "s3_pull"):
            lv, dv = meds.get((wl, "labvault", op)), meds.get((wl, "dvc", op))
            if not lv and not dv:
                continue

            def cell(m: dict | None) -> str:
                return (
                    f"{fmt_s(m['seconds'])} ({fmt_s(m['min'])}..{fmt_s(m['max'])})"
                    if m
                    else "failed"
                )

            ratio = f"**{dv['seconds'] / lv['seconds']:.1f}x**" if lv and dv else ""
            rss = [f"{m['maxrss_kib'] / 1024:.0f} MiB" if m else "" for m in (lv, dv)]
            lines.append(
                f"| {OP_TITLES[op]} | {cell(lv)} | {cell(dv)} | {ratio} | {rss[0]} | {rss[1]} |"
            )
        shown = [op for op in OP_TITLES if meds.get((wl, "labvault", op)) or meds.get((wl, "dvc", op))]
        lines += ["", *notes.table(notes.REMOTES, OP_TITLES, shown)]
        for base in ("cp_r", "cp", "md5sum_cp"):
            b = meds.get((wl, "baseline", base))
            if b:
                lines.append("")
                lines.append(
                    f"Baseline {OP_TITLES[base]} (same cache policy): {fmt_s(b['seconds'])} "
                    f"({fmt_s(b['min'])}..{fmt_s(b['max'])})."
                )
                for op in ("push", "pull"):
                    lv = meds.get((wl, "labvault", op))
                    if lv:
                        lines.append(
                            f"labvault {op} / baseline: {lv['seconds'] / b['seconds']:.2f}x."
                        )
        s3 = [
            (tool, op, meds.get((wl, tool, op)))
            for op in ("s3_push", "s3_pull")
            for tool in ("labvault", "dvc")
        ]
        s3 = [x for x in s3 if x[2] and "requests" in x[2]]
        if s3:
            methods = sorted({k for _, _, m in s3 for k in m["requests"]})
            lines += [
                "",
                f"S3 requests seen by the counting proxy (median per run; {s3[0][2]['objects']:,} objects "
                "= files + the folder's `.dir` manifest):",
                "",
                "| operation | tool | time | " + " | ".join(methods) + " | total | requests/object |",
                "|---|---|---|" + "---|" * len(methods) + "---|---|",
            ]
            for tool, op, m in s3:
                total = sum(m["requests"].values())
                counts = " | ".join(f"{m['requests'].get(k, 0):,.0f}" for k in methods)
                lines.append(
                    f"| {OP_TITLES[op]} | {tool} | {fmt_s(m['seconds'])} | {counts} | {total:,.0f} | "
                    f"{total / m['objects']:.3f} |"
                )
            lines += [
                "",
                "No floor on these rows: the S3 server here is moto, a Python server that answers a few "
                "hundred requests a second, so both tools wait on it; the time says how each tool copes "
                "with a slow server, the requests per object what each would cost on a real one.",
            ]
    if res.failures:
        lines += ["", "### Failures", ""]
        lines += [
            f"- {f['workload']} {f['tool']} r{f['repeat']}: `{f['error'].splitlines()[0][:200]}`"
            for f in res.failures
        ]
    lines += ["", "### Machine and method", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items() if k not in ("command", "provenance")]
    lines.append(f"- source: {provenance.describe(meta.get('provenance'))}")
    lines += [
        "",
        "Method: per tool and repeat, a fresh git repo (`git init`, `<tool> init`; dvc also gets "
        "`core.analytics false`, `core.check_update false` and its own `DVC_SITE_CACHE_DIR`), the workload "
        "copied in, `add`ed and committed, untimed. The local remote is a folder on the same disk "
        "(`remote add -d`). `pull` runs in a fresh `git clone` of that repo (empty cache and workspace) and "
        "its result is checked. `push_one` follows an untimed change of one file and `add`. The S3 remote is "
        "a moto server (in memory) on 127.0.0.1 reached through a counting HTTP proxy thread of the "
        "benchmark process (both tools go through it: `remote add` + `remote modify endpointurl`); the "
        "server is reset after each tool's S3 runs. Timing: wall time around the child process, peak RSS "
        "from GNU time; before every timed command dirty pages are flushed and, when allowed, the page "
        "cache dropped (see `caches`). Tool order alternates between repeats.",
        "",
        f"Run: `{meta['command']}`. Raw data: `bench/results/{NAME}.json`.",
    ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ scenarios


def remote_state(root: Path) -> list[tuple[str, int, int]]:
    """Every object file of a folder remote with its size and mtime: a no-op push keeps it."""
    out = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            st = os.stat(os.path.join(dirpath, name))
            out.append((os.path.join(dirpath, name), st.st_size, st.st_mtime_ns))
    return sorted(out)


def check_unchanged(now: list[tuple[str, int, int]], before: list[tuple[str, int, int]], who: str) -> None:
    if now != before:
        changed = sorted(set(now) ^ set(before))
        raise OutputWrong(f"{who}: the remote changed ({len(changed)} entries differ, e.g. {changed[:2]})")


def tool_run(tool: Tool, args: list[str]) -> list[str]:
    return [str(tool.exe), *args]


def run_tool(
    a: argparse.Namespace,
    tool: Tool,
    w: Workload,
    pristine: Path,
    repeat: int,
    res: Results,
    caches: CachePolicy,
    log: Path,
    moto: Moto | None,
    proxy: CountingProxy | None,
    local: bool = True,
) -> None:
    top = fresh_dir(a.work / "runs" / f"{tool.name}-{w.name}-r{repeat}")
    src, clone, remote_dir = top / "src", top / "clone", top / "remote"
    src.mkdir(parents=True)
    env = tool.env(src)
    if moto is not None:
        env |= s3_env()
    env = {k: v for k, v in env.items() if not k.startswith("AWS_ENDPOINT_URL")}
    expect = expected_content(pristine)
    objects = len(expect) + (w.kind == "tree")  # every file's object, and the folder's manifest
    who = f"{tool.name} {w.name} r{repeat}"
    try:
        run_untimed(["git", "init", "-q"], src, log, env)
        run_untimed(tool_run(tool, ["init"]), src, log, env)
        for extra in tool.init_extra:
            run_untimed(tool_run(tool, extra), src, log, env)
        run_untimed(["cp", "-r", str(pristine), str(src / w.target)], src, log)
        run_untimed(tool_run(tool, ["add", w.target]), src, log, env)
        run_untimed(
            tool_run(tool, ["remote", "add", "-d", "local", str(remote_dir)]), src, log, env
        )
        s3 = moto is not None and proxy is not None and w.kind == "tree"
        bucket = f"{tool.name}-{w.name}-r{repeat}".lower()
        if s3:
            assert moto is not None and proxy is not None
            moto.make_bucket(bucket)
            run_untimed(
                tool_run(tool, ["remote", "add", "s3", f"s3://{bucket}/store"]), src, log, env
            )
            run_untimed(
                tool_run(
                    tool,
                    ["remote", "modify", "s3", "endpointurl", f"http://127.0.0.1:{proxy.port}"],
                ),
                src,
                log,
                env,
            )
        run_untimed(["git", "add", "-A"], src, log, env)
        run_untimed(["git", "commit", "-q", "-m", "data"], src, log, env)

        def timed(
            op: str, argv: list[str], cwd: Path, run_env: dict[str, str], check: Callable[[], None]
        ) -> None:
            before = proxy.snapshot() if proxy is not None else {}
            m = run_timed(argv, cwd, log, run_env, caches)
            check()  # raises OutputWrong: a wrong result is not recorded
            extra: dict[str, object] = {}
            if op.startswith("s3_") and proxy is not None:
                after = proxy.snapshot()
                extra = {
                    "requests": {
                        k: after.get(k, 0) - before.get(k, 0)
                        for k in after
                        if after.get(k, 0) - before.get(k, 0)
                    },
                    "objects": w.nfiles + (w.kind == "tree"),
                }
            res.add(w, tool.name, op, repeat, m, **extra)

        def pull_into_clone(op: str, args: list[str]) -> None:
            fresh_dir(clone)
            run_untimed(["git", "clone", "-q", str(src), str(clone)], top, log, env)
            cenv = {
                **tool.env(clone),
                **{k: v for k, v in env.items() if k.startswith(("AWS_", "NO_PROXY", "no_"))},
            }
            cenv = {k: v for k, v in cenv.items() if not k.startswith("AWS_ENDPOINT_URL")}
            target = clone / w.target
            timed(
                op, tool_run(tool, args), clone, cenv,
                lambda: check_restored(target, expect, f"{who} {op}"),
            )
            fresh_dir(clone)

        stored = remote_dir / "files" / "md5"
        if local:
            timed(
                "push", tool_run(tool, ["push"]), src, env,
                lambda: check_count(count_files(stored), objects, f"{who} push: objects in the remote"),
            )
            state = remote_state(stored)
            timed(
                "push_noop", tool_run(tool, ["push"]), src, env,
                lambda: check_unchanged(remote_state(stored), state, f"{who} push, nothing to send"),
            )
            pull_into_clone("pull", ["pull"])
        if s3:
            assert moto is not None
            timed(
                "s3_push", tool_run(tool, ["push", "-r", "s3"]), src, env,
                lambda: check_count(
                    moto.count_objects(bucket, "store/files/md5/"), objects, f"{who} S3 push: objects in the bucket"
                ),
            )
            pull_into_clone("s3_pull", ["pull", "-r", "s3"])
        if local and w.kind == "tree":
            modify_one(src / w.target, w, salt=repeat)
            run_untimed(tool_run(tool, ["add", w.target]), src, log, env)
            timed(
                "push_one", tool_run(tool, ["push"]), src, env,
                lambda: check_count(count_files(stored), objects + 2, f"{who} push of one change"),
            )
    finally:
        if moto is not None:
            moto.reset()
        fresh_dir(top)
        fresh_dir(clone)


def run_baselines(
    a: argparse.Namespace,
    w: Workload,
    pristine: Path,
    repeat: int,
    res: Results,
    caches: CachePolicy,
    log: Path,
) -> None:
    """`cp -r` of the folder (W2); for W1 `cp` of the file, and `md5sum` of it followed by one
    `cp` of it in one timed command (the least a pull that hashes what it receives can do)."""
    base = fresh_dir(a.work / "runs" / f"baseline-{w.name}-r{repeat}")
    base.mkdir(parents=True)
    expect = expected_content(pristine)
    who = f"baseline {w.name} r{repeat}"
    try:
        copy = base / ("copy" if w.kind == "tree" else "copy.bin")
        op = "cp_r" if w.kind == "tree" else "cp"
        argv = ["cp", "-r", str(pristine), str(copy)] if w.kind == "tree" else ["cp", str(pristine), str(copy)]
        m = run_timed(argv, base, log, None, caches)
        check_restored(copy, expect, f"{who} {op}")
        res.add(w, "baseline", op, repeat, m)
        if w.kind == "file":
            copy.unlink()
            sums = base / "md5sum.txt"
            cmd = f"md5sum '{pristine}' > '{sums}' && cp '{pristine}' '{copy}'"
            m = run_timed(["bash", "-c", cmd], base, log, None, caches)
            check_md5sum_lines(sums.read_text().replace(str(pristine), "./"), expect, f"{who} md5sum")
            check_restored(copy, expect, f"{who} md5sum + cp")
            res.add(w, "baseline", "md5sum_cp", repeat, m)
    finally:
        fresh_dir(base)


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(t)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="smoke run: W1 64 MiB, W2 2,000 files")
    p.add_argument("--workloads", default="W1,W2", help="comma-separated subset of W1,W2")
    p.add_argument("--tools", default="labvault,dvc")
    p.add_argument(
        "--repeats", type=int, default=3, help="runs per measurement; the median is reported"
    )
    p.add_argument(
        "--w1-size", type=parse_size, default=None, help="W1 file size (default 4G; --quick 64M)"
    )
    p.add_argument(
        "--w2-files", type=int, default=None, help="W2 file count (default 50000; --quick 2000)"
    )
    p.add_argument("--no-s3", action="store_true", help="skip the S3 (moto) runs")
    p.add_argument(
        "--s3-files",
        type=int,
        default=None,
        help="file count of the tree used on S3 (default: the W2 size); a smaller tree is "
        "reported as its own workload W2s3",
    )
    p.add_argument("--seed", type=int, default=20240601, help="workload seed (as the core suite)")
    p.add_argument("--work", type=Path, default=BENCH / "work" / "extra", help="scratch folder")
    p.add_argument(
        "--no-drop-caches", action="store_true", help="keep the page cache between commands"
    )
    p.add_argument(
        "--out", type=Path, default=BENCH / "results", help="folder for remotes.json / remotes.md"
    )
    a = p.parse_args(argv)
    a.w1_size = a.w1_size or ((64 << 20) if a.quick else (4 << 30))
    a.w2_files = a.w2_files or (2000 if a.quick else 50_000)
    a.workloads = [x for x in a.workloads.split(",") if x]
    a.tools = [x for x in a.tools.split(",") if x]
    a.pristine = a.work / "pristine" / ("quick" if a.quick else "full")
    return a


def main(argv: list[str] | None = None) -> int:
    return checks.run_checked(_main, argv)


def _main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    tools = {n: t for n, t in all_tools().items() if n in a.tools}
    for n, t in list(tools.items()):
        if not t.available():
            print(f"WARNING: {n} not runnable at {t.exe}; skipping it")
            del tools[n]
    a.work.mkdir(parents=True, exist_ok=True)
    caches = CachePolicy(want_drop=not a.no_drop_caches)
    meta = machine.describe(a.work, {n: t.version() for n, t in tools.items()})
    meta |= src_snapshot()
    meta |= {
        "caches": caches.describe(),
        "repeats": str(a.repeats),
        "seed": str(a.seed),
        "command": "python bench/remotes_bench.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
    }
    res = Results(a.out / f"{NAME}.json", meta)
    print("labvault remotes benchmark")
    for k, v in meta.items():
        print(f"  {k}: {v}")
    log = a.work / f"{NAME}-commands.log"
    log.write_text("")
    print(f"  command output: {log}", flush=True)

    plan = []  # (workload, local runs, S3 runs)
    s3_wanted = not a.no_s3 and "W2" in a.workloads
    if "W2" in a.workloads:
        separate = a.s3_files is not None and a.s3_files != a.w2_files
        plan.append(
            (
                tree_workload(
                    "W2", a.w2_files, a.seed + 1, ndirs=100 if a.w2_files >= 100 else None
                ),
                True,
                s3_wanted and not separate,
            )
        )
        if s3_wanted and separate:
            plan.append(
                (
                    tree_workload(
                        "W2s3", a.s3_files, a.seed + 1, ndirs=100 if a.s3_files >= 100 else None
                    ),
                    False,
                    True,
                )
            )
    if "W1" in a.workloads:
        free = shutil.disk_usage(a.work).free
        if free < 5 * a.w1_size + (2 << 30):
            print(
                f"WARNING: W1 of {fmt_bytes(a.w1_size)} needs about {fmt_bytes(5 * a.w1_size)} free, have "
                f"{fmt_bytes(free)}: skipping W1"
            )
        else:
            plan.append((file_workload("W1", a.w1_size, a.seed), True, False))

    moto = proxy = None
    if s3_wanted:
        moto = Moto(a.work / f"{NAME}-moto.log")
        proxy = CountingProxy(moto.port)
        print(
            f"  moto server on 127.0.0.1:{moto.port}, counting proxy on 127.0.0.1:{proxy.port}",
            flush=True,
        )
    started = time.perf_counter()
    try:
        for w0, local, on_s3 in plan:
            t = time.perf_counter()
            print(f"\nworkload: generating {w0.name} ...", flush=True)
            w, pristine = ensure(w0, a.pristine)
            res.workloads[w.name] = w.description
            print(
                f"workload {w.description}  [ready in {time.perf_counter() - t:.1f} s]", flush=True
            )
            names = list(tools)
            for r in range(1, a.repeats + 1):
                if local:
                    run_baselines(a, w, pristine, r, res, caches, log)
                for name in names if r % 2 else list(reversed(names)):
                    try:
                        run_tool(
                            a,
                            tools[name],
                            w,
                            pristine,
                            r,
                            res,
                            caches,
                            log,
                            moto if on_s3 else None,
                            proxy if on_s3 else None,
                            local,
                        )
                    except OutputWrong:
                        raise  # a wrong result stops the run: main() reports it and exits 1
                    except (CommandFailed, RuntimeError, OSError) as exc:
                        msg = str(exc).strip().splitlines() or [repr(exc)]
                        print(f"    FAILED {w.name} {name} r{r}: {msg[0]}", flush=True)
                        res.failures.append(
                            {
                                "workload": w.name,
                                "tool": name,
                                "repeat": r,
                                "error": "\n".join(msg[-15:]),
                            }
                        )
                        res.save()
    finally:
        if proxy is not None:
            proxy.stop()
        if moto is not None:
            moto.stop()
    res.save()
    md = a.out / f"{NAME}.md"
    md.write_text(render(res, a.quick))
    print(f"\ndone in {time.perf_counter() - started:.0f} s; wrote {res.path} and {md}")
    meds = medians(res.records)
    print("\nmedians:")
    for (wl, subj, op), m in sorted(meds.items()):
        req = (
            f"   requests/object {sum(m['requests'].values()) / m['objects']:.3f}"
            if "requests" in m
            else ""
        )
        print(f"  {wl:3} {subj:9} {op:10} {m['seconds']:9.3f} s  (n={m['n']}){req}")
    print("\nfloors:")
    for f in check_floors(meds):
        print(f"  {f['status']:12} {f['floor']}  ({f['shown']})")
    if res.failures:
        print(f"\n{len(res.failures)} run(s) failed (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
