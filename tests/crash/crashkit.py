"""Helpers for the crash tests: run labvault, kill it with SIGKILL at a chosen instant, inspect the cache.

Everything here checks the on-disk state independently of labvault (its own md5 of each object,
its own reading of ``.dvc`` files and ``.dir`` manifests), so a bug in ``labvault verify`` cannot
hide a corrupt cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
OBJ_DIR_RE = re.compile(r"^[0-9a-f]{2}$")
OBJ_NAME_RE = re.compile(r"^[0-9a-f]{30}(\.dir)?$")
SEED = int(os.environ.get("LABVAULT_CRASH_SEED", "20240611"))


@contextmanager
def scratch_base(fallback: Path) -> Iterator[Path]:
    """Where crash repos live: a RAM disk when there is one (deleting 50 MB files on a disk mounted
    with ``discard`` costs seconds per iteration), else ``fallback``. ``LABVAULT_CRASH_TMPDIR``
    chooses explicitly. The kill semantics (SIGKILL, page cache kept) do not depend on the disk."""
    import tempfile

    chosen = os.environ.get("LABVAULT_CRASH_TMPDIR")
    if chosen:
        base = Path(tempfile.mkdtemp(prefix="lv-crash-", dir=chosen))
    else:
        shm = Path("/dev/shm")
        try:
            ok = shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2 << 30
        except OSError:
            ok = False
        if not ok:
            yield fallback
            return
        base = Path(tempfile.mkdtemp(prefix="lv-crash-", dir=shm))
    try:
        yield base
    finally:
        rmtree(base)


def kills(default: int) -> int:
    """How many kill points per operation (``LABVAULT_CRASH_KILLS`` raises it for a soak run)."""
    return int(os.environ.get("LABVAULT_CRASH_KILLS", default))


def labvault_argv() -> list[str]:
    exe = Path(sys.executable).parent / "labvault"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "labvault.cli.main"]


def clean_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env["XDG_DATA_HOME"] = str(home / ".local" / "share")
    env["LABVAULT_SYSTEM_CONFIG_DIR"] = str(home / "system-config")
    env["DVC_NO_ANALYTICS"] = "1"
    env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "Test"
    env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "test@example.invalid"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env.pop("LABVAULT_LOCK_TIMEOUT", None)
    return env


def run(
    argv: list[str], cwd: Path, env: dict[str, str], check: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def lv(
    repo: Path, env: dict[str, str], *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return run([*labvault_argv(), *args], repo, env, check=check)


def git(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run(["git", *args], repo, env)


def timed(repo: Path, env: dict[str, str], *args: str) -> float:
    t0 = time.monotonic()
    lv(repo, env, *args)
    return time.monotonic() - t0


@dataclass
class Killed:
    delay: float
    killed: bool  # False when the command had already finished
    returncode: int | None
    stderr: str


def run_and_kill(repo: Path, env: dict[str, str], args: list[str], delay: float) -> Killed:
    """Start ``labvault ARGS`` in its own process group and SIGKILL the group after ``delay`` s."""
    err_path = repo.parent / f"stderr-{os.getpid()}.txt"
    with open(err_path, "w+b") as err:
        proc = subprocess.Popen(
            [*labvault_argv(), *args],
            cwd=repo,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
        killed = False
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
            except ProcessLookupError:
                pass
            proc.wait()
            if proc.returncode != -signal.SIGKILL:
                killed = False
        err.seek(0)
        text = err.read().decode(errors="replace")
    err_path.unlink()
    return Killed(delay, killed, None if killed else proc.returncode, text)


def run_and_kill_at(
    repo: Path,
    env: dict[str, str],
    args: list[str],
    progress: Callable[[], float],
    target: float,
    timeout: float = 120,
) -> Killed:
    """Like run_and_kill, but SIGKILL as soon as ``progress()`` (0..1, polled) reaches ``target``;
    ``delay`` in the answer is when that happened."""
    err_path = repo.parent / f"stderr-{os.getpid()}.txt"
    t0 = time.monotonic()
    with open(err_path, "w+b") as err:
        proc = subprocess.Popen(
            [*labvault_argv(), *args],
            cwd=repo,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
        killed = False
        try:
            while proc.poll() is None and time.monotonic() - t0 < timeout:
                if progress() >= target:
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                        killed = True
                    except ProcessLookupError:
                        pass
                    break
                time.sleep(0.0005)
        finally:
            if proc.poll() is None and not killed:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.returncode != -signal.SIGKILL:
            killed = False
        err.seek(0)
        text = err.read().decode(errors="replace")
    err_path.unlink()
    return Killed(time.monotonic() - t0, killed, None if killed else proc.returncode, text)


def kill_plan(n: int, salt: str) -> list[tuple[str, float]]:
    """n kill points: half at instants (fractions of the normal duration), half at progress marks
    (fractions of the work done), each spread over (0, 1) one per slice."""
    half = n // 2
    rnd = random.Random(f"{SEED}-{salt}")
    at_time = [("time", (i + rnd.random()) / (n - half)) for i in range(n - half)]
    at_progress = [("progress", (i + rnd.random()) / half) for i in range(half)]
    return at_time + at_progress


def kill_delays(duration: float, n: int, salt: str) -> list[float]:
    """``n`` instants spread over [0, duration]: one random point in each of n equal slices."""
    rnd = random.Random(f"{SEED}-{salt}")
    return [duration * (i + rnd.random()) / n for i in range(n)]


def kill_at_point(
    repo: Path,
    env: dict[str, str],
    args: list[str],
    point: tuple[str, float],
    duration: float,
    progress: Callable[[], float],
) -> tuple[Killed, str]:
    """Run one kill point of a ``kill_plan``; returns the outcome and a line describing it."""
    kind, frac = point
    if kind == "time":
        k = run_and_kill(repo, env, args, frac * duration)
    else:
        k = run_and_kill_at(repo, env, args, progress, frac)
    where = (
        f"{kind} {frac:.2f}: kill at {k.delay:.3f}s of {duration:.3f}s, progress {progress():.2f}"
    )
    return k, f"{where} (killed={k.killed}, rc={k.returncode})"


# --- the cache -----------------------------------------------------------------------------------
def cache_root(repo: Path) -> Path:
    return repo / ".dvc" / "cache" / "files" / "md5"


def cache_listing(repo: Path) -> tuple[set[str], set[str]]:
    """(object oids, every other file) under the 3.x cache."""
    objects: set[str] = set()
    others: set[str] = set()
    base = cache_root(repo)
    if not base.exists():
        return objects, others
    for root, _dirs, files in os.walk(base):
        rel_dir = os.path.relpath(root, base)
        for name in files:
            if OBJ_DIR_RE.match(rel_dir) and OBJ_NAME_RE.match(name):
                objects.add(rel_dir + name)
            else:
                others.add(os.path.join(rel_dir, name))
    return objects, others


def md5_path(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def count_objects(repo: Path) -> int:
    """Cheap count of final-named objects (for progress polling)."""
    base = cache_root(repo)
    n = 0
    try:
        prefixes = os.listdir(base)
    except FileNotFoundError:
        return 0
    for prefix in prefixes:
        try:
            n += sum(1 for name in os.listdir(base / prefix) if not name.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            pass
    return n


def entry_ids(base: Path) -> set[tuple[str, int]]:
    """(relpath, inode) of every entry under ``base``: changes when a file is created, deleted or
    replaced by a rename, without reading any content."""
    out: set[tuple[str, int]] = set()
    stack = [(str(base), "")]
    while stack:
        folder, rel = stack.pop()
        try:
            with os.scandir(folder) as it:
                for e in it:
                    sub = f"{rel}/{e.name}" if rel else e.name
                    out.add((sub, e.inode()))
                    if e.is_dir(follow_symlinks=False):
                        stack.append((e.path, sub))
        except (FileNotFoundError, NotADirectoryError):
            pass
    return out


def object_path(repo: Path, oid: str) -> Path:
    return cache_root(repo) / oid[:2] / oid[2:]


def corrupt_objects(repo: Path) -> list[str]:
    """Objects whose content does not hash to their name (checked here, not by labvault)."""
    bad = []
    objects, _ = cache_listing(repo)
    for oid in sorted(objects):
        digest = md5_path(object_path(repo, oid))
        want = oid[: -len(".dir")] if oid.endswith(".dir") else oid
        if digest != want:
            bad.append(oid)
        elif oid.endswith(".dir"):
            try:
                entries = json.loads(object_path(repo, oid).read_bytes())
                assert isinstance(entries, list)
            except (ValueError, AssertionError):
                bad.append(oid)
    return bad


def pointer_oids(repo: Path) -> dict[str, str]:
    """relpath of each output -> oid, from every ``.dvc`` file in the workspace."""
    out: dict[str, str] = {}
    for root, dirs, files in os.walk(repo):
        dirs[:] = [d for d in dirs if d not in (".git", ".dvc")]
        for name in files:
            if name.endswith(".dvc"):
                doc = yaml.safe_load((Path(root) / name).read_text())
                for o in doc.get("outs", []):
                    rel = os.path.relpath(Path(root) / o["path"], repo)
                    out[rel] = o["md5"]
    return out


def missing_used_objects(repo: Path) -> list[str]:
    """Objects the workspace's pointers need (manifests and their files) that the cache lacks."""
    missing = []
    for oid in pointer_oids(repo).values():
        p = object_path(repo, oid)
        if not p.exists():
            missing.append(oid)
            continue
        if oid.endswith(".dir"):
            for entry in json.loads(p.read_bytes()):
                if not object_path(repo, entry["md5"]).exists():
                    missing.append(entry["md5"])
    return missing


