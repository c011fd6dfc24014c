"""Description of the machine and software a benchmark ran on."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / (1 << 20):.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _mount_of(path: Path) -> tuple[str, str, str]:
    """(device, mount point, filesystem type) of the mount holding ``path``."""
    path = path.resolve()
    best = ("unknown", "/", "unknown")
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            dev, mnt, fstype = line.split()[:3]
            if (str(path) == mnt or str(path).startswith(mnt.rstrip("/") + "/")) and len(
                mnt
            ) >= len(best[1]):
                best = (dev, mnt, fstype)
    except OSError:
        pass
    return best


def _nproc() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return str(len(os.sched_getaffinity(0)))


def _git_version() -> str:
    try:
        return subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


def describe(work: Path, versions: dict[str, str]) -> dict[str, str]:
    dev, mnt, fstype = _mount_of(work)
    st = os.statvfs(work)
    return {
        "date": dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "nproc": _nproc(),
        "cpu_count": str(os.cpu_count()),
        "memory": _mem_total(),
        "filesystem": f"{fstype} on {dev} (mounted at {mnt})",
        "disk_free": f"{st.f_bavail * st.f_frsize / (1 << 30):.0f} GiB free",
        "kernel": platform.release(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "git": _git_version(),
        **{f"{k}_version": v for k, v in versions.items()},
    }
