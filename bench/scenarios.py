"""Timed scenarios: a tool's operation sequence on a workload, and the bare baselines."""

from __future__ import annotations

import hashlib
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from measure import CachePolicy, Measurement, run_timed, run_untimed
from tools import Tool
from workloads import Workload, modify_one, tree_layout

BENCH = Path(__file__).resolve().parent

TREE_OPS = ("add", "status_noop", "status_noop_warm", "status_changed", "readd", "checkout")
FILE_OPS = ("add", "status_noop", "status_noop_warm", "checkout")
SCALING_OPS = ("add", "status_noop", "status_noop_warm")


@dataclass
class Context:
    """What every scenario needs: where to work, how to treat caches, how to report."""

    work: Path
    caches: CachePolicy
    emit: Callable[[dict[str, object]], None]
    log: Path


def _record(ctx: Context, w: Workload, subject: str, op: str, repeat: int, m: Measurement) -> None:
    ctx.emit(
        {
            "workload": w.name,
            "subject": subject,
            "op": op,
            "repeat": repeat,
            "seconds": m.seconds,
            "maxrss_kib": m.maxrss_kib,
            "writeback_seconds": m.writeback_seconds,
            "files": w.nfiles,
            "bytes": w.size,
        }
    )


def _fresh(path: Path) -> Path:
    for p in (path, path.with_name(path.name + ".site-cache")):
        if p.exists():
            shutil.rmtree(p)
    return path


def _clean(path: Path) -> None:
    _fresh(path)


def run_tool(
    ctx: Context, tool: Tool, w: Workload, pristine: Path, ops: tuple[str, ...], repeat: int
) -> None:
    """Fresh git repo + `init`, copy the workload in (untimed), then the timed sequence."""
    repo = _fresh(ctx.work / "runs" / f"{tool.name}-{w.name}-r{repeat}")
    repo.mkdir(parents=True)
    env = tool.env(repo)
    target = repo / w.target
    cp = ["cp", "-r", str(pristine), str(target)]
    run_untimed(cp, repo, ctx.log)
    run_untimed(["git", "init", "-q"], repo, ctx.log, env)
    run_untimed(tool.argv("init", w.target), repo, ctx.log, env)
    for extra in tool.init_extra:
        run_untimed([str(tool.exe), *extra], repo, ctx.log, env)

    def timed(op: str, argv_op: str, warm: bool = False) -> None:
        m = run_timed(
            tool.argv(argv_op, w.target), repo, ctx.log, env, None if warm else ctx.caches
        )
        _record(ctx, w, tool.name, op, repeat, m)

    try:
        timed("add", "add")  # everything else needs it, so it always runs
        if "status_noop" in ops:
            timed("status_noop", "status")
        if "status_noop_warm" in ops:
            timed("status_noop_warm", "status", warm=True)
        if w.kind == "tree" and ({"status_changed", "readd"} & set(ops)):
            modify_one(target, w, salt=repeat)
            if "status_changed" in ops:
                timed("status_changed", "status")
            if "readd" in ops:
                timed("readd", "add")
        if "checkout" in ops:
            expect = _fingerprint(target, w)
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()
            timed("checkout", "checkout")
            got = _fingerprint(target, w)
            if got != expect:
                raise RuntimeError(f"{tool.name} checkout of {w.name} restored different data")
    finally:
        _clean(repo)


def _fingerprint(target: Path, w: Workload) -> str:
    """Cheap check that a checkout restored the data: file count, sizes and a few contents."""
    h = hashlib.md5()
    if w.kind == "file":
        with open(target, "rb") as f:
            h.update(f.read(1 << 20))
        h.update(str(target.stat().st_size).encode())
        return h.hexdigest()
    rels = tree_layout(w)
    h.update(str(sum(1 for p in target.rglob("*") if p.is_file())).encode())
    for rel in rels[:: max(1, len(rels) // 200)]:
        h.update((target / rel).read_bytes())
    return h.hexdigest()


def run_tree_baselines(
    ctx: Context, w: Workload, pristine: Path, repeat: int, names: tuple[str, ...]
) -> None:
    base = _fresh(ctx.work / "runs" / f"baseline-{w.name}-r{repeat}")
    base.mkdir(parents=True)
    try:
        if "cp_r" in names:
            m = run_timed(
                ["cp", "-r", str(pristine), str(base / "copy")], base, ctx.log, None, ctx.caches
            )
            _record(ctx, w, "baseline", "cp_r", repeat, m)
        if "bare_loop" in names:
            argv = [sys.executable, str(BENCH / "bare_loop.py"), str(pristine), str(base / "cache")]
            m = run_timed(argv, base, ctx.log, None, ctx.caches)
            _record(ctx, w, "baseline", "bare_loop", repeat, m)
        if "walk_stat" in names:
            argv = [sys.executable, str(BENCH / "walk_stat.py"), str(pristine)]
            m = run_timed(argv, base, ctx.log, None, ctx.caches)
            _record(ctx, w, "baseline", "walk_stat", repeat, m)
        if "md5sum_tree" in names:
            cmd = f"find '{pristine}' -type f -print0 | xargs -0 md5sum > /dev/null"
            m = run_timed(["bash", "-c", cmd], base, ctx.log, None, ctx.caches)
            _record(ctx, w, "baseline", "md5sum_tree", repeat, m)
    finally:
        _clean(base)


def run_file_baselines(ctx: Context, w: Workload, pristine: Path, repeat: int) -> None:
    base = _fresh(ctx.work / "runs" / f"baseline-{w.name}-r{repeat}")
    base.mkdir(parents=True)
    try:
        m = run_timed(["md5sum", str(pristine)], base, ctx.log, None, ctx.caches)
        _record(ctx, w, "baseline", "md5sum", repeat, m)
        m = run_timed(
            ["cp", str(pristine), str(base / "copy.bin")], base, ctx.log, None, ctx.caches
        )
        _record(ctx, w, "baseline", "cp", repeat, m)
    finally:
        _clean(base)
