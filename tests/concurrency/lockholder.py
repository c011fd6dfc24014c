"""Holds a repo's lock (an exclusive flock on ``.dvc/tmp/lock``, as labvault and dvc take it) until told.

Usage: ``python lockholder.py REPO [--announce CMD]``. Prints ``locked`` once it holds the lock and
releases it when a line arrives on stdin (or stdin closes). With ``--announce`` it also leaves the
holder note labvault itself writes beside the lock (pid, command, since), as a labvault holder would.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from pathlib import Path


def main() -> int:
    repo = Path(sys.argv[1])
    announce = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--announce" else None
    tmp = repo / ".dvc" / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    fd = os.open(tmp / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    note = tmp / "labvault-lock.json"
    if announce:
        note.write_text(json.dumps({"pid": os.getpid(), "cmd": announce, "since": time.time()}))
    print("locked", flush=True)
    sys.stdin.readline()
    if announce:
        try:
            note.unlink()
        except FileNotFoundError:
            pass
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
