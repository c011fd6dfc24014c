"""The dashboard's fixtures: a seeded lab on SQLite and on PostgreSQL (catalog entries, runs with
metrics, lineage; a lab config with tiers and backup policies, a snapshot and drills; a repository
with a pipeline), users and tokens of every role, and a real uvicorn server on a free loopback port
in a thread, stopped after.

One lab per backend for the whole session (``lab``); tests that write use names of their own.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from labvault import api
from labvault.api import users
from labvault.catalog import store
from labvault.catalog.backup_log import record_drill
from labvault.catalog.store import open_catalog
from labvault.web.app import Settings, create_app
from tests.catalog.conftest import PgServer, free_port, new_catalog_url, pg_server  # noqa: F401  (fixture)
from tests.web.client import Client

PASSWORD = "correct horse battery"
ROLES = ("viewer", "editor", "admin")
N_DATASETS = 7  # more than one small page
N_RUNS = 12


@dataclass
class Lab:
    catalog_url: str
    root: Path
    tokens: dict[str, str] = field(default_factory=dict)  # role -> token

    @property
    def config(self) -> Path:
        return self.root / "lab.yaml"

    @property
    def repo(self) -> Path:
        return self.root / "project"


def seed_catalog(url: str) -> None:
    """Datasets (a few versions each, tagged), a model made from one, an experiment with runs and metrics."""
    for i in range(N_DATASETS):
        for v in (1, 2):
            api.catalog_register_dataset(f"ds_{i:02d}", version=f"v{v}", path=f"data/ds_{i:02d}.csv",
                                         content_hash=f"{i:02d}{v:02d}" + "a" * 28, size=1000 * (i + 1) * v,
                                         tags=["raw"] if i % 2 else ["clean"], catalog_url=url)
    api.catalog_register_dataset("secret_set", version="v1", path="/srv/protected/secret_set",
                                 content_hash="f" * 32, size=5, catalog_url=url)
    api.catalog_register_experiment("train", "the training runs", catalog_url=url)
    for r in range(N_RUNS):
        api.catalog_register_run("train", stage="train", params={"lr": 0.1 / (r + 1)},
                                 metrics={"accuracy": 0.5 + r / 40}, inputs=["ds_00@v2"], catalog_url=url)
    api.catalog_register_model("clf", architecture="logreg", framework="sklearn", metrics={"accuracy": 0.9},
                               datasets=["ds_00@v2", "ds_01@v2"], version="v1", tags=["production"],
                               catalog_url=url)


PIPELINE = """\
stages:
  prepare:
    cmd: python3 prepare.py
    deps: [raw.txt]
    outs: [prepared.txt]
  train:
    cmd: python3 train.py
    deps: [prepared.txt, train.py]
    params: [lr]
    metrics:
      - metrics.json: {cache: false}
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"})


def seed_repo(repo: Path) -> None:
    """A repository with a two-stage pipeline, run and tagged v1, then its params changed: train is stale."""
    repo.mkdir()
    _git(repo, "init", "-q")
    api.init(repo)
    api.config_set("labvault.catalog_capture", "false", repo=repo)  # repro records no runs anywhere
    (repo / "raw.txt").write_text("some reviews\n")
    (repo / "prepare.py").write_text("open('prepared.txt', 'w').write(open('raw.txt').read().upper())\n")
    (repo / "train.py").write_text("import json\njson.dump({'accuracy': 0.875}, open('metrics.json', 'w'))\n")
    (repo / "params.yaml").write_text("lr: 0.1\n")
    (repo / "dvc.yaml").write_text(PIPELINE)
    api.repro(repo=repo)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "v1")
    _git(repo, "tag", "v1")
    (repo / "params.yaml").write_text("lr: 0.05\n")


@dataclass(frozen=True)
class _Drill:
    target: str
    snapshot: str
    ok: bool
    sampled: int
    bytes: int
    failed: tuple[str, ...]


def seed_lab(lab: Lab) -> None:
    """A lab config (hot/warm/cold tiers, a used and a never-run backup policy) in the catalog's
    database, a snapshot and a good drill of "daily", a failed drill recorded for "weekly"."""
    api.lab_init(lab.root / "mnt", lab.config)
    data = lab.root / "mnt" / "nvme0" / "datasets" / "reviews_v1.0"
    data.mkdir(parents=True)
    (data / "train.csv").write_text("text,label\ngood,1\n")
    with lab.config.open("a") as f:
        f.write(f"catalog_url: {lab.catalog_url}\nbackups:\n"
                f"  - {{name: daily, sources: [{data}], target: {lab.root / 'backup-daily'}}}\n"
                f"  - {{name: weekly, sources: [{data}], target: {lab.root / 'backup-weekly'}}}\n")
    api.lab_scan(lab.config, lab.catalog_url)
    api.backup_run("daily", lab=lab.config)
    api.backup_drill(policy="daily", lab=lab.config, catalog_url=lab.catalog_url)
    record_drill(open_catalog(lab.catalog_url), "weekly",
                 _Drill(str(lab.root / "backup-weekly"), "20260101T000000Z-feedbeef", False, 1, 10, ("a.txt",)))


def seed_users(lab: Lab) -> None:
    for role in ROLES:
        users.user_add(role, role, PASSWORD, catalog_url=lab.catalog_url)
        lab.tokens[role] = users.token_create(role, catalog_url=lab.catalog_url).token


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        pg_server: PgServer | None) -> Iterator[Lab]:  # noqa: F811
    root = tmp_path_factory.mktemp(f"weblab-{request.param}")
    url = new_catalog_url(request.param, root, pg_server)
    lab = Lab(url, root)
    with pytest.MonkeyPatch.context() as mp:  # only while seeding: nothing reaches the user's folders
        mp.setenv("XDG_CACHE_HOME", str(root / "cache"))
        mp.setenv("XDG_DATA_HOME", str(root / "data-home"))
        mp.delenv("LABVAULT_CATALOG_URL", raising=False)
        mp.delenv("LABVAULT_LAB", raising=False)
        seed_catalog(url)
        seed_users(lab)
        seed_lab(lab)
        seed_repo(lab.repo)
    yield lab
    store.forget(url)


class RunningServer:
    """uvicorn serving ``create_app(settings)`` in a thread on a free port."""

    def __init__(self, settings: Settings) -> None:
        import uvicorn

        self.port = free_port()
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="session")
def server(lab: Lab) -> Iterator[RunningServer]:
    settings = Settings(catalog_url=lab.catalog_url, lab=str(lab.config), repos=(str(lab.repo),), auth_required=True)
    with RunningServer(settings) as running:
        yield running


@pytest.fixture
def client(server: RunningServer) -> Client:
    """No credentials."""
    return Client(server.url)


@pytest.fixture
def as_role(server: RunningServer, lab: Lab) -> dict[str, Client]:
    """A client per role, signed by that role's API token."""
    return {role: Client(server.url, token) for role, token in lab.tokens.items()}


# What a disk measures at each call (statvfs on a shared machine) and the time of a report.
VOLATILE = frozenset({"used", "free", "percent", "status", "timestamp", "trend", "as_of", "exit_code", "warnings",
                      "age_days"})


def stable(value: Any) -> Any:
    """``value`` without the keys whose values change between two reads of the same lab."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value
