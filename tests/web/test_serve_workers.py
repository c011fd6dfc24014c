"""``labvault serve --workers 2`` as a user runs it: two server processes on one port, one signing
secret (a session made by one process is good in the other), the settings file only this user may
read, gone once the server stops; the login limit is shared out between the processes."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from labvault.api import users
from tests.catalog.conftest import free_port
from tests.conftest import Runner
from tests.web.client import Client

PASSWORD = "a long enough password"


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _settings_files() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "labvault-serve-*.json")))


def test_two_workers_share_sessions_and_clean_up(lv: Runner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cat.sqlite'}"
    users.user_add("ada", "admin", PASSWORD, catalog_url=url)
    port = free_port()
    before = _settings_files()
    server = subprocess.Popen([*lv.argv0, "serve", "--workers", "2", "--port", str(port), "--catalog", url],
                              cwd=lv.cwd, env=lv.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if Client(base).get("/login").status == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        workers = [c for c in _children(server.pid) if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
        assert len(workers) == 2, workers
        new = _settings_files() - before
        assert len(new) == 1 and os.stat(next(iter(new))).st_mode & 0o077 == 0
        c = Client(base)
        assert c.login("ada", PASSWORD).status == 303
        # each request on a new connection: the two processes take turns accepting; every one knows the session
        names = {c.get("/api/v1/me").json().get("name") for _ in range(30)}
        assert names == {"ada"}
        wrong = Client(base)
        statuses = [wrong.login("ada", "wrong password").status for _ in range(8)]
        assert 429 in statuses  # 5 attempts shared out: 2 a process, so the limit bites within 8
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert _settings_files() - before == set()
