"""Registering and reading versions, idempotent capture hooks, labels, delete, export."""

from __future__ import annotations

import csv
import io
import json

import pytest

from labvault import api
from labvault.catalog import store
from labvault.errors import CatalogError


def test_dataset_versions_number_themselves_and_dedupe_by_content(catalog_url: str) -> None:
    a = api.record_dataset_version("data/raw", "h1", "data/raw", 10, 2, catalog_url=catalog_url)
    b = api.record_dataset_version("data/raw", "h2", "data/raw", 20, 3, git_rev="abc", catalog_url=catalog_url)
    again = api.record_dataset_version("data/raw", "h1", "data/raw", 10, 2, catalog_url=catalog_url)
    assert (a.version, b.version, again.version) == ("1", "2", "1")
    assert again.id == a.id
    named = api.record_dataset_version("data/raw", "h3", "data/raw", 5, 1, version="v1.0", catalog_url=catalog_url)
    assert named.version == "v1.0"
    nxt = api.record_dataset_version("data/raw", "h4", "data/raw", 5, 1, catalog_url=catalog_url)
    assert nxt.version == "4"
    assert [e.version for e in api.catalog_list("datasets", all_versions=True, catalog_url=catalog_url)] == [
        "4", "v1.0", "2", "1"]
    latest = api.catalog_get("dataset", "data/raw", catalog_url=catalog_url)
    assert latest.version == "4" and latest.content_hash == "h4"
    assert api.catalog_get("dataset", "data/raw@2", catalog_url=catalog_url).git_rev == "abc"


def test_duplicate_version_is_refused_and_changes_nothing(catalog_url: str) -> None:
    api.catalog_register_dataset("ds", version="v1", content_hash="x", catalog_url=catalog_url)
    with pytest.raises(CatalogError, match="already has version 'v1'") as err:
        api.catalog_register_dataset("ds", version="v1", content_hash="y", tags=["t"], catalog_url=catalog_url)
    assert err.value.exit_code == 2
    assert len(api.catalog_list("datasets", all_versions=True, catalog_url=catalog_url)) == 1


def test_model_with_metrics_trained_on_dataset(catalog_url: str) -> None:
    api.catalog_register_dataset("sentiment_dataset", version="v1.0", path="data/s.csv", size=100,
                                 nsamples=50000, card={"license": "CC-BY-4.0"}, catalog_url=catalog_url)
    m = api.catalog_register_model(
        "sentiment_classifier", architecture="bert-base-uncased", framework="pytorch",
        datasets=["sentiment_dataset@v1.0"], path="models/final/model.pth",
        metrics={"accuracy": 0.92, "f1": 0.91}, params={"lr": 2e-5, "optimizer": "adamw"}, catalog_url=catalog_url)
    assert m.ref == "sentiment_classifier@1"
    assert m.metrics == {"accuracy": 0.92, "f1": 0.91}
    assert m.params == {"lr": 2e-5, "optimizer": "adamw"}
    assert m.inputs == ("dataset:sentiment_dataset@v1.0",)
    ds = api.catalog_get("dataset", "sentiment_dataset@v1.0", catalog_url=catalog_url)
    assert ds.card == {"license": "CC-BY-4.0"} and ds.nsamples == 50000
    assert ds.outputs == ("model:sentiment_classifier@1",)


def test_unknown_references_say_what_exists(catalog_url: str) -> None:
    with pytest.raises(CatalogError, match="unknown dataset 'nope'"):
        api.catalog_get("dataset", "nope", catalog_url=catalog_url)
    api.catalog_register_dataset("ds", catalog_url=catalog_url)
    with pytest.raises(CatalogError, match=r"no version or alias '9'.*latest versions: 1"):
        api.catalog_get("dataset", "ds@9", catalog_url=catalog_url)
    with pytest.raises(CatalogError, match="unknown dataset 'missing'"):
        api.catalog_register_model("m", datasets=["missing@1"], catalog_url=catalog_url)
    assert api.catalog_list("models", catalog_url=catalog_url) == []
    with pytest.raises(CatalogError, match="bad reference"):
        api.catalog_get("dataset", "ds@", catalog_url=catalog_url)


