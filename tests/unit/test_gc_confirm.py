"""``labvault gc`` asks before it deletes: with -f it does not, without a terminal it refuses and
deletes nothing (exit 2, one line), on a terminal (a real pty) "n" keeps everything (exit 1) and
"y" deletes what the plan said; a plan with nothing to delete asks nothing."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from pathlib import Path

from tests.conftest import Runner


def _objects(repo: Path) -> set[str]:
    base = repo / ".dvc" / "cache" / "files" / "md5"
    return {str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()}


def _two_versions(git_repo: Path, lv: Runner) -> set[str]:
    lv("init")
    (git_repo / "data.txt").write_text("v1\n")
    lv("add", "data.txt")
    first = _objects(git_repo)
    (git_repo / "data.txt").chmod(0o644)
    (git_repo / "data.txt").write_text("v2\n")
    lv("add", "data.txt")
    return first


def _on_a_terminal(lv: Runner, answer: bytes, *args: str) -> tuple[int, str]:
    """Run ``labvault gc ARGS`` with a pty as its stdin and stderr; type ``answer`` at the question."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([*lv.argv0, "gc", *args], cwd=lv.cwd, env=lv.env, stdin=follower,
                            stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 120
    try:
        while b"Delete them?" not in seen and proc.poll() is None and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.5)[0]:
                try:
                    seen += os.read(leader, 4096)
                except OSError:
                    break
        if b"Delete them?" in seen:
            os.write(leader, answer + b"\n")
        proc.wait(timeout=120)
        while select.select([leader], [], [], 0.2)[0]:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
    return proc.returncode, seen.decode(errors="replace")


def test_without_a_terminal_gc_refuses_and_deletes_nothing(git_repo: Path, lv: Runner) -> None:
    first = _two_versions(git_repo, lv)
    before = _objects(git_repo)
    proc = lv("gc", check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "gc would delete 1 cache objects" in proc.stderr
    assert "--force" in proc.stderr
    assert _objects(git_repo) == before
    assert lv("gc", "--dry-run").returncode == 0 and _objects(git_repo) == before
    lv("gc", "-f")
    assert _objects(git_repo) == before - first


def test_on_a_terminal_no_keeps_and_yes_deletes(git_repo: Path, lv: Runner) -> None:
    first = _two_versions(git_repo, lv)
    before = _objects(git_repo)
    code, out = _on_a_terminal(lv, b"n")
    assert code == 1 and "1 cache objects" in out and "nothing deleted" in out, out
    assert _objects(git_repo) == before
    code, out = _on_a_terminal(lv, b"y")
    assert code == 0, out
    assert _objects(git_repo) == before - first
    code, out = _on_a_terminal(lv, b"")  # nothing left to delete: no question
    assert code == 0 and "Delete them?" not in out, out
