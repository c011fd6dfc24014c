"""The catalog database in backups: a consistent copy while another process writes, and a round
trip (backup, restore) with identical query results, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from labvault import api
from labvault.catalog import dbcopy
from labvault.catalog.store import forget, open_catalog
from labvault.errors import UsageError
from tests.catalog.conftest import IN_CI, PgServer, pg_server  # noqa: F401  (fixture)
from tests.conftest import Runner

# Each transaction of the writer adds one row to t_a and one to t_b: a copy taken at one moment
# holds as many rows in both; a torn copy would not.
SQLITE_WRITER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
conn.execute("PRAGMA busy_timeout = 60000")
i = 0
while True:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO t_a (n, pad) VALUES (?, randomblob(2000))", (i,))
    conn.execute("INSERT INTO t_b (n, pad) VALUES (?, randomblob(2000))", (i,))
    conn.execute("COMMIT")
    i += 1
    if i == 50:
        print("going", flush=True)
"""

PG_WRITER = """
import sys, psycopg
conn = psycopg.connect(sys.argv[1], autocommit=False)
i = 0
while True:
    with conn.transaction():
        conn.execute("INSERT INTO t_a (n, pad) VALUES (%s, repeat('x', 2000))", (i,))
        conn.execute("INSERT INTO t_b (n, pad) VALUES (%s, repeat('x', 2000))", (i,))
    i += 1
    if i == 50:
        print("going", flush=True)
"""


def _lab(tmp_path: Path, catalog_url: str) -> Path:
    lab = tmp_path / "lab.yaml"
    lab.write_text(f"""
tiers: {{hot: {{path: {tmp_path}}}}}
catalog_url: {catalog_url}
backups:
  - {{name: nightly, catalog: true, target: {tmp_path / 'target'}}}
""")
    return lab


@pytest.fixture
def env_clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LABVAULT_CATALOG_URL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(params=["sqlite", "postgresql"])
def source_url(request: pytest.FixtureRequest, tmp_path: Path, pg_server: PgServer | None,  # noqa: F811
               env_clean: None) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    else:
        if pg_server is None:
            if IN_CI:
                pytest.fail("PostgreSQL unavailable in CI")
            pytest.skip("PostgreSQL unavailable: apt-get install -y postgresql")
        url = pg_server.create_database()
    cat = open_catalog(url)  # the real schema, plus two tables the writer fills
    with cat.engine.begin() as conn:
        for t in ("t_a", "t_b"):
            conn.exec_driver_sql(f"CREATE TABLE {t} (n INTEGER NOT NULL, pad TEXT)")
    yield url
    forget(url)


