"""The repo lock: an exclusive ``flock`` on ``.dvc/tmp/lock`` (the same file DVC locks).

A second writer waits, printing once who holds the lock, and gives up only after the timeout.
The holder's pid and command are written beside the lock for that message.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from labvault.errors import LockTimeoutError, from_os_error
from labvault.progress import NULL_PROGRESS, Progress


def _holder(info_path: Path) -> str:
    try:
        info = json.loads(info_path.read_text())
        pid = int(info["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (perhaps dvc)"
    except Exception:
        return "another process"
    since = time.strftime("%H:%M:%S", time.localtime(float(info.get("since", 0))))
    return f"pid {pid} (`{info.get('cmd', '?')}`, since {since})"


@contextmanager
def repo_lock(tmp_dir: Path, timeout: float, progress: Progress = NULL_PROGRESS) -> Iterator[None]:
    try:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp_dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise from_os_error(exc, "opening the repo lock") from exc
    info_path = tmp_dir / "labvault-lock.json"
    try:
        deadline = time.monotonic() + timeout
        told = False
        delay = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    progress.message(f"waiting for the repo lock held by {_holder(info_path)}")
                    told = True
                if time.monotonic() >= deadline:
                    raise LockTimeoutError(
                        f"the repo lock is still held by {_holder(info_path)} after {timeout:g}s",
                        "wait for it to finish, or raise LABVAULT_LOCK_TIMEOUT",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.25)
        try:
            info_path.write_text(
                json.dumps({"pid": os.getpid(), "cmd": " ".join(["labvault", *sys.argv[1:]])[:200], "since": time.time()})
            )
        except OSError:
            pass
        try:
            yield
        finally:
            try:
                info_path.unlink()
            except OSError:
                pass
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
