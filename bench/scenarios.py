"""Timed scenarios: a tool's operation sequence on a workload, and the bare baselines."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from checks import (
    check_clean,
    check_count,
    check_md5sum_lines,
    check_pointer,
    check_reports_change,
    check_restored,
    count_files,
    expected_content,
    file_md5,
    oid_of,
)
from measure import CachePolicy, Measurement, run_timed, run_untimed
from tools import Tool
from workloads import Workload, modify_one

BENCH = Path(__file__).resolve().parent

TREE_OPS = ("add", "status_noop", "status_noop_warm", "status_changed", "readd", "checkout")
FILE_OPS = ("add", "add_warm", "status_noop", "status_noop_warm", "checkout")
ALL_OPS = (*TREE_OPS, "add_warm")
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
    """Fresh git repo + `init`, copy the workload in (untimed), then the timed sequence.

    Each timed command's output is checked (bench/checks.py) before its time is recorded: the
    pointer an add writes names the workload's oid, a no-op status reports clean, a status after
    a change reports it, a checkout restores every byte. A wrong output raises OutputWrong."""
    repo = _fresh(ctx.work / "runs" / f"{tool.name}-{w.name}-r{repeat}")
    repo.mkdir(parents=True)
    env = tool.env(repo)
    target = repo / w.target
    pointer = repo / f"{w.target}.dvc"
    content = expected_content(pristine)
    who = f"{tool.name} {w.name} r{repeat}"
    cp = ["cp", "-r", str(pristine), str(target)]
    run_untimed(cp, repo, ctx.log)
    run_untimed(["git", "init", "-q"], repo, ctx.log, env)
    run_untimed(tool.argv("init", w.target), repo, ctx.log, env)
    for extra in tool.init_extra:
        run_untimed([str(tool.exe), *extra], repo, ctx.log, env)

    def timed(op: str, argv_op: str, check: Callable[[Measurement], None], warm: bool = False) -> None:
        m = run_timed(
            tool.argv(argv_op, w.target), repo, ctx.log, env, None if warm else ctx.caches
        )
        check(m)  # raises OutputWrong: the time of a wrong answer is not recorded
        _record(ctx, w, tool.name, op, repeat, m)

    try:
        if "add_warm" in ops:
            _warm_add(ctx, tool, w, pristine, repeat)
        # everything else needs the add, so it always runs
        timed("add", "add", lambda m: check_pointer(pointer, oid_of(content), f"{who} add"))
        if "status_noop" in ops:
            timed("status_noop", "status", lambda m: check_clean(m.output, f"{who} status"))
        if "status_noop_warm" in ops:
            timed(
                "status_noop_warm",
                "status",
                lambda m: check_clean(m.output, f"{who} status (warm)"),
                warm=True,
            )
        if w.kind == "tree" and ({"status_changed", "readd"} & set(ops)):
            rel = modify_one(target, w, salt=repeat)
            content = {**content, rel: file_md5(target / rel)}
            if "status_changed" in ops:
                timed(
                    "status_changed",
                    "status",
                    lambda m: check_reports_change(
                        m.output, w.target, f"{who} status after a change"
                    ),
                )
            if "readd" in ops:
                timed(
                    "readd", "add", lambda m: check_pointer(pointer, oid_of(content), f"{who} re-add")
                )
        if "checkout" in ops:
            if "readd" not in ops and content != expected_content(pristine):
                run_untimed(tool.argv("add", w.target), repo, ctx.log, env)
                check_pointer(pointer, oid_of(content), f"{who} re-add (untimed)")
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()
            timed(
                "checkout", "checkout", lambda m: check_restored(target, content, f"{who} checkout")
            )
    finally:
        _clean(repo)


def _warm_add(ctx: Context, tool: Tool, w: Workload, pristine: Path, repeat: int) -> None:
    """`add` of a file still in the page cache (as right after a download), in its own repo."""
    repo = _fresh(ctx.work / "runs" / f"{tool.name}-{w.name}-warm-r{repeat}")
    repo.mkdir(parents=True)
    env = tool.env(repo)
    try:
        run_untimed(["cp", "-r", str(pristine), str(repo / w.target)], repo, ctx.log)
        run_untimed(["git", "init", "-q"], repo, ctx.log, env)
        run_untimed(tool.argv("init", w.target), repo, ctx.log, env)
        for extra in tool.init_extra:
            run_untimed([str(tool.exe), *extra], repo, ctx.log, env)
        os.sync()  # the copy's dirty pages written out first: the add is timed, not write-back
        warm_page_cache(repo / w.target)
        m = run_timed(tool.argv("add", w.target), repo, ctx.log, env, None)
        want = oid_of(expected_content(pristine))
        check_pointer(repo / f"{w.target}.dvc", want, f"{tool.name} {w.name} r{repeat} add (warm)")
        _record(ctx, w, tool.name, "add_warm", repeat, m)
    finally:
        _clean(repo)


def run_tree_baselines(
    ctx: Context, w: Workload, pristine: Path, repeat: int, names: tuple[str, ...]
) -> None:
    """The bare baselines, each checked like the tools: a copy holds every byte, the loop and
    the walk saw every file, md5sum printed every file's right digest."""
    base = _fresh(ctx.work / "runs" / f"baseline-{w.name}-r{repeat}")
    base.mkdir(parents=True)
    content = expected_content(pristine)
    who = f"baseline {w.name} r{repeat}"
    try:
        if "cp_r" in names:
            m = run_timed(
                ["cp", "-r", str(pristine), str(base / "copy")], base, ctx.log, None, ctx.caches
            )
            check_restored(base / "copy", content, f"{who} cp -r")
            _record(ctx, w, "baseline", "cp_r", repeat, m)
        if "bare_loop" in names:
            argv = [sys.executable, str(BENCH / "bare_loop.py"), str(pristine), str(base / "cache")]
            m = run_timed(argv, base, ctx.log, None, ctx.caches)
            check_count(count_files(base / "cache"), len(content), f"{who} bare loop")
            _record(ctx, w, "baseline", "bare_loop", repeat, m)
        if "walk_stat" in names:
            argv = [sys.executable, str(BENCH / "walk_stat.py"), str(pristine)]
            m = run_timed(argv, base, ctx.log, None, ctx.caches)
            check_count(int(m.output.split()[0]), len(content), f"{who} walk+stat")
            _record(ctx, w, "baseline", "walk_stat", repeat, m)
        if "md5sum_tree" in names:
            sums = base / "md5sums.txt"
            cmd = f"cd '{pristine}' && find . -type f -print0 | xargs -0 md5sum > '{sums}'"
            m = run_timed(["bash", "-c", cmd], base, ctx.log, None, ctx.caches)
            check_md5sum_lines(sums.read_text(), content, f"{who} md5sum")
            _record(ctx, w, "baseline", "md5sum_tree", repeat, m)
    finally:
        _clean(base)


