"""The dashboard's fixtures: a seeded catalog on SQLite and on PostgreSQL, users and tokens of
every role, and a real uvicorn server on a free loopback port in a thread, stopped after.

One lab per backend for the whole session (``lab``); tests that write use names of their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from labvault import api
from labvault.api import users
from labvault.catalog import store
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
    seed_catalog(url)
    seed_users(lab)
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
    settings = Settings(catalog_url=lab.catalog_url, auth_required=True)
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
