"""Timing primitives: one timed child process, page-cache dropping, write-back timing.

Each timed command runs as its own child. Wall time is taken with ``time.perf_counter``
around ``Popen`` + ``os.wait4``.

Peak memory: the ``ru_maxrss`` that ``wait4`` returns for a child started straight from
this process is wrong on Linux: ``subprocess`` starts children with vfork, and at exec the
kernel folds the old (shared) address space's high-water mark, i.e. *this* process's RSS,
into the child's ``maxrss``. So when GNU time is present the command runs under
``/usr/bin/time -f %M``: time is a small C program that forks the command itself and reads
its ``ru_maxrss`` with ``wait4``, so the number is the command's own peak (KiB, including
any grandchildren it reaped). Without GNU time we fall back to our own ``wait4`` value.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DROP_CACHES = Path("/proc/sys/vm/drop_caches")
GNU_TIME = Path("/usr/bin/time")


@dataclass(frozen=True)
class Measurement:
    """One timed run of one command."""

    seconds: float
    maxrss_kib: int
    returncode: int
    writeback_seconds: float  # time of the `sync` right after the command (untimed)
    output: str = ""  # what the command printed (stdout and stderr), for the output checks
    cpu_seconds: float = 0.0  # user + system time of the command and the children it waited for


class CommandFailed(RuntimeError):
    """A timed command exited non-zero."""


class CachePolicy:
    """Drops the page cache before a timed command, when allowed and asked for."""

    def __init__(self, want_drop: bool) -> None:
        self.enabled = want_drop and self._can_drop()

    @staticmethod
    def _can_drop() -> bool:
        try:
            os.sync()
            DROP_CACHES.write_text("3\n")
        except OSError:
            return False
        return True

    def prepare(self) -> None:
        """Flush dirty pages, then (if enabled) empty the page, dentry and inode caches."""
        os.sync()
        if self.enabled:
            DROP_CACHES.write_text("3\n")

    def describe(self) -> str:
        if self.enabled:
            return "dropped (`sync; echo 3 > /proc/sys/vm/drop_caches`) before every timed command"
        return "warm (not dropped)"


def run_timed(
    argv: Sequence[str],
    cwd: Path,
    log: Path,
    env: dict[str, str] | None = None,
    caches: CachePolicy | None = None,
    check: bool = True,
) -> Measurement:
    """Run ``argv`` in ``cwd``; stdout and stderr go to ``log`` (appended)."""
    if caches is not None:
        caches.prepare()
    rss_file = log.with_name(log.name + ".maxrss")
    wrapped = list(argv)
    if GNU_TIME.exists():
        wrapped = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file), *wrapped]
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(argv)}   (cwd={cwd})\n".encode())
        out.flush()
        offset = out.tell()
        start = time.perf_counter()
        proc = subprocess.Popen(
            wrapped,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        returncode = os.waitstatus_to_exitcode(status)
    maxrss = int(usage.ru_maxrss)
    cpu = usage.ru_utime + usage.ru_stime  # GNU time's own share is a few milliseconds
    if GNU_TIME.exists():
        lines = rss_file.read_text().split()  # "Command exited with non-zero status N" may precede
        maxrss = int(lines[-1]) if lines and lines[-1].isdigit() else -1
        rss_file.unlink()
    wb_start = time.perf_counter()
    os.sync()
    writeback = time.perf_counter() - wb_start
    with open(log, "rb") as f:
        f.seek(offset)
        output = f.read().decode(errors="replace")
    m = Measurement(seconds, maxrss, returncode, writeback, output, cpu)
    if check and m.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise CommandFailed(
            f"{' '.join(argv)} exited {m.returncode} (cwd={cwd}); log tail:\n{tail}"
        )
    return m


def run_untimed(
    argv: Sequence[str], cwd: Path, log: Path, env: dict[str, str] | None = None
) -> None:
    """Setup step: run, log, fail loudly."""
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(argv)}   (cwd={cwd}, untimed)\n".encode())
        out.flush()
        rc = subprocess.call(
            list(argv),
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    if rc != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise CommandFailed(
            f"setup step {' '.join(argv)} exited {rc} (cwd={cwd}); log tail:\n{tail}"
        )