def run_file_baselines(ctx: Context, w: Workload, pristine: Path, repeat: int) -> None:
    """`md5sum` (cold, and warm: the file read just before, as right after a download) and `cp`."""
    base = _fresh(ctx.work / "runs" / f"baseline-{w.name}-r{repeat}")
    base.mkdir(parents=True)
    content = expected_content(pristine)
    who = f"baseline {w.name} r{repeat}"
    try:
        m = run_timed(["md5sum", str(pristine)], base, ctx.log, None, ctx.caches)
        check_md5sum_lines(m.output.replace(str(pristine), "./"), content, f"{who} md5sum")
        _record(ctx, w, "baseline", "md5sum", repeat, m)
        warm_page_cache(pristine)
        m = run_timed(["md5sum", str(pristine)], base, ctx.log, None, None)
        check_md5sum_lines(m.output.replace(str(pristine), "./"), content, f"{who} md5sum (warm)")
        _record(ctx, w, "baseline", "md5sum_warm", repeat, m)
        m = run_timed(
            ["cp", str(pristine), str(base / "copy.bin")], base, ctx.log, None, ctx.caches
        )
        check_restored(base / "copy.bin", content, f"{who} cp")
        _record(ctx, w, "baseline", "cp", repeat, m)
    finally:
        _clean(base)


def warm_page_cache(path: Path) -> None:
    """Read a file once (untimed), so that it is in the page cache as right after a download."""
    with open(path, "rb", buffering=0) as f:
        while f.read(16 << 20):
            pass
