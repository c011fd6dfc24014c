"""Baseline: the least work an `add` of a folder must do, as a plain single-threaded loop.

For every file under SRC: read it, md5 it, write the bytes to DST/<md5[:2]>/<md5[2:]>.
Usage: python bare_loop.py SRC DST
"""

from __future__ import annotations

import hashlib
import os
import sys


def main(src: str, dst: str) -> int:
    made: set[str] = set()
    count = 0
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        for name in sorted(filenames):
            with open(os.path.join(dirpath, name), "rb") as f:
                data = f.read()
            digest = hashlib.md5(data).hexdigest()
            sub = os.path.join(dst, digest[:2])
            if sub not in made:
                os.makedirs(sub, exist_ok=True)
                made.add(sub)
            with open(os.path.join(sub, digest[2:]), "wb") as f:
                f.write(data)
            count += 1
    print(f"{count} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
