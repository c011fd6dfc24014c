"""SIGKILL ``labvault checkout`` mid-way, then run it again: the workspace must match byte for byte.

The workspace holds version 2 of a folder (thousands of small files plus a 50 MB file) and the
pointer is moved back to version 1, so checkout deletes, replaces and restores files. After a kill
no file may be torn (each is version 1's or version 2's bytes), and a plain rerun (no --force:
everything the workspace held is in the cache) must succeed and leave exactly version 1.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from crashkit import (
    clean_env,
    corrupt_objects,
    entry_ids,
    file_digests,
    git,
    kill_at_point,
    kill_plan,
    kills,
    lv,
    make_dataset,
    md5_path,
    rmtree,
    scratch_base,
    status_clean,
    timed,
)

pytestmark = [pytest.mark.crash, pytest.mark.slow]

N_KILLS = kills(20)
N_SMALL = 3000
BIG_MB = 50


@dataclass
class CheckoutWorld:
    base: Path
    env: dict[str, str]
    template: Path
    v1: dict[str, str]  # relpath -> md5 of the whole workspace at version 1 (the target)
    v2: dict[str, str]  # ... at version 2 (the starting point)
    duration: float
    plan: list[tuple[str, float]]
    changes: int  # entries (path, inode) an uninterrupted checkout creates or removes


def _version2(data: Path) -> None:
    """Change a third of the files, delete a third, add new ones, rewrite part of the big file."""
    files = sorted(p for p in data.rglob("*.txt"))
    for i, p in enumerate(files):
        if i % 3 == 0:
            p.write_bytes(p.read_bytes() + b" changed")
        elif i % 3 == 1:
            p.unlink()
    for i in range(500):
        q = data / "new" / f"n{i:04d}.txt"
        q.parent.mkdir(parents=True, exist_ok=True)
        q.write_bytes(f"new {i}".encode())
    with open(data / "big.bin", "r+b") as f:
        f.write(b"\xff" * (1 << 20))


def _copy_repo(src: Path, dst: Path) -> None:
    """Workspace and git copied; the read-only cache shared by hard links (checkout must not write to it)."""
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns("cache"))
    shutil.copytree(
        src / ".dvc" / "cache", dst / ".dvc" / "cache", symlinks=True, copy_function=os.link
    )


def _checkout_v1(repo: Path, env: dict[str, str]) -> None:
    git(repo, env, "checkout", "-q", "HEAD~1", "--", "data.dvc")


@pytest.fixture(scope="module")
def checkout_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CheckoutWorld]:
    with scratch_base(tmp_path_factory.mktemp("crash-checkout")) as base:
        env = clean_env(base / "home")
        template = base / "template"
        template.mkdir()
        git(template, env, "init", "-q", "-b", "main")
        lv(template, env, "init")
        make_dataset(template / "data", N_SMALL, BIG_MB)
        lv(template, env, "add", "data")
        git(template, env, "add", "data.dvc", ".gitignore")
        git(template, env, "commit", "-q", "-m", "v1")
        v1 = file_digests(template)
        _version2(template / "data")
        lv(template, env, "add", "data")
        git(template, env, "commit", "-q", "-am", "v2")
        v2 = file_digests(template)
        assert v1 != v2

        durations = []
        for attempt in range(2):
            reference = base / f"reference-{attempt}"
            _copy_repo(template, reference)
            _checkout_v1(reference, env)
            start = entry_ids(reference / "data")
            durations.append(timed(reference, env, "checkout"))
            changes = len(start ^ entry_ids(reference / "data"))
            assert file_digests(reference) == v1, "uninterrupted checkout did not restore version 1"
            rmtree(reference)
        duration = min(durations)
        yield CheckoutWorld(
            base, env, template, v1, v2, duration, kill_plan(N_KILLS, "checkout"), changes
        )


@pytest.mark.parametrize("point", range(N_KILLS))
def test_checkout_killed_then_rerun_matches(checkout_world: CheckoutWorld, point: int) -> None:
    w = checkout_world
    repo = w.base / f"kill-{point}"
    _copy_repo(w.template, repo)
    try:
        _checkout_v1(repo, w.env)
        start = entry_ids(repo / "data")
        k, context = kill_at_point(
            repo,
            w.env,
            ["checkout"],
            w.plan[point],
            w.duration,
            lambda: len(start ^ entry_ids(repo / "data")) / w.changes,
        )
        if not k.killed:
            assert k.returncode == 0, f"{context}: {k.stderr}"

        now = file_digests(repo)
        torn = {
            rel: digest
            for rel, digest in now.items()
            if ".lvtmp" not in rel and digest not in (w.v1.get(rel), w.v2.get(rel))
        }
        done = sum(1 for rel, digest in w.v1.items() if now.get(rel) == digest)
        print(f"{context}: {done} of {len(w.v1)} files already at the target version")
        assert torn == {}, f"{context}: files with neither version's bytes"
        assert corrupt_objects(repo) == [], context

        rerun = lv(repo, w.env, "checkout", check=False)
        assert rerun.returncode == 0, f"{context}: rerun exited {rerun.returncode}\n{rerun.stderr}"
        got = file_digests(repo)
        extra = sorted(set(got) - set(w.v1))
        missing = sorted(set(w.v1) - set(got))
        differ = sorted(r for r in set(got) & set(w.v1) if got[r] != w.v1[r])
        assert (extra, missing, differ) == ([], [], []), context
        assert status_clean(repo, w.env)["clean"], context
        big = repo / "data" / "big.bin"
        assert md5_path(big) == w.v1["data/big.bin"]
    finally:
        rmtree(repo)


def _bigger_target(w: CheckoutWorld, repo: Path, big_mb: int) -> dict[str, str]:
    """Two more commits in ``repo`` (a copy of the template): a target version whose big file has
    ``big_mb`` MiB, then a start version that rewrites part of it; the workspace is left at the
    start version. Returns the target's digests (what a checkout of HEAD~1 must restore)."""
    make_dataset(repo / "data", 0, big_mb, seed=big_mb)
    lv(repo, w.env, "add", "data")
    git(repo, w.env, "commit", "-q", "-am", f"target, {big_mb} MiB")
    target = file_digests(repo)
    with open(repo / "data" / "big.bin", "r+b") as f:
        f.write(b"\xee" * (1 << 20))
    lv(repo, w.env, "add", "data")
    git(repo, w.env, "commit", "-q", "-am", "start")
    return target