def _dump_rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, sorted: what 'identical query results' compares."""
    engine = sa.create_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return {name: sorted((tuple(r) for r in conn.execute(sa.select(t))), key=repr)
                    for name, t in sorted(meta.tables.items())}
    finally:
        engine.dispose()


def _counts(url: str) -> tuple[int, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return (conn.execute(sa.text("SELECT count(*) FROM t_a")).scalar_one(),
                    conn.execute(sa.text("SELECT count(*) FROM t_b")).scalar_one())
    finally:
        engine.dispose()


def _writer(url: str) -> subprocess.Popen[str]:
    if url.startswith("sqlite"):
        argv = [sys.executable, "-c", SQLITE_WRITER, dbcopy.sqlite_path(url)]
    else:
        plain = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        argv = [sys.executable, "-c", PG_WRITER, plain]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "going"
    return proc


def _target_for(url: str, tmp_path: Path, name: str, make: Callable[[], str] | None) -> str:
    if url.startswith("sqlite"):
        return str(tmp_path / name)
    assert make is not None
    return make()


def test_backup_during_writes_is_a_consistent_moment_and_round_trips(
        source_url: str, tmp_path: Path, pg_server: PgServer | None) -> None:  # noqa: F811
    lab = _lab(tmp_path, source_url)
    make = pg_server.create_database if pg_server is not None else None
    for attempt in range(3):
        writer = _writer(source_url)
        try:
            before = _counts(source_url)[0]
            run = api.backup_run("nightly", lab=lab)[0]
            after = _counts(source_url)[0]
        finally:
            writer.kill()
            writer.wait()
        if after > before:  # the writer really wrote during the backup
            break
        assert attempt < 2, "the writer never overlapped the backup"
    assert run.snapshot is not None and run.files == 1
    restored = _target_for(source_url, tmp_path, f"restored-{attempt}.sqlite", make)
    r = api.catalog_restore_db(run.snapshot, restored, lab=lab)
    assert r.kind == ("sqlite" if source_url.startswith("sqlite") else "postgresql")
    restored_url = f"sqlite:///{restored}" if source_url.startswith("sqlite") else restored
    a, b = _counts(restored_url)
    assert a == b and before <= a <= after
    if source_url.startswith("sqlite"):
        with sqlite3.connect(restored) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        conn.close()
    # the restored catalog opens and upgrades like any catalog
    cat = open_catalog(restored_url)
    with cat.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    forget(restored_url)

    # quiet now: a second snapshot restores to exactly the same rows as the source
    second = api.backup_run("nightly", lab=lab)[0]
    again = _target_for(source_url, tmp_path, "again.sqlite", make)
    assert second.snapshot is not None
    api.catalog_restore_db(second.snapshot, again, lab=lab)
    again_url = f"sqlite:///{again}" if source_url.startswith("sqlite") else again
    assert _dump_rows(again_url) == _dump_rows(source_url)


def test_restore_refuses_a_live_catalog_and_a_non_empty_database(
        source_url: str, tmp_path: Path, pg_server: PgServer | None) -> None:  # noqa: F811
    lab = _lab(tmp_path, source_url)
    sid = api.backup_run("nightly", lab=lab)[0].snapshot
    assert sid is not None
    if source_url.startswith("sqlite"):
        live = dbcopy.sqlite_path(source_url)
        with pytest.raises(UsageError, match="exists"):
            api.catalog_restore_db(sid, live, lab=lab)
        with pytest.raises(UsageError, match="sqlite catalog"):
            api.catalog_restore_db(sid, "postgresql://x@127.0.0.1:1/db", lab=lab)
        return
    with pytest.raises(UsageError, match="not empty"):
        api.catalog_restore_db(sid, source_url, lab=lab)
    with pytest.raises(UsageError, match="postgresql catalog"):
        api.catalog_restore_db(sid, str(tmp_path / "x.sqlite"), lab=lab)


def test_cli_restore_db_force_replaces_a_sqlite_file(tmp_path: Path, lv: Runner, env: dict[str, str]) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    cat = open_catalog(url)
    with cat.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t_a (n INTEGER NOT NULL, pad TEXT)")
        conn.exec_driver_sql("INSERT INTO t_a VALUES (1, 'one')")
    forget(url)
    env["LABVAULT_LAB"] = str(_lab(tmp_path, url))
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env.pop("LABVAULT_CATALOG_URL", None)
    lv("backup", "run", "--json")
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE unrelated (x)")
    conn.close()
    before = other.read_bytes()
    proc = lv("catalog", "restore-db", "latest", "--to", str(other), check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--force" in proc.stderr
    assert other.read_bytes() == before
    lv("catalog", "restore-db", "latest", "--to", str(other), "--force")
    assert _dump_rows(f"sqlite:///{other}")["t_a"] == [(1, "one")]
    fresh = tmp_path / "fresh.sqlite"
    out = lv("catalog", "restore-db", "latest", "--to", f"sqlite:///{fresh}", "--json").stdout
    assert '"kind": "sqlite"' in out and _dump_rows(f"sqlite:///{fresh}")["t_a"] == [(1, "one")]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".lvtmp")]


def test_pg_settings_reach_the_tools_through_the_environment() -> None:
    env = dbcopy.pg_env("postgresql+psycopg://lab:s3cret@db.example:5433/cat?sslmode=require")
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"], env["PGDATABASE"], env["PGSSLMODE"]) == (
        "db.example", "5433", "lab", "s3cret", "cat", "require")


def test_a_policy_with_only_the_catalog_is_valid_and_names_clash(tmp_path: Path) -> None:
    from labvault.errors import ConfigError
    from labvault.tiers.load import parse_lab

    ok = parse_lab(f"tiers: {{hot: {{path: {tmp_path}}}}}\nbackups: [{{name: n, catalog: true, target: /b}}]\n")
    assert ok.backups[0].catalog and ok.backups[0].sources == ()
    with pytest.raises(ConfigError, match="catalog"):
        parse_lab(f"tiers: {{hot: {{path: {tmp_path}}}}}\n"
                  "backups: [{name: n, catalog: true, sources: [/x/catalog], target: /b}]\n")
    with pytest.raises(ConfigError, match="sources"):
        parse_lab(f"tiers: {{hot: {{path: {tmp_path}}}}}\nbackups: [{{name: n, target: /b}}]\n")

