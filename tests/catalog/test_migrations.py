"""Schema migrations: a database made by the first revision upgrades to the newest, keeping its rows."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from labvault import api
from labvault.catalog import migrate, store
from labvault.catalog.schema import metadata


def _engine(url: str) -> sa.Engine:
    return store._make_engine(store.normalize_url(url))[0]


def _for_dialect(dialect: str):  # type: ignore[no-untyped-def]
    """Compare only what the dialect gets: an index declared ``ddl_if(dialect=...)`` for another
    dialect is not created there (migration 0005's PostgreSQL-only covering indexes)."""

    def include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
        ddl_if = getattr(obj, "_ddl_if", None)
        return not (type_ == "index" and ddl_if is not None and ddl_if.dialect not in (None, dialect))

    return include


def test_first_revision_upgrades_without_loss(catalog_url: str) -> None:
    engine = _engine(catalog_url)
    with engine.connect() as conn:
        migrate.upgrade(conn.execution_options(lv_write=True), "0001")
    with engine.begin() as conn:
        assert migrate.current_revision(conn) == "0001"
        assert "kind" not in {c["name"] for c in sa.inspect(conn).get_columns("metrics")}
        now = datetime(2026, 1, 1)
        conn.execute(sa.text("INSERT INTO entities (id, kind, name, created_at) VALUES (1, 'model', 'clf', :t)"),
                     {"t": now})
        conn.execute(sa.text(
            "INSERT INTO versions (id, entity_id, kind, version, seq, created_at) VALUES (1, 1, 'model', '1', 1, :t)"
        ), {"t": now})
        conn.execute(sa.text("INSERT INTO metrics (version_id, key, value) VALUES (1, 'accuracy', 0.93)"))
        conn.execute(sa.text("INSERT INTO tags (version_id, tag, created_at) VALUES (1, 'production', :t)"),
                     {"t": now})
    if engine.dialect.name == "postgresql":  # explicit ids above: move the sequences past them
        with engine.begin() as conn:
            for table in ("entities", "versions"):
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)"))
    engine.dispose()

    # First use by labvault upgrades it.
    found = api.catalog_search("models", "metrics.accuracy > 0.9 and tag = production", catalog_url=catalog_url)
    assert [(e.name, e.version, e.metrics) for e in found] == [("clf", "1", {"accuracy": 0.93})]
    assert api.catalog_register_model("clf", catalog_url=catalog_url).version == "2"
    engine = _engine(catalog_url)
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.HEAD
        assert conn.execute(sa.text("SELECT kind FROM metrics WHERE version_id = 1")).scalar_one() == "model"
    engine.dispose()


def test_migrated_schema_equals_the_declared_tables(catalog_url: str) -> None:
    store.open_catalog(catalog_url)
    engine = _engine(catalog_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _for_dialect(conn.dialect.name)})
        diffs = compare_metadata(context, metadata)
    engine.dispose()
    assert [d for d in diffs if not (isinstance(d, tuple) and d[0] == "remove_table"
                                     and d[1].name == "alembic_version")] == []
    assert migrate.HEAD == migrate._script()[1].get_current_head() == "0015"