def test_tags_accumulate_and_aliases_move(catalog_url: str) -> None:
    for h in ("a", "b", "c"):
        api.catalog_register_model("clf", content_hash=h, catalog_url=catalog_url)
    api.catalog_tag("model", "clf@1", ["reviewed"], catalog_url=catalog_url)
    e = api.catalog_tag("model", "clf@1", ["candidate"], catalog_url=catalog_url)
    assert e.tags == ("candidate", "reviewed")
    api.catalog_alias("model", "clf@1", "production", catalog_url=catalog_url)
    assert api.catalog_get("model", "clf@production", catalog_url=catalog_url).version == "1"
    api.catalog_alias("model", "clf@3", "production", catalog_url=catalog_url)
    assert api.catalog_get("model", "clf@production", catalog_url=catalog_url).version == "3"
    assert api.catalog_get("model", "clf@1", catalog_url=catalog_url).aliases == ()
    e = api.catalog_tag("model", "clf@1", ["reviewed"], remove=True, catalog_url=catalog_url)
    assert e.tags == ("candidate",)
    with pytest.raises(CatalogError, match="already a version"):
        api.catalog_alias("model", "clf@1", "2", catalog_url=catalog_url)
    api.catalog_unalias("model", "clf", "production", catalog_url=catalog_url)
    with pytest.raises(CatalogError):
        api.catalog_get("model", "clf@production", catalog_url=catalog_url)


def test_record_run_links_inputs_to_outputs_once(catalog_url: str) -> None:
    api.record_dataset_version("data/prepared", "in1", "data/prepared", 100, 4, catalog_url=catalog_url)
    args = dict(experiment="sentiment", stage="train", params={"lr": 0.001}, metrics={"acc": 0.9},
                status="completed", started=None, ended=None, git_rev="abc123", inputs=["in1", "unknown"],
                outputs=[("models/model.pth", "out1", "model")])
    run = api.record_run(**args, catalog_url=catalog_url)  # type: ignore[arg-type]
    again = api.record_run(**args, catalog_url=catalog_url)  # type: ignore[arg-type]
    assert again.id == run.id
    assert run.inputs == ("dataset:data/prepared@1",)
    assert run.outputs == ("model:models/model.pth@1",)
    assert len(api.catalog_list("runs", catalog_url=catalog_url)) == 1
    model = api.catalog_get("model", "models/model.pth", catalog_url=catalog_url)
    assert model.content_hash == "out1" and model.inputs == ("run:sentiment@1",)
    with pytest.raises(CatalogError, match="use 'dataset' or 'model'"):
        api.record_run("x", None, {}, {}, "completed", None, None, None, [], [("p", "h", "plot")],
                       catalog_url=catalog_url)


def test_locations_are_recorded_once_per_remote(catalog_url: str) -> None:
    api.record_dataset_version("ds", "hh", "ds", 1, 1, catalog_url=catalog_url)
    api.record_location("hh", "store", "s3://bucket/a", catalog_url=catalog_url)
    api.record_location("hh", "store", "s3://bucket/b", catalog_url=catalog_url)
    api.record_location("hh", "backup", "/mnt/backup", tier="cold", catalog_url=catalog_url)
    e = api.catalog_get("dataset", "ds", catalog_url=catalog_url)
    assert [(loc.remote, loc.url, loc.tier) for loc in e.locations] == [
        ("backup", "/mnt/backup", "cold"), ("store", "s3://bucket/b", None)]


def test_experiments_and_runs(catalog_url: str) -> None:
    api.catalog_register_experiment("sweep", "lr sweep", catalog_url=catalog_url)
    api.catalog_register_dataset("ds", catalog_url=catalog_url)
    for lr in (0.1, 0.01):
        api.catalog_register_run("sweep", stage="train", params={"lr": lr}, metrics={"loss": lr * 2},
                                 inputs=["ds@1"], catalog_url=catalog_url)
    (info,) = api.catalog_experiments(catalog_url=catalog_url)
    assert (info.name, info.description, info.runs, info.latest_run) == ("sweep", "lr sweep", 2, "sweep@2")
    run = api.catalog_get("run", "sweep@1", catalog_url=catalog_url)
    assert run.params == {"lr": 0.1} and run.inputs == ("dataset:ds@1",) and run.status == "completed"


