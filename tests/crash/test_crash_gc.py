"""SIGKILL ``labvault gc`` mid-way: what the workspace uses must survive, and a rerun must finish the job.

The repo has several commits of changing data; one output is then dropped from the workspace, so
gc has thousands of objects to delete. After each kill: every remaining object is intact (checked
here), nothing the workspace needs is missing, ``verify`` exits 0, and a rerun of gc leaves exactly
the objects an uninterrupted gc leaves.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from crashkit import (
    cache_listing,
    clean_env,
    corrupt_objects,
    count_objects,
    file_digests,
    git,
    kill_at_point,
    kill_plan,
    kills,
    lv,
    make_dataset,
    missing_used_objects,
    rmtree,
    scratch_base,
    status_clean,
    timed,
)

pytestmark = [pytest.mark.crash, pytest.mark.slow]

N_KILLS = kills(20)
N_SMALL = 3000


@dataclass
class GcWorld:
    base: Path
    env: dict[str, str]
    template: Path
    digests: dict[str, str]
    before: set[str]
    after: set[str]
    duration: float
    plan: list[tuple[str, float]]


def _write_version(repo: Path, env: dict[str, str], version: int) -> None:
    rmtree(repo / "data")
    make_dataset(repo / "data", N_SMALL - 200 * version, 0, seed=version)
    (repo / "model.bin").write_bytes(version.to_bytes(4, "little") * (256 * 1024))
    lv(repo, env, "add", "data", "model.bin")
    git(repo, env, "add", "data.dvc", "model.bin.dvc", ".gitignore")
    git(repo, env, "commit", "-q", "-m", f"version {version}")


@pytest.fixture(scope="module")
def gc_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GcWorld]:
    with scratch_base(tmp_path_factory.mktemp("crash-gc")) as base:
        env = clean_env(base / "home")
        template = base / "template"
        template.mkdir()
        git(template, env, "init", "-q", "-b", "main")
        lv(template, env, "init")
        git(template, env, "commit", "-q", "-m", "init")
        for version in (1, 2, 3):
            _write_version(template, env, version)
        # drop one output from the workspace (not committed): only data/ at version 3 stays in use
        lv(template, env, "remove", "model.bin.dvc", "--outs")
        before, _ = cache_listing(template)

        durations = []
        for attempt in range(2):
            reference = base / f"reference-{attempt}"
            shutil.copytree(template, reference, symlinks=True)
            durations.append(timed(reference, env, "gc", "-f"))
            after, others = cache_listing(reference)
            assert others == set()
            assert missing_used_objects(reference) == []
            rmtree(reference)
        assert len(after) < len(before) / 2, "the setup should give gc plenty to delete"
        duration = min(durations)
        yield GcWorld(
            base,
            env,
            template,
            file_digests(template, skip=(".git", ".dvc")),
            before,
            after,
            duration,
            kill_plan(N_KILLS, "gc"),
        )


@pytest.mark.parametrize("point", range(N_KILLS))
def test_gc_killed_then_rerun_reaches_same_state(gc_world: GcWorld, point: int) -> None:
    w = gc_world
    repo = w.base / f"kill-{point}"
    shutil.copytree(w.template, repo, symlinks=True)
    try:
        doomed = len(w.before) - len(w.after)
        k, context = kill_at_point(
            repo,
            w.env,
            ["gc", "-f"],
            w.plan[point],
            w.duration,
            lambda: (len(w.before) - count_objects(repo)) / doomed,
        )
        if not k.killed:
            assert k.returncode == 0, f"{context}: {k.stderr}"

        objects, _ = cache_listing(repo)
        print(
            f"{context}: {len(objects)} objects left of {len(w.before)} (an uninterrupted gc leaves {len(w.after)})"
        )
        assert w.after <= objects <= w.before, (
            f"{context}: gc removed something in use or invented objects"
        )
        assert corrupt_objects(repo) == [], context
        assert missing_used_objects(repo) == [], context
        verify = lv(repo, w.env, "verify", check=False)
        assert verify.returncode == 0, (
            f"{context}: verify after the kill:\n{verify.stdout}{verify.stderr}"
        )

        lv(repo, w.env, "gc", "-f")
        objects, others = cache_listing(repo)
        assert objects == w.after, (
            f"{context}: extra {sorted(objects - w.after)[:5]} missing {sorted(w.after - objects)[:5]}"
        )
        assert others == set(), f"{context}: leftovers {sorted(others)[:5]}"
        assert status_clean(repo, w.env)["clean"], context
        assert file_digests(repo, skip=(".git", ".dvc")) == w.digests, context
    finally:
        rmtree(repo)