def test_second_revision_upgrades_with_its_rows(catalog_url: str) -> None:
    """0002 -> 0003: params get their version's kind, versions a meta column, datasets splits."""
    engine = _engine(catalog_url)
    with engine.connect() as conn:
        migrate.upgrade(conn.execution_options(lv_write=True), "0002")
    with engine.begin() as conn:
        assert migrate.current_revision(conn) == "0002"
        now = datetime(2026, 1, 1)
        conn.execute(sa.text("INSERT INTO entities (id, kind, name, created_at) VALUES "
                             "(1, 'experiment', 'exp', :t), (2, 'model', 'clf', :t), (3, 'dataset', 'imdb', :t)"),
                     {"t": now})
        conn.execute(sa.text(
            "INSERT INTO versions (id, entity_id, kind, version, seq, content_hash, created_at) VALUES "
            "(1, 1, 'run', '1', 1, 'f1', :t), (2, 2, 'model', '1', 1, 'm1', :t), (3, 3, 'dataset', 'v1', 1, 'd1', :t)"
        ), {"t": now})
        conn.execute(sa.text("INSERT INTO params (version_id, key, value_text, value_num) VALUES "
                             "(1, 'lr', '0.001', 0.001), (2, 'lr', '0.01', 0.01), (1, 'opt', 'adam', NULL)"))
        conn.execute(sa.text("INSERT INTO metrics (version_id, key, value, kind) VALUES (1, 'acc', 0.9, 'run')"))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("entities", "versions"):
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)"))
    engine.dispose()

    found = api.catalog_search("runs", "params.lr < 0.005 and params.opt = adam", catalog_url=catalog_url)
    assert [(e.name, e.params) for e in found] == [("exp", {"lr": 0.001, "opt": "adam"})]
    assert [e.name for e in api.catalog_search("models", "params.lr = 0.01", catalog_url=catalog_url)] == ["clf"]
    engine = _engine(catalog_url)
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.HEAD
        kinds = conn.execute(sa.text("SELECT version_id, key, kind FROM params ORDER BY version_id, key")).all()
        assert [tuple(k) for k in kinds] == [(1, "lr", "run"), (1, "opt", "run"), (2, "lr", "model")]
        assert conn.execute(sa.text("SELECT meta FROM versions WHERE id = 3")).scalar_one() is None
    engine.dispose()
    from labvault.catalog.events import Artifact
    from labvault.catalog.record import record_artifact

    record_artifact(store.open_catalog(catalog_url), Artifact("data/imdb_v1_train.csv", "t1", name="imdb",
                                                              version="v1", split="train", meta={"src": "x"}))
    entry = api.catalog_get("dataset", "imdb@v1", catalog_url=catalog_url)
    assert entry.content_hash == "d1" and list(entry.splits) == ["train"]


def _downgrade(conn: sa.Connection, target: str) -> None:
    from alembic.runtime.environment import EnvironmentContext

    cfg, script = migrate._script()
    with EnvironmentContext(cfg, script, fn=lambda rev, _ctx: script._downgrade_revs(target, rev),
                            destination_rev=target) as env:
        env.configure(connection=conn, target_metadata=None)
        with env.begin_transaction():
            env.run_migrations()


def _heads(conn: sa.Connection) -> dict[str, str]:
    """name -> its marked version, the mark checked against the versions themselves."""
    from labvault.catalog import heads

    assert heads.drift(conn) == []
    return dict(conn.execute(sa.text("SELECT e.name, v.version FROM versions v JOIN entities e ON e.id = v.entity_id "
                                     "WHERE v.is_head = 1 ORDER BY e.name")).all())


def test_bulk_marking_revision_upgrades_and_downgrades_with_its_marks(catalog_url: str) -> None:
    """0014 -> 0015 -> 0014: the marks made by 0014's triggers stay right after the upgrade and a bulk
    registration (whose versions go in as 0, "not the newest"); the downgrade turns those 0s back
    into NULL, so that 0014's triggers, which know only NULL and 1, mark the version before when
    the newest is deleted."""
    from labvault.catalog import bulk
    from labvault.catalog.types import NewVersion

    engine = _engine(catalog_url)
    with engine.connect() as conn:
        migrate.upgrade(conn.execution_options(lv_write=True), "0014")
    with engine.begin() as conn:
        now = datetime(2026, 1, 1)
        conn.execute(sa.text("INSERT INTO entities (id, kind, name, created_at) VALUES (1, 'model', 'clf', :t)"),
                     {"t": now})
        for i in (1, 2):
            conn.execute(sa.text("INSERT INTO versions (id, entity_id, kind, version, seq, created_at) "
                                 "VALUES (:i, 1, 'model', :v, :i, :t)"), {"i": i, "v": str(i), "t": now})
        assert _heads(conn) == {"clf": "2"}
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("entities", "versions"):
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)"))
    engine.dispose()

    cat = store.open_catalog(catalog_url)  # upgrades to the newest revision
    assert bulk.register_many(cat, [NewVersion("model", "clf"), NewVersion("model", "clf"),
                                    NewVersion("dataset", "raw"), NewVersion("run", "exp")]) == 4
    with cat.read() as conn:
        assert _heads(conn) == {"clf": "4", "raw": "1"}
        assert conn.execute(sa.text("SELECT count(*) FROM versions WHERE is_head = 0")).scalar_one() == 1
    engine = _engine(catalog_url)
    with engine.connect() as conn:
        _downgrade(conn.execution_options(lv_write=True), "0014")
    with engine.begin() as conn:
        assert migrate.current_revision(conn) == "0014"
        assert conn.execute(sa.text("SELECT count(*) FROM versions WHERE is_head = 0")).scalar_one() == 0
        conn.execute(sa.text("DELETE FROM versions WHERE version = '4'"))
        assert _heads(conn) == {"clf": "3", "raw": "1"}
    engine.dispose()
