"""SIGKILL ``labvault demote``, ``promote`` and ``lifecycle apply`` of a unit of many files at 20+
instants, across file systems (the warm tier is its own tmpfs), then recover and check with our
own md5s:

* right after the kill, the whole unit is readable at its old path or its new one;
* after recovery, exactly one live placement holds it, its bytes are the original ones, the old
  path is the data (rolled back) or a link to it (finished), no temp names are left, and every
  journal row is finished, rolled back or failed;
* a rerun of the same command converges on the state an uninterrupted move leaves.

A run in which fewer than a third of the kills landed while a move was in flight (a journal row
left open) retries with a larger unit.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from crashkit import (
    clean_env,
    file_digests,
    kill_at_point,
    kill_plan,
    kills,
    make_dataset,
    scratch_base,
    timed,
)
from tests.tiers.tmpfs import tmpfs

from labvault import api
from labvault.catalog import store
from labvault.catalog.lab_schema import lab_moves
from labvault.tiers.movelock import move_lock
from labvault.tiers.recover import recover_moves
from labvault.tiers.units import LIVE_STATES, find_units

pytestmark = [pytest.mark.crash, pytest.mark.slow]

N_KILLS = kills(22)
LATER = datetime.now() + timedelta(days=8)  # `lifecycle apply` then demotes hot -> warm (the 7-day rule)
NAME = "imagenet_v2_train"


@dataclass
class World:
    base: Path
    warm: Path
    env: dict[str, str]
    data: Path
    digests: dict[str, str]


def _lab(w: World, tag: str) -> tuple[Path, Path, str, Path, Path]:
    """A fresh lab (hot under base, warm on the tmpfs): config, hot and warm unit paths, catalog url."""
    root = w.base / tag
    warm = w.warm / tag
    config = root / "lab.yaml"
    api.lab_init(root, config)
    text = config.read_text().replace(f"path: {root}/ssd0", f"path: {warm}")
    config.write_text(text)
    (warm / "datasets").mkdir(parents=True)
    url = f"sqlite:///{root / 'catalog.sqlite'}"
    return config, root / "nvme0/datasets" / NAME, warm / "datasets" / NAME, url, root


def _setup(w: World, tag: str, on: str) -> tuple[list[str], Path, Path, str, Path]:
    config, hot, warm, url, _root = _lab(w, tag)
    src = warm if on == "warm" else hot
    shutil.copytree(w.data, src, copy_function=shutil.copy2)
    api.lab_scan(config, url)
    store.forget(url)
    env_args = ["--lab", str(config), "--catalog", url]
    args = {"hot": ["demote", "imagenet@v2", "--to", "warm"], "warm": ["promote", "imagenet@v2", "--to", "hot"],
            "apply": ["lifecycle", "apply", "--as-of", LATER.isoformat()]}[on]
    return [*args, *env_args], src, (hot if on == "warm" else warm), url, config


def _count(path: Path) -> int:
    n = 0
    for _root, _dirs, files in os.walk(path):
        n += len(files)
    return n


def _temp_names(*folders: Path) -> list[str]:
    return [os.path.join(d, n) for f in folders for d, dirs, files in os.walk(f) for n in dirs + files
            if n.endswith(".lvtmp")]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with scratch_base(tmp_path_factory.mktemp("crash-move")) as base, tmpfs(base / "warm-fs", "512m") as warm:
        data = base / "data"
        make_dataset(data, 1500, 12)
        old = 1_700_000_000
        for d, _dirs, files in os.walk(data):
            for n in files:
                os.utime(os.path.join(d, n), (old, old))
        yield World(base, warm, clean_env(base / "home"), data, file_digests(data))


def _in_flight(url: str) -> bool:
    """Whether the kill left a move in flight (a journal row neither done, rolled back nor failed)."""
    cat = store.open_catalog(url)
    with cat.read() as conn:
        states = set(conn.execute(sa.select(lab_moves.c.state)).scalars())
    store.forget(url)
    return bool(states - {"done", "rolled_back", "failed"})


def _check_after_kill(src: Path, dst: Path, digests: dict[str, str], context: str) -> None:
    views = [src, dst, *[Path(p) for p in _temp_names(dst.parent) if Path(p).is_dir()]]
    assert any(v.exists() and file_digests(v) == digests for v in views), f"{context}: no complete copy left"


def _check_recovered(url: str, config: Path, src: Path, dst: Path, digests: dict[str, str], context: str) -> None:
    cat = store.open_catalog(url)
    lab = api.lab_config(config)
    with move_lock(lab):
        recover_moves(cat, lab)
    [unit] = find_units(cat, "imagenet", "v2")
    live = [p for p in unit.placements if p.state in LIVE_STATES]
    assert len(live) == 1 and len(unit.placements) == 1, f"{context}: {unit.placements}"
    at = Path(live[0].location)
    assert at in (src, dst) and not at.is_symlink() and file_digests(at) == digests, context
    other = dst if at == src else src
    assert not other.exists() or (other.is_symlink() and os.path.realpath(other) == str(at)), context
    assert _temp_names(src.parent, dst.parent) == [], context
    with cat.read() as conn:
        states = set(conn.execute(sa.select(lab_moves.c.state)).scalars())
    assert states <= {"done", "rolled_back", "failed"}, f"{context}: {states}"
    store.forget(url)


@pytest.mark.parametrize("on", ["hot", "warm", "apply"])
def test_move_killed_anywhere_loses_nothing_and_converges(world: World, on: str) -> None:
    w = world
    for attempt in range(3):
        args, src, dst, url, config = _setup(w, f"ref-{on}-{attempt}", on)
        duration = timed(w.base, w.env, *args)
        assert file_digests(dst) == w.digests and src.is_symlink()
        total = 2 * len(w.digests)
        landed = 0
        for i, point in enumerate(kill_plan(N_KILLS, f"move-{on}-{attempt}")):
            args, src, dst, url, config = _setup(w, f"kill-{on}-{attempt}-{i}", on)
            temp_parent = dst.parent

            def progress(src: Path = src, temp_parent: Path = temp_parent, total: int = total) -> float:
                moved = _count(temp_parent)
                left = _count(src) if not src.is_symlink() else 0
                return (moved + (len(w.digests) - left)) / total

            k, context = kill_at_point(w.base, w.env, args, point, duration, progress)
            if not k.killed:
                assert k.returncode == 0, f"{context}: {k.stderr}"
            elif _in_flight(url):
                landed += 1
            _check_after_kill(src, dst, w.digests, context)
            _check_recovered(url, config, src, dst, w.digests, context)
            if on == "apply":
                outcomes = api.lifecycle_apply(as_of=LATER, lab=config, catalog_url=url).report.outcomes
            elif on == "warm":
                outcomes = api.promote("imagenet@v2", to="hot", lab=config, catalog_url=url).outcomes
            else:
                outcomes = api.demote("imagenet@v2", to="warm", lab=config, catalog_url=url).outcomes
            assert all(o.status in ("moved", "skipped") for o in outcomes), context
            assert file_digests(dst) == w.digests and src.is_symlink() and not dst.is_symlink(), context
            assert _temp_names(src.parent, dst.parent) == [], context
            store.forget(url)
            for folder in (w.base / f"kill-{on}-{attempt}-{i}", w.warm / f"kill-{on}-{attempt}-{i}"):
                shutil.rmtree(folder, ignore_errors=True)
        if landed >= N_KILLS // 3:
            print(f"{on}: {landed} of {N_KILLS} kills landed with a move in flight (attempt {attempt})")
            return
        make_dataset(w.data, 3000 * (attempt + 2), 24 * (attempt + 2), seed=attempt + 2)  # larger, then again
        w.digests = file_digests(w.data)
    pytest.fail(f"only {landed} of {N_KILLS} kills landed while the move was in flight, even with a larger unit")
