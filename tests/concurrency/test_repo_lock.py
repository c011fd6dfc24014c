"""Concurrent labvault processes: writers serialize on the repo lock and neither loses work.

The lock is an exclusive flock on ``.dvc/tmp/lock`` (the file dvc locks too). A waiting process
names the holder once on stderr and goes on when the lock is released; with
``LABVAULT_LOCK_TIMEOUT`` it gives up with exit code 5, one error line, and nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
LOCK_TIMEOUT_EXIT = 5


def _files(base: Path, prefix: str, n: int, big: int = 0) -> dict[str, bytes]:
    out = {f"{prefix}/sub{i % 5}/f{i:04d}": f"{prefix}-{i}\n".encode() * (i % 17) for i in range(n)}
    if big:
        out[f"{prefix}/big.bin"] = hashlib.sha256(prefix.encode()).digest() * (big // 32)
    return out


def _start(
    lv, *args: str, env: dict[str, str] | None = None, stderr_to: Path | None = None
) -> subprocess.Popen:
    return subprocess.Popen(
        [*lv.argv0, *args],
        cwd=lv.cwd,
        env=env or lv.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=open(stderr_to, "wb") if stderr_to else subprocess.PIPE,
        text=stderr_to is None,
    )


@contextmanager
def lock_held(repo: Path, announce: str | None = None) -> Iterator[subprocess.Popen]:
    args = [sys.executable, str(HERE / "lockholder.py"), str(repo)]
    if announce:
        args += ["--announce", announce]
    holder = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        if holder.poll() is None:
            assert holder.stdin is not None
            holder.stdin.write("release\n")
            holder.stdin.flush()
            holder.wait(timeout=10)


def _repo_state(root: Path) -> dict[str, bytes]:
    """Every file of the repo except git internals and labvault's scratch folder .dvc/tmp."""
    out: dict[str, bytes] = {}
    for dirpath, dirs, files in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        dirs[:] = [
            d
            for d in dirs
            if not (rel_dir == "." and d == ".git") and not (rel_dir == ".dvc" and d == "tmp")
        ]
        for name in files:
            p = Path(dirpath) / name
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def _wait_for_line(path: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        if "\n" in text:
            return text
        time.sleep(0.02)
    return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture
def repo(git_repo: Path, lv) -> Path:
    lv("init")
    return git_repo


# --- two writers at once -------------------------------------------------------------------------
@pytest.mark.parametrize("round_", range(3))
def test_two_adds_on_different_targets_both_succeed(
    repo: Path, lv, make_tree, tmp_path: Path, env, round_: int
) -> None:
    tree = {
        **_files(repo, "alpha", 400, big=4 << 20),
        "gamma.bin": os.urandom(3 << 20),
    }
    make_tree(repo, tree)
    # what a sequential run writes, in a twin repo
    twin = tmp_path / "twin"
    twin.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=twin, env=env, check=True)
    subprocess.run([*lv.argv0, "init"], cwd=twin, env=env, check=True, capture_output=True)
    make_tree(twin, tree)
    for target in ("alpha", "gamma.bin"):
        subprocess.run(
            [*lv.argv0, "add", target], cwd=twin, env=env, check=True, capture_output=True
        )

    first_target = "alpha" if round_ % 2 == 0 else "gamma.bin"
    second_target = "gamma.bin" if first_target == "alpha" else "alpha"
    a = _start(lv, "add", first_target)
    b = _start(lv, "add", second_target)
    _, err_a = a.communicate(timeout=120)
    _, err_b = b.communicate(timeout=120)
    assert a.returncode == 0, err_a
    assert b.returncode == 0, err_b
    for target in ("alpha", "gamma.bin"):
        assert (repo / f"{target}.dvc").read_bytes() == (twin / f"{target}.dvc").read_bytes()
    ignored = set((repo / ".gitignore").read_text().split())
    assert {"/alpha", "/gamma.bin"} <= ignored
    verify = lv("verify", "--json")
    assert json.loads(verify.stdout)["corrupt"] == []
    status = json.loads(lv("status", "--json").stdout)
    assert status["clean"], status


def test_many_adds_race_on_the_same_gitignore(repo: Path, lv, make_tree) -> None:
    """Two adds of sibling targets write the same .gitignore: neither entry may be lost."""
    names = [f"t{i}" for i in range(6)]
    make_tree(repo, {f"{n}/x": n.encode() for n in names})
    procs = [_start(lv, "add", n) for n in names]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    ignored = set((repo / ".gitignore").read_text().split())
    assert {f"/{n}" for n in names} <= ignored
    for n in names:
        assert (repo / f"{n}.dvc").exists()
    assert json.loads(lv("status", "--json").stdout)["clean"]


