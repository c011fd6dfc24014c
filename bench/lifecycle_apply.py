"""``lifecycle apply`` of W2 across file systems, against ``cp -a`` then ``rm -r`` of the same tree.

Workload: W2 (50,000 random files of 1..8 KiB in 100 folders) as one dataset unit,
``nvme0/datasets/w2`` on the bench's file system (the hot tier), to move to the warm tier
``ssd0`` on a tmpfs mounted for the run (a second file system: the move must copy; root needed).
Before each timed run (untimed): the tree copied in from the pristine W2, ``sync``; for labvault a
fresh catalog and ``lab scan`` (hashes it once). Page cache warm for both.

Timed, each a fresh process under GNU time (wall, CPU, peak RSS):
  * ``sh -c 'cp -a SRC DST && rm -r SRC'``;
  * ``labvault lifecycle apply --json --as-of <30 days on>``: plan (quick scan), copy with every
    file and folder fsynced, read back and hash the copy against the catalog, switch, delete the
    source (a symlink is left at its path). Floor: at least 0.7x the speed of the baseline (its time
    at most 1/0.7 of the baseline's).
Checked after each run: the md5 of every file at the destination equals the W2 manifest, the
source is gone (labvault: a symlink to the destination), and labvault reports one unit moved.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from checks import OutputWrong, check_restored, expected_content
from lifecycle_common import Timed, env_for, lab_yaml, labvault_exe, medians, repeat, timed, w2

FLOOR_RATIO = 0.7


def _mount_tmpfs(path: Path, size_mib: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0755", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"cannot mount a tmpfs at {path} (run as root): {proc.stderr.strip()}")


def apply_bench(files: int, repeats: int, work: Path) -> dict[str, Any]:
    from labvault import api

    w, pristine = w2(work, files)
    content = expected_content(pristine)
    print(f"workload: {w.description}, as one dataset unit moved from the bench's file system to a tmpfs",
          flush=True)
    hot, warm = work / "apply" / "nvme0", work / "apply" / "ssd0"
    (hot / "datasets").mkdir(parents=True, exist_ok=True)
    _mount_tmpfs(warm, max(256, w.size * 3 // (1 << 20)))
    try:
        (warm / "datasets").mkdir()
        src, dst = hot / "datasets" / "w2", warm / "datasets" / "w2"
        lab = lab_yaml(work / "apply-lab.yaml", {"hot": hot, "warm": warm}, [("hot", "warm", 7)])
        as_of = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
        n = {"run": 0}

        def fresh() -> None:
            for p in (src, dst):
                if p.is_symlink() or p.is_file():
                    p.unlink()
                elif p.exists():
                    shutil.rmtree(p)
            subprocess.run(["cp", "-a", str(pristine), str(src)], check=True)
            os.sync()

        def baseline() -> Timed:
            fresh()
            return timed(["sh", "-c", f"cp -a '{src}' '{dst}' && rm -r '{src}'"])

        def labvault() -> Timed:
            fresh()
            n["run"] += 1
            catalog = work / f"apply-{n['run']}.sqlite"
            scanned = api.lab_scan(lab, f"sqlite:///{catalog}")
            if scanned.units != 1 or scanned.hashed_files != files:
                raise OutputWrong(f"setup scan: {scanned.units} units, {scanned.hashed_files:,} files hashed")
            os.sync()
            return timed([labvault_exe(), "lifecycle", "apply", "--json", "--as-of", as_of], env_for(catalog, lab))

        def moved(who: str, t: Timed) -> None:
            check_restored(dst, content, who)
            if who == "labvault":
                data = json.loads(t.output[t.output.index("{"):])
                statuses = [o["status"] for o in data["outcomes"]]
                if statuses != ["moved"] or not src.is_symlink() or os.path.realpath(src) != str(dst):
                    raise OutputWrong(f"lifecycle apply: outcomes {statuses}, source left as "
                                      f"{'a symlink' if src.is_symlink() else 'something else'}")
            elif os.path.lexists(src):
                raise OutputWrong("cp -a && rm -r left the source")

        base = repeat(repeats, baseline, lambda t: moved("cp -a && rm -r", t))
        ours = repeat(repeats, labvault, lambda t: moved("labvault", t))
    finally:
        subprocess.run(["umount", "-l", str(warm)], capture_output=True)
    b, o = medians(base), medians(ours)
    ratio, ratio_cpu = b["seconds"] / o["seconds"], b["cpu_seconds"] / o["cpu_seconds"]
    print(f"apply of {files:,} files across file systems: cp -a && rm -r {b['seconds']:.2f} s (CPU "
          f"{b['cpu_seconds']:.2f} s); lifecycle apply {o['seconds']:.2f} s (CPU {o['cpu_seconds']:.2f} s, "
          f"{o['peak_rss_mib']:.0f} MiB): {ratio:.2f}x the baseline's speed (floor {FLOOR_RATIO:g}x), "
          f"CPU {ratio_cpu:.2f}x", flush=True)
    return {"files": files, "bytes": w.size, "baseline": b, "apply": o, "speed_ratio": round(ratio, 3),
            "speed_ratio_cpu": round(ratio_cpu, 3)}
