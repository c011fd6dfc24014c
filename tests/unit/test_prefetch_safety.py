"""What the read-ahead helper may never do to its caller: be started by a library call that did
not ask for it, be a fork, hand over listings taken before the repo lock was held, hold the
caller's descriptors (the repo lock above all), outlive its parent, or keep going once the scan
is gone."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labvault import api
from labvault.workspace import prefetch, walk
from labvault.workspace.prefetch_process import cpus
from labvault.workspace.repo import open_repo

pytestmark = pytest.mark.skipif(cpus() < 2 and os.environ.get("CI") != "true", reason="the helper needs two CPUs")

# More folders than notes fit in a pipe (64 KiB / 16 bytes): a helper whose scan does not read
# the pipe blocks in a write, mid-walk, until it is killed or the pipe breaks.
MANY = 5000

_STARTS = frozenset(("os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "subprocess.Popen", "os.system"))
_events: list[str] = []
_forks: list[int] = []


def _audit(event: str, args: object) -> None:
    if event in _STARTS:
        _events.append(event)


def _watch_process_starts() -> None:
    """Record every process start of this process from now on: audit events for every way
    Python starts one, and an at-fork hook. Neither can be removed, so they are set up once."""
    if not getattr(_watch_process_starts, "done", False):
        sys.addaudithook(_audit)
        os.register_at_fork(before=lambda: _forks.append(1))
        setattr(_watch_process_starts, "done", True)  # noqa: B010


def _many_folders(root: Path) -> None:
    for i in range(MANY):
        (root / f"{i:05d}").mkdir(parents=True)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def pipeline_repo(tmp_path: Path) -> Iterator[Path]:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    api.init(tmp_path)
    (tmp_path / "in").mkdir()
    for i in range(5):
        (tmp_path / "in" / f"{i}.txt").write_text(str(i))
    (tmp_path / "dvc.yaml").write_text("stages:\n  s:\n    cmd: cat in/0.txt > out.txt\n    deps:\n    - in\n    outs:\n    - out.txt\n")
    api.repro(repo=tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("a")
    api.add(["data"], repo=tmp_path)
    yield tmp_path


def test_library_calls_start_no_process_unless_asked(pipeline_repo: Path) -> None:
    _watch_process_starts()
    started = prefetch.started
    del _events[:], _forks[:]
    assert api.status(repo=pipeline_repo).clean
    assert not any(s.changed for s in api.stage_status(repo=pipeline_repo))
    assert [r.action for r in api.repro(repo=pipeline_repo).runs] == ["unchanged"]
    assert _events == [] and _forks == [] and prefetch.started == started

    # Asked for: a helper runs, started by posix_spawn (a fresh interpreter): no fork, no at-fork hook.
    api.status(repo=pipeline_repo, read_ahead=True)
    api.stage_status(repo=pipeline_repo, read_ahead=True)
    api.repro(repo=pipeline_repo, options=api.ReproOptions(read_ahead=True))
    assert prefetch.started - started == 3
    assert set(_events) == {"os.posix_spawn"} and _forks == []


def test_listings_taken_before_the_lock_are_dropped_when_it_is_taken(tmp_path: Path) -> None:
    api.init(tmp_path, no_scm=True)
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "f.bin").write_bytes(b"before")
    repo = open_repo(tmp_path)
    helper = prefetch.Prefetch([str(root)], read_ahead=True).start()
    pid = helper.pid
    assert pid and helper.join(30)
    assert prefetch._current is not None
    prefetch._current.drain()
    assert len(prefetch._current.listings) == 2  # everything was listed ...
    (root / "sub" / "f.bin").write_bytes(b"changed while waiting for the lock")  # ... then changed
    before = prefetch.handed_out
    try:
        with repo.locked():
            files = walk.walk_dir(str(root), repo.ignore.checker_for("data"))
    finally:
        helper.stop()
    assert prefetch.handed_out == before and prefetch._current is None
    assert [f[4] for f in files] == [len(b"changed while waiting for the lock")]


def _fd_targets(pid: int) -> dict[int, str]:
    """What each open descriptor of ``pid`` names. One closed between the listing and its
    readlink is skipped: the walking helper opens and closes its folders all the time, and a
    descriptor it inherited would stay open."""
    targets: dict[int, str] = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            targets[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
    return targets


def test_the_helper_holds_none_of_the_callers_descriptors(tmp_path: Path) -> None:
    api.init(tmp_path, no_scm=True)
    root = tmp_path / "data"
    _many_folders(root)
    repo = open_repo(tmp_path)
    stray = os.open(tmp_path / "stray", os.O_WRONLY | os.O_CREAT, 0o644)
    os.set_inheritable(stray, True)  # as a careless library might leave one
    try:
        with repo.locked():
            helper = prefetch.Prefetch([str(root)], read_ahead=True).start()
            assert helper.pid
            current = prefetch._current
            assert current is not None
            deadline = time.monotonic() + 30
            while not current.listings and time.monotonic() < deadline:  # it is walking now
                current.drain()
                time.sleep(0.01)
            assert current.listings
            fds = _fd_targets(helper.pid)
        # The lock is released and the helper still runs (blocked on its full pipe): the lock
        # must be free for another process.
        assert _alive(helper.pid)
        lock_fd = os.open(tmp_path / ".dvc" / "tmp" / "lock", os.O_RDWR)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(lock_fd)
        helper.stop()
    finally:
        os.close(stray)
    assert all(fds[fd] == "/dev/null" for fd in (0, 1, 2)), fds
    # Its own: the shared memory, the pipe, and the folder it is reading; nothing of the caller's.
    others = [target for fd, target in fds.items() if fd > 2]
    assert sum(t.startswith("/memfd:labvault-read-ahead") for t in others) == 1, fds
    assert sum(t.startswith("pipe:") for t in others) == 1, fds
    assert all(t.startswith(("/memfd:", "pipe:", str(root) + "/")) for t in others), fds


_PARENT = """
import os, sys, time
from labvault.workspace import prefetch
helper = prefetch.Prefetch([sys.argv[1]], read_ahead=True).start()
keeper = os.fork()  # holds the pipe's read end open: the helper sees no broken pipe
if keeper == 0:
    time.sleep(120)
    os._exit(0)
print(helper.pid, keeper, flush=True)
time.sleep(120)
"""


def test_the_helper_dies_with_its_parent(tmp_path: Path) -> None:
    root = tmp_path / "data"
    _many_folders(root)
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, str(root)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    helper_pid, keeper = map(int, parent.stdout.readline().split())
    try:
        assert helper_pid and _alive(helper_pid)
        time.sleep(0.5)  # let it reach its walk (or block on the full pipe)
        assert _alive(helper_pid)
        parent.kill()
        parent.wait()
        assert _gone_within(helper_pid, 5), "the helper outlived its parent"
    finally:
        for pid in (keeper, helper_pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_the_helper_stops_when_the_pipe_breaks(tmp_path: Path) -> None:
    root = tmp_path / "data"
    _many_folders(root)
    helper = prefetch.Prefetch([str(root)], read_ahead=True).start()
    current = prefetch._current
    try:
        assert helper.pid and current is not None
        deadline = time.monotonic() + 30
        wchan = ""
        while time.monotonic() < deadline:  # until it waits to write a note into the full pipe
            wchan = Path(f"/proc/{helper.pid}/wchan").read_text()
            if "pipe" in wchan:
                break
            time.sleep(0.01)
        assert "pipe" in wchan, wchan
        os.close(current.rfd)  # the scan is gone
        current.rfd = -1
        assert helper.join(5), "the helper kept going after the pipe broke"
    finally:
        helper.stop()
