"""SIGKILL ``labvault cache spill`` mid-way: every object it moves must be in the cache or in the
tier with the right md5 (checked here, not by labvault), and a rerun must converge to the state an
uninterrupted spill leaves (every unused object in the tier and out of the cache, every row
``spilled``, no temp file left)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from crashkit import (
    cache_listing,
    clean_env,
    kill_at_point,
    kill_plan,
    kills,
    lv,
    make_dataset,
    md5_path,
    rmtree,
    scratch_base,
    timed,
)

pytestmark = [pytest.mark.crash, pytest.mark.slow]

N_KILLS = kills(10)
N_SMALL = 600  # small files per version: three batches of the spill's journal


@dataclass
class SpillWorld:
    base: Path
    env: dict[str, str]
    template: Path
    moving: set[str]  # the oids a spill moves out of the cache
    duration: float
    plan: list[tuple[str, float]]


def _tier_listing(tier: Path) -> tuple[set[str], set[str]]:
    objects: set[str] = set()
    others: set[str] = set()
    for root, _, files in os.walk(tier / "files/md5"):
        rel = os.path.relpath(root, tier / "files/md5")
        for name in files:
            (others if name.startswith(".") else objects).add(rel + name if len(rel) == 2 else f"{rel}/{name}")
    return objects, others


def _write_lab(world: Path) -> None:
    (world / "lab.yaml").write_text(f"catalog_url: sqlite:///{world / 'catalog.db'}\n"
                                    f"tiers:\n  cold:\n    path: {world / 'cold'}\n")


def _world_copy(template: Path, dst: Path) -> Path:
    shutil.copytree(template, dst, symlinks=True)
    _write_lab(dst)
    return dst


def _env_for(env: dict[str, str], world: Path) -> dict[str, str]:
    env = dict(env)
    env["LABVAULT_LAB"] = str(world / "lab.yaml")
    return env


@pytest.fixture(scope="module")
def spill_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SpillWorld]:
    with scratch_base(tmp_path_factory.mktemp("crash-spill")) as base:
        env = clean_env(base / "home")
        template = base / "template"
        repo = template / "repo"
        repo.mkdir(parents=True)
        (template / "cold").mkdir()
        _write_lab(template)
        lv(repo, env, "init", "--no-scm")
        for version in (1, 2):
            rmtree(repo / "data")
            make_dataset(repo / "data", N_SMALL, 1, seed=version)
            lv(repo, env, "add", "data")
        old = time.time() - 90 * 86400
        for root, _, files in os.walk(repo / ".dvc/cache"):
            for name in files:
                os.utime(os.path.join(root, name), (old, old))
        before, _ = cache_listing(repo)
        lv(repo, _env_for(env, template), "cache", "spill", "--dry-run")  # creates the catalog
        ref = _world_copy(template, base / "reference")
        duration = timed(ref / "repo", _env_for(env, ref), "cache", "spill")
        after, _ = cache_listing(ref / "repo")
        rmtree(ref)
        moving = before - after
        assert len(moving) > 2 * 256, "the setup should give the spill several batches"
        yield SpillWorld(base, env, template, moving, duration, kill_plan(N_KILLS, "spill"))


@pytest.mark.parametrize("point", range(N_KILLS))
def test_spill_killed_then_rerun_converges(spill_world: SpillWorld, point: int) -> None:
    w = spill_world
    world = _world_copy(w.template, w.base / f"kill-{point}")
    repo, tier = world / "repo", world / "cold"
    env = _env_for(w.env, world)
    try:
        def progress() -> float:  # copies made, then objects gone from the cache: kills land in both phases
            done = len(_tier_listing(tier)[0]) + len(w.moving - cache_listing(repo)[0])
            return done / (2 * len(w.moving))

        k, context = kill_at_point(repo, env, ["cache", "spill"], w.plan[point], w.duration, progress)
        if not k.killed:
            assert k.returncode == 0, f"{context}: {k.stderr}"
        in_cache, _ = cache_listing(repo)
        in_tier, _ = _tier_listing(tier)
        good_tier = {o for o in in_tier if md5_path(tier / "files/md5" / o[:2] / o[2:]) == o}
        nowhere = sorted(w.moving - in_cache - good_tier)
        assert nowhere == [], f"{context}: objects in neither place (or corrupt in the tier): {nowhere[:5]}"
        print(f"{context}: {len(w.moving - in_cache)} of {len(w.moving)} moved")

        lv(repo, env, "cache", "spill")
        in_cache, _ = cache_listing(repo)
        in_tier, others = _tier_listing(tier)
        assert not (w.moving & in_cache), context
        assert w.moving <= in_tier and others == set(), f"{context}: leftovers {sorted(others)[:5]}"
        assert all(md5_path(tier / "files/md5" / o[:2] / o[2:]) == o for o in w.moving), context
        with sqlite3.connect(world / "catalog.db") as db:
            rows = dict(db.execute("SELECT oid, state FROM cache_spills").fetchall())
        assert {o for o, s in rows.items() if s == "spilled" and not o.endswith(".dir")} == w.moving, context
        assert set(rows.values()) == {"spilled"}, context
    finally:
        rmtree(world)
