"""Baseline: the least work a no-op `status` of a folder must do: list it and stat every file.

Usage: python walk_stat.py ROOT
"""

from __future__ import annotations

import os
import sys


def main(root: str) -> int:
    count = 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                else:
                    e.stat(follow_symlinks=False)
                    count += 1
    print(f"{count} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