# --- waiting for the lock ------------------------------------------------------------------------
def test_waiter_names_the_holder_then_proceeds(repo: Path, lv, make_tree, tmp_path: Path) -> None:
    make_tree(repo, {"data/a": "a", "data/b": "b"})
    err_file = tmp_path / "waiter.err"
    with lock_held(repo, announce="labvault gc --all-commits") as holder:
        waiter = _start(lv, "add", "data", stderr_to=err_file)
        line = _wait_for_line(err_file, timeout=10)
        time.sleep(0.5)
        assert waiter.poll() is None, (
            f"add did not wait for the lock: rc={waiter.returncode} {line}"
        )
        assert not (repo / "data.dvc").exists()
        first = line.splitlines()[0]
        assert str(holder.pid) in first, first
        assert "gc --all-commits" in first, first
        assert "lock" in first.lower(), first
    waiter.wait(timeout=60)
    err = err_file.read_text()
    assert waiter.returncode == 0, err
    assert (repo / "data.dvc").exists()
    assert err.lower().count("lock") == 1, f"the holder should be named once:\n{err}"


def test_waiter_proceeds_after_a_foreign_holder(repo: Path, lv, make_tree, tmp_path: Path) -> None:
    """A holder that leaves no note (dvc, say): labvault still waits, says so, then proceeds."""
    make_tree(repo, {"data/a": "a"})
    err_file = tmp_path / "waiter.err"
    with lock_held(repo):
        waiter = _start(lv, "add", "data", stderr_to=err_file)
        line = _wait_for_line(err_file, timeout=10)
        time.sleep(0.3)
        assert waiter.poll() is None, line
        assert "lock" in line.lower(), line
    waiter.wait(timeout=60)
    assert waiter.returncode == 0, err_file.read_text()
    assert (repo / "data.dvc").exists()


def _freeze_holder(repo: Path, lv, tmp_path: Path, name: str) -> subprocess.Popen | None:
    """Start ``labvault add NAME`` and SIGSTOP it while it holds the lock (None: it finished first)."""
    holder = _start(lv, "add", name, stderr_to=tmp_path / f"holder-{name}.err")
    note = repo / ".dvc" / "tmp" / "labvault-lock.json"
    lock_path = repo / ".dvc" / "tmp" / "lock"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and holder.poll() is None:
        if note.exists() and lock_path.exists() and str(holder.pid) in _read(note):
            os.kill(holder.pid, signal.SIGSTOP)
            return holder
        time.sleep(0.001)
    assert holder.wait(timeout=120) == 0
    return None


def test_waiter_names_a_real_labvault_holder(repo: Path, lv, make_tree, tmp_path: Path) -> None:
    """The holder is a real ``labvault add``, frozen (SIGSTOP) while it holds the lock. When it
    finishes before it can be frozen, the attempt is repeated with more data; then it fails."""
    make_tree(repo, {"quick/x": "x"})
    holder = None
    for attempt, (n, big) in enumerate(((3000, 30 << 20), (12000, 120 << 20), (30000, 400 << 20))):
        name = f"slow{attempt}"
        make_tree(repo, _files(repo, name, n, big=big))
        holder = _freeze_holder(repo, lv, tmp_path, name)
        if holder is not None:
            break
    if holder is None:
        pytest.fail("the holder finished before it could be frozen, even with 30,000 files and 400 MB")
    err_file = tmp_path / "waiter.err"
    try:
        waiter = _start(lv, "add", "quick", stderr_to=err_file)
        line = _wait_for_line(err_file, timeout=10)
        assert waiter.poll() is None, line
        assert str(holder.pid) in line and f"add {name}" in line, line
    finally:
        os.kill(holder.pid, signal.SIGCONT)
    assert holder.wait(timeout=120) == 0
    assert waiter.wait(timeout=120) == 0, err_file.read_text()
    assert (repo / f"{name}.dvc").exists() and (repo / "quick.dvc").exists()
    assert json.loads(lv("status", "--json").stdout)["clean"]


def _read(p: Path) -> str:
    try:
        return p.read_text()
    except OSError:
        return ""


# --- giving up -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ("add", "data"),
        ("add", "new"),
        ("commit",),
        ("checkout",),
        ("checkout", "--force"),
        ("gc", "-f"),
        ("remove", "data.dvc", "--outs"),
    ],
    ids=lambda a: " ".join(a),
)
def test_lock_timeout_exits_5_and_changes_nothing(
    repo: Path, lv, git, make_tree, env, args: tuple[str, ...]
) -> None:
    make_tree(repo, {"data/a": "a", "data/b": "b"})
    lv("add", "data")
    git("add", "-A")
    git("commit", "-q", "-m", "data")
    # dirty workspace so every command would have work to do
    make_tree(repo, {"data/a": "changed", "data/c": "new", "new/x": "x"})
    (repo / "data" / "b").unlink()
    before = _repo_state(repo)
    timed_env = {**env, "LABVAULT_LOCK_TIMEOUT": "1"}
    with lock_held(repo, announce="labvault add other"):
        t0 = time.monotonic()
        proc = subprocess.run(
            [*lv.argv0, *args], cwd=repo, env=timed_env, capture_output=True, text=True, timeout=60
        )
        elapsed = time.monotonic() - t0
    assert proc.returncode == LOCK_TIMEOUT_EXIT, proc.stderr
    assert 0.9 <= elapsed < 10, elapsed
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert "lock" in errors[0], errors[0]
    assert all(
        ln.strip() == "" or ln.startswith("error:") or "lock" in ln
        for ln in proc.stderr.splitlines()
    ), proc.stderr
    assert _repo_state(repo) == before