# --- the workspace -------------------------------------------------------------------------------
def file_digests(base: Path, skip: tuple[str, ...] = (".git", ".dvc")) -> dict[str, str]:
    """relpath -> md5 of every file under ``base`` (cheaper to keep than the bytes)."""
    out: dict[str, str] = {}
    for root, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            p = Path(root) / name
            out[p.relative_to(base).as_posix()] = md5_path(p)
    return out


def status_clean(repo: Path, env: dict[str, str]) -> dict:
    proc = lv(repo, env, "status", "--json")
    return json.loads(proc.stdout)


def make_dataset(base: Path, nsmall: int, big_mb: int, seed: int = 1) -> None:
    """``nsmall`` small files spread over nested folders, plus one ``big_mb`` MiB file."""
    rnd = random.Random(seed)
    for i in range(nsmall):
        p = base / f"part{i % 7}" / f"sub{i % 13}" / f"f{i:05d}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(f"{seed}:{i}:".encode() + rnd.randbytes(rnd.randrange(0, 300)))
    if big_mb:
        block = rnd.randbytes(1 << 20)
        with open(base / "big.bin", "wb") as f:
            for i in range(big_mb):
                f.write(i.to_bytes(8, "little") + block[8:])


def rmtree(p: Path) -> None:
    def onerror(func, path, _exc):  # read-only objects inside read-only folders
        os.chmod(os.path.dirname(path), 0o755)
        try:
            os.chmod(path, 0o755)
        except OSError:
            pass
        func(path)

    if p.exists():
        shutil.rmtree(p, onerror=onerror)
