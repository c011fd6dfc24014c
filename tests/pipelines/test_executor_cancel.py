"""Ctrl-C against a stage that is just starting: ``LocalExecutor.cancel`` racing ``run``.

``repro`` runs stages on pool threads; Ctrl-C raises in the main thread, which calls ``cancel()``
and then waits for the pool. A command started while ``cancel()`` ran must be stopped too, else
``repro`` waits for it to end on its own. Each round cancels at a random moment around the start
of a long command, the race's window included (the whole ``Popen``: fork and exec), and the run
must end at once.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

from labvault.pipelines.executors import LocalExecutor


def test_a_cancel_at_any_moment_of_a_start_stops_the_command(tmp_path: Path) -> None:
    rng = random.Random(20261204)
    env = dict(os.environ)
    for _ in range(60):
        ex = LocalExecutor(stream=False)
        out: dict[str, tuple[int, str]] = {}
        t = threading.Thread(target=lambda ex=ex, out=out: out.update(r=ex.run("sleep 30", str(tmp_path), env)))
        t.start()
        time.sleep(rng.uniform(0, 0.006))
        ex.cancel()
        t.join(timeout=10)
        try:
            assert not t.is_alive(), "a command started while cancel() ran was never stopped"
            code, _ = out["r"]
            assert code != 0  # 130 when nothing started, else killed by SIGTERM
        finally:
            for p in list(ex._procs):
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            t.join()


def test_nothing_starts_after_a_cancel(tmp_path: Path) -> None:
    ex = LocalExecutor(stream=False)
    ex.cancel()
    marker = tmp_path / "ran"
    assert ex.run(f"touch {marker}", str(tmp_path), dict(os.environ)) == (130, "cancelled")
    assert not marker.exists()