def test_delete_dry_run_then_execute(catalog_url: str) -> None:
    api.catalog_register_dataset("ds", catalog_url=catalog_url)
    api.catalog_register_dataset("ds", catalog_url=catalog_url)
    api.catalog_register_model("m", datasets=["ds@1"], metrics={"a": 1.0}, catalog_url=catalog_url)
    plan = api.catalog_delete("dataset", "ds@1", dry_run=True, catalog_url=catalog_url)
    assert plan.refs == ("ds@1",) and plan.edges == 1 and plan.dependents == ("model:m@1",)
    assert len(api.catalog_list("datasets", all_versions=True, catalog_url=catalog_url)) == 2
    api.catalog_delete("dataset", "ds@1", catalog_url=catalog_url)
    assert [e.version for e in api.catalog_list("datasets", all_versions=True, catalog_url=catalog_url)] == ["2"]
    assert api.catalog_get("model", "m", catalog_url=catalog_url).inputs == ()
    api.catalog_delete("dataset", "ds", catalog_url=catalog_url)
    with pytest.raises(CatalogError, match="unknown dataset"):
        api.catalog_get("dataset", "ds", catalog_url=catalog_url)


def test_export_json_and_csv(catalog_url: str) -> None:
    api.catalog_register_dataset("ds", size=5, catalog_url=catalog_url)
    api.catalog_register_model("m", metrics={"accuracy": 0.5}, params={"lr": 0.1}, tags=["x"],
                               datasets=["ds"], catalog_url=catalog_url)
    doc = json.loads(api.catalog_export("json", catalog_url=catalog_url))
    assert doc["format"] == "labvault-catalog"
    assert [(e["kind"], e["name"]) for e in doc["entries"]] == [("dataset", "ds"), ("model", "m")]
    rows = list(csv.DictReader(io.StringIO(api.catalog_export("csv", ["models"], catalog_url=catalog_url))))
    assert len(rows) == 1
    assert rows[0]["metrics.accuracy"] == "0.5" and rows[0]["params.lr"] == "0.1" and rows[0]["tags"] == "x"


def test_register_many_follows_the_same_rules(catalog_url: str) -> None:
    from labvault.catalog import NewVersion

    api.catalog_register_dataset("ds0", content_hash="h0", catalog_url=catalog_url)
    items = [NewVersion("dataset", f"ds{i % 3}", content_hash=f"h{i}", size=i) for i in range(9)]
    items += [NewVersion("model", "m", metrics={"accuracy": 0.5 + i / 10}, tags=("t",)) for i in range(3)]
    items += [NewVersion("run", "exp", params={"lr": 0.1}, metrics={"loss": 1.0})]
    assert api.register_many(items, catalog_url=catalog_url) == 12  # h0 was there already
    assert [e.version for e in api.catalog_list("datasets", name="ds0", all_versions=True,
                                                 catalog_url=catalog_url)] == ["3", "2", "1"]
    found = api.catalog_search("models", "metrics.accuracy > 0.55 and tag = t", catalog_url=catalog_url)
    assert sorted(e.version for e in found) == ["2", "3"]
    assert api.register_many(items, catalog_url=catalog_url) == 4  # hashed ones are known; others are new
    with pytest.raises(CatalogError, match="already has version"):
        api.register_many([NewVersion("model", "m", version="1")], catalog_url=catalog_url)


def test_unreachable_database_is_one_clear_error() -> None:
    with pytest.raises(CatalogError, match="cannot reach the catalog database") as err:
        store.open_catalog("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert err.value.exit_code == 2 and "\n" not in err.value.line()
    with pytest.raises(CatalogError, match="bad catalog URL"):
        store.open_catalog("::not a url::")
