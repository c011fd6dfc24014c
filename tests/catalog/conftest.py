"""Catalog fixtures: every test runs on SQLite and on a real PostgreSQL server.

The server is a throwaway cluster (initdb + pg_ctl in a mktemp folder, as the ``postgres`` user
when running as root, on a free loopback port), one per pytest worker; each test gets a fresh
database. In CI (``CI=true``) a missing server fails the tests instead of skipping them.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from labvault.catalog import store

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    folder: Path
    bin: Path
    port: int

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def create_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def start_postgres() -> PgServer:
    """Start a throwaway PostgreSQL cluster; raises RuntimeError saying why it could not."""
    binary = pg_bin()
    if binary is None:
        raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
                           "run `make test` (it installs it) or `apt-get install -y postgresql`")
    folder = Path(tempfile.mkdtemp(prefix="labvault-pg-"))
    os.chmod(folder, 0o777)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    subprocess.run(_as_postgres([str(binary / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                 "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
                   check=True, capture_output=True)
    for _attempt in range(5):
        port = free_port()
        proc = subprocess.run(_as_postgres([
            str(binary / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
            f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off -c max_connections=200",
            "start"]), capture_output=True, text=True)
        if proc.returncode == 0:
            return PgServer(folder, binary, port)
    raise RuntimeError(f"pg_ctl start failed: {proc.stderr.strip() or proc.stdout.strip()}")


def stop_postgres(server: PgServer) -> None:
    subprocess.run(_as_postgres([str(server.bin / "pg_ctl"), "-D", str(server.folder / "data"), "-m",
                                 "immediate", "-w", "stop"]), capture_output=True)
    # Removing a cluster's many small files takes seconds: let a detached process do it.
    subprocess.Popen(["rm", "-rf", str(server.folder)], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer | None]:
    """One server per xdist worker (session scope is per worker); None when unavailable locally."""
    try:
        server = start_postgres()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        if IN_CI:
            pytest.fail(f"PostgreSQL test server unavailable in CI: {e}")
        yield None
        return
    yield server
    store.forget()
    stop_postgres(server)


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path, pg_server: PgServer | None) -> Iterator[str]:
    """A fresh, empty catalog database URL on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    else:
        if pg_server is None:
            msg = "PostgreSQL unavailable: install it (apt-get install -y postgresql) to run these tests"
            if IN_CI:
                pytest.fail(msg)
            pytest.skip(msg)
        url = pg_server.create_database()
    yield url
    store.forget(url)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def shared_catalog_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_server: PgServer | None
) -> str:
    """One empty catalog per backend for the whole session: for tests that only read or fail."""
    return new_catalog_url(request.param, tmp_path_factory.mktemp("shared"), pg_server)


def new_catalog_url(backend: str, folder: Path, pg_server: PgServer | None) -> str:
    """A fresh catalog: an SQLite file in ``folder``, or a new database on ``pg_server`` (a skip,
    or in CI a failure, when there is none)."""
    if backend == "sqlite":
        return f"sqlite:///{folder / 'catalog.sqlite'}"
    if pg_server is None:
        msg = "PostgreSQL unavailable: install it (apt-get install -y postgresql) to run these tests"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return pg_server.create_database()


@pytest.fixture
def cat(catalog_url: str) -> store.Catalog:
    return store.open_catalog(catalog_url)
