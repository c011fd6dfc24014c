"""The guide's lifecycle scan, the baseline of ``lifecycle plan``: what ``DataLifecycleManager``'s
``archive_old_data`` does before it moves anything. For each tier with a rule, ``rglob("*")`` over
the tier, ``is_file()`` (a stat), the file's ``st_atime`` (a second stat), its age against the
rule's days, and the (source, destination) pair appended to the list of files to move. Nothing is
moved; the list's length is printed, for the benchmark to check.

    python bench/guide_scan.py ROOT AS_OF          # ROOT holds nvme0/ and ssd0/; AS_OF ISO time
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

POLICIES = (("nvme0", "ssd0", 7), ("ssd0", "hdd0", 30))  # hot -> warm after 7 days, warm -> cold after 30


def old_files(root: Path, now: datetime) -> list[tuple[Path, Path]]:
    moves = []
    for src_tier, dst_tier, days in POLICIES:
        base = root / src_tier
        for item in base.rglob("*"):
            if item.is_file():
                age = now - datetime.fromtimestamp(item.stat().st_atime)
                if age > timedelta(days=days):
                    moves.append((item, root / dst_tier / item.relative_to(base)))
    return moves


if __name__ == "__main__":
    print(len(old_files(Path(sys.argv[1]), datetime.fromisoformat(sys.argv[2]))))
