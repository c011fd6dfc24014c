"""The Dask executor: a diamond pipeline (a -> b, a -> c, b + c -> d) run on a real LocalCluster
(two worker processes) gives the same dvc.lock as a local run, and its commands really run in the
workers. (c sleeps longer than b so that both runs finish stages in definition order: the order
of dvc.lock entries under parallel runs is tested in test_parallel.py.)"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tests.pipelines._support import (
    by_action,
    repro_json,
    run_ancestry,
    runs,
    write,
    write_step_script,
)

distributed = pytest.importorskip("distributed")  # a skip fails in CI (tests/conftest.py)

pytestmark = pytest.mark.slow

DIAMOND = """\
stages:
  a:
    cmd: python step.py a out/a.txt seed.txt
    deps: [seed.txt, step.py]
    outs: [out/a.txt]
  b:
    cmd: python step.py b out/b.txt out/a.txt --sleep 0.3
    deps: [out/a.txt, step.py]
    outs: [out/b.txt]
  c:
    cmd: python step.py c out/c.txt out/a.txt --sleep 0.8
    deps: [out/a.txt, step.py]
    outs: [out/c.txt]
  d:
    cmd: python step.py d out/d.txt out/b.txt out/c.txt
    deps: [out/b.txt, out/c.txt, step.py]
    outs: [out/d.txt]
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    c = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def client(cluster: Any) -> Iterator[Any]:
    with distributed.Client(cluster) as cl:
        yield cl


def make_diamond(repo: Path, lv: Runner) -> None:
    lv("init")
    write(repo, "dvc.yaml", DIAMOND)
    write(repo, "seed.txt", "the seed\n")
    write_step_script(repo)


def _worker_pids(client: Any) -> set[int]:
    return set(client.run(os.getpid).values())


def _check_order(runlog: Path) -> None:
    got = {name: (start, end) for name, start, end in runs(runlog)}
    assert set(got) == {"a", "b", "c", "d"}
    assert got["a"][1] <= got["b"][0] and got["a"][1] <= got["c"][0]
    assert got["d"][0] >= max(got["b"][1], got["c"][1])


def test_diamond_on_dask_matches_local_run(
    git_repo: Path, lv: Runner, env: dict[str, str], client: Any, tmp_path: Path, runlog: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from labvault import api

    make_diamond(git_repo, lv)
    local = tmp_path / "local"
    shutil.copytree(git_repo, local, symlinks=True)

    for key in ("HOME", "XDG_CONFIG_HOME", "LABVAULT_SYSTEM_CONFIG_DIR", "PATH", "PIPE_RUNLOG"):
        monkeypatch.setenv(key, env[key])
    result = api.repro(None, api.ReproOptions(jobs=2), executor="dask", dask_client=client, repo=git_repo)
    assert result.ok
    assert sorted(result.by("ran")) == ["a", "b", "c", "d"]
    _check_order(runlog)
    workers = _worker_pids(client)
    for stage, chain in run_ancestry(runlog).items():
        assert workers & set(chain), f"stage {stage} did not run in a Dask worker: {chain} vs {workers}"
        assert os.getpid() not in chain[:3]

    os.unlink(runlog)
    local_result = repro_json(lv, cwd=local)
    assert sorted(by_action(local_result, "ran")) == ["a", "b", "c", "d"]
    assert (git_repo / "dvc.lock").read_bytes() == (local / "dvc.lock").read_bytes()
    for name in "abcd":
        assert (git_repo / f"out/{name}.txt").read_bytes() == (local / f"out/{name}.txt").read_bytes()

    # a second Dask run has nothing to do
    again = api.repro(None, api.ReproOptions(jobs=2), executor="dask", dask_client=client, repo=git_repo)
    assert sorted(again.by("unchanged")) == ["a", "b", "c", "d"]


def test_cli_with_scheduler_address(
    git_repo: Path, lv: Runner, cluster: Any, client: Any, tmp_path: Path, runlog: Path
) -> None:
    make_diamond(git_repo, lv)
    local = tmp_path / "local"
    shutil.copytree(git_repo, local, symlinks=True)
    result = repro_json(lv, "-j", "2", "--executor", "dask", "--scheduler", cluster.scheduler_address)
    assert sorted(by_action(result, "ran")) == ["a", "b", "c", "d"]
    _check_order(runlog)
    workers = _worker_pids(client)
    assert all(workers & set(chain) for chain in run_ancestry(runlog).values())
    repro_json(lv, cwd=local)
    assert (git_repo / "dvc.lock").read_bytes() == (local / "dvc.lock").read_bytes()


def test_unreachable_scheduler_is_a_clear_error(git_repo: Path, lv: Runner, runlog: Path) -> None:
    make_diamond(git_repo, lv)
    proc = lv("repro", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9", check=False, timeout=60)
    assert proc.returncode != 0
    assert proc.stderr.startswith("error: ") and "127.0.0.1:9" in proc.stderr, proc.stderr
    assert not runlog.exists()
    assert not (git_repo / "dvc.lock").exists()
