"""SIGKILL ``labvault demote`` of a unit of many files to an S3 tier (moto) at 20+ instants, then
recover and check:

* after recovery, exactly one live placement holds the unit: the old folder with its original
  bytes (rolled back: no manifest left on the bucket) or the bucket (finished: nothing left at
  the old path); no temp names are left; every journal row is finished, rolled back or failed;
* a rerun of the demote converges, and a promote back rebuilds the original bytes from the bucket.

A run in which fewer than a third of the kills landed while the move was in flight retries with
a larger unit.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
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
from tests.services import S3Server

from labvault import api
from labvault.catalog import store
from labvault.catalog.lab_schema import lab_moves
from labvault.tiers.movelock import move_lock
from labvault.tiers.recover import recover_moves
from labvault.tiers.units import LIVE_STATES, find_units

pytestmark = [pytest.mark.crash, pytest.mark.slow]

N_KILLS = kills(22)
NAME = "imagenet_v2_train"


@dataclass
class World:
    base: Path
    env: dict[str, str]
    data: Path
    digests: dict[str, str]
    s3: S3Server
    bucket: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server) -> Iterator[World]:
    with scratch_base(tmp_path_factory.mktemp("crash-bucket-move")) as base:
        data = base / "data"
        make_dataset(data, 150, 2)
        env = clean_env(base / "home")
        env.update(s3_server.env, AWS_ENDPOINT_URL_S3=s3_server.endpoint)
        old = os.environ.copy()
        os.environ.update(s3_server.env, AWS_ENDPOINT_URL_S3=s3_server.endpoint)  # for the in-process checks
        try:
            yield World(base, env, data, file_digests(data), s3_server, s3_server.make_bucket("crash"))
        finally:
            os.environ.clear()
            os.environ.update(old)


def _setup(w: World, tag: str) -> tuple[list[str], Path, str, Path, str]:
    root = w.base / tag
    config = root / "lab.yaml"
    api.lab_init(root, config)
    text = config.read_text().replace("min_copies: 1", f"  glacier:\n    url: s3://{w.bucket}/{tag}\n"
                                      f"    storage_class: STANDARD_IA\n    min_storage_days: 0\nmin_copies: 1")
    config.write_text(text)
    src = root / "nvme0/datasets" / NAME
    shutil.copytree(w.data, src, copy_function=shutil.copy2)
    url = f"sqlite:///{root / 'catalog.sqlite'}"
    api.lab_scan(config, url)
    store.forget(url)
    return ["demote", "imagenet@v2", "--to", "glacier", "--lab", str(config), "--catalog", url], src, url, config, tag


def _states(url: str) -> set[str]:
    cat = store.open_catalog(url)
    with cat.read() as conn:
        states = set(conn.execute(sa.select(lab_moves.c.state)).scalars())
    store.forget(url)
    return states


def _temp_names(folder: Path) -> list[str]:
    return [os.path.join(d, n) for d, dirs, files in os.walk(folder) for n in dirs + files if n.endswith(".lvtmp")]


def _check_recovered(w: World, url: str, config: Path, src: Path, tag: str, context: str) -> None:
    cat = store.open_catalog(url)
    lab = api.lab_config(config)
    with move_lock(lab):
        recover_moves(cat, lab)
    [unit] = find_units(cat, "imagenet", "v2")
    live = [p for p in unit.placements if p.state in LIVE_STATES]
    assert len(live) == 1 and len(unit.placements) == 1, f"{context}: {unit.placements}"
    manifest_key = f"{tag}/datasets/{NAME}.lvunit.json"
    keys = w.s3.keys(w.bucket, f"{tag}/")
    if live[0].tier == "hot":
        assert file_digests(src) == w.digests and manifest_key not in keys, context
    else:
        assert live[0].location == f"s3://{w.bucket}/{manifest_key}" and manifest_key in keys, context
        assert not os.path.lexists(src), context
    assert _temp_names(src.parent) == [], context
    with cat.read() as conn:
        states = set(conn.execute(sa.select(lab_moves.c.state)).scalars())
    assert states <= {"done", "rolled_back", "failed"}, f"{context}: {states}"
    store.forget(url)


def test_demote_to_s3_killed_anywhere_loses_nothing_and_converges(world: World) -> None:
    w = world
    for attempt in range(3):
        args, src, url, config, tag = _setup(w, f"ref-{attempt}")
        duration = timed(w.base, w.env, *args)
        assert not os.path.lexists(src) and _states(url) == {"done"}
        expected = len(set(w.digests.values())) + 1
        landed = 0
        for i, point in enumerate(kill_plan(N_KILLS, f"bucket-move-{attempt}")):
            args, src, url, config, tag = _setup(w, f"kill-{attempt}-{i}")

            def progress(tag: str = tag, expected: int = expected) -> float:
                return len(w.s3.keys(w.bucket, f"{tag}/")) / expected

            k, context = kill_at_point(w.base, w.env, args, point, duration, progress)
            if not k.killed:
                assert k.returncode == 0, f"{context}: {k.stderr}"
            elif _states(url) - {"done", "rolled_back", "failed"}:
                landed += 1
            _check_recovered(w, url, config, src, tag, context)
            outcomes = api.demote("imagenet@v2", to="glacier", lab=config, catalog_url=url).outcomes
            assert all(o.status in ("moved", "skipped") for o in outcomes), context
            assert not os.path.lexists(src), context
            [back] = api.promote("imagenet@v2", to="hot", lab=config, catalog_url=url).outcomes
            assert back.status == "moved" and file_digests(src) == w.digests, context
            assert w.s3.keys(w.bucket, f"{tag}/") == {}, context
            store.forget(url)
            shutil.rmtree(w.base / tag, ignore_errors=True)
        if landed >= N_KILLS // 3:
            print(f"bucket demote: {landed} of {N_KILLS} kills landed with a move in flight (attempt {attempt})")
            return
        make_dataset(w.data, 600 * (attempt + 2), 4 * (attempt + 2), seed=attempt + 2)
        w.digests = file_digests(w.data)
    pytest.fail(f"only {landed} of {N_KILLS} kills landed while the move was in flight, even with a larger unit")