def test_checkout_killed_with_a_file_in_flight(checkout_world: CheckoutWorld) -> None:
    """Kill while a file is being written (a name that is neither version's exists in the folder):
    the leftover must not block the rerun nor end up in the data. When no write is caught in
    flight, the attempt is repeated with a bigger file (a longer write); never caught: a failure."""
    w = checkout_world
    contexts = []
    for attempt, big_mb in enumerate((BIG_MB, BIG_MB, 4 * BIG_MB, 16 * BIG_MB)):
        repo = w.base / f"inflight-{attempt}"
        _copy_repo(w.template, repo)
        try:
            target = _bigger_target(w, repo, big_mb) if big_mb != BIG_MB else w.v1
            known = set(w.v1) | set(w.v2) | set(target)
            known |= {rel.rsplit("/", i)[0] for rel in list(known) for i in range(1, rel.count("/") + 1)}
            _checkout_v1(repo, w.env)

            def in_flight(repo: Path = repo, known: set[str] = known) -> float:
                return (
                    1.0
                    if any(f"data/{rel}" not in known for rel, _ in entry_ids(repo / "data"))
                    else 0.0
                )

            k, context = kill_at_point(
                repo, w.env, ["checkout"], ("progress", 1.0), w.duration * big_mb / BIG_MB, in_flight
            )
            contexts.append(f"{big_mb} MiB: {context}")
            if not k.killed:
                continue
            rerun = lv(repo, w.env, "checkout", check=False)
            assert rerun.returncode == 0, f"{context}: rerun exited {rerun.returncode}\n{rerun.stderr}"
            assert file_digests(repo) == target, context
            status = status_clean(repo, w.env)
            assert status["clean"], f"{context}: {status}"
            return
        finally:
            rmtree(repo)
    pytest.fail("no file was caught in flight, even with a bigger file: " + "; ".join(contexts))


def test_status_after_a_killed_checkout_removes_its_temp_files(checkout_world: CheckoutWorld) -> None:
    """Kill checkout with a file in flight, then run only ``status``: the killed writer's temp
    files are gone (no later command may leave them for dvc to report as data), the output is
    reported as it is (not clean), and the rerun of checkout still restores the target. When no
    write is caught in flight, the attempt is repeated with a bigger file; never caught: a failure."""
    w = checkout_world
    contexts = []
    for attempt, big_mb in enumerate((BIG_MB, BIG_MB, 4 * BIG_MB, 16 * BIG_MB)):
        repo = w.base / f"leftover-{attempt}"
        _copy_repo(w.template, repo)
        try:
            target = _bigger_target(w, repo, big_mb) if big_mb != BIG_MB else w.v1
            _checkout_v1(repo, w.env)

            def temps(repo: Path = repo) -> list[str]:
                return [rel for rel, _ in entry_ids(repo / "data") if rel.endswith(".lvtmp")]

            k, context = kill_at_point(
                repo, w.env, ["checkout"], ("progress", 1.0), w.duration * big_mb / BIG_MB,
                lambda: 1.0 if temps() else 0.0,
            )
            contexts.append(f"{big_mb} MiB: {context}")
            if not (k.killed and temps()):
                continue
            status = status_clean(repo, w.env)
            assert temps() == [], f"{context}: status left {temps()}"
            assert not status["clean"], context  # the checkout did not finish
            rerun = lv(repo, w.env, "checkout", check=False)
            assert rerun.returncode == 0, f"{context}: {rerun.stderr}"
            assert file_digests(repo) == target, context
            return
        finally:
            rmtree(repo)
    pytest.fail("no temp file was caught in flight, even with a bigger file: " + "; ".join(contexts))
