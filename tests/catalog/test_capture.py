"""Automatic capture: add, commit, push, repro and provenance cards fill the catalog (both backends)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Runner


def _catalog_json(lv: Runner, *args: str) -> object:
    return json.loads(lv("catalog", *args, "--json").stdout)


def test_add_commit_push_repro_and_cards_are_captured(
    git_repo: Path, lv: Runner, env: dict[str, str], catalog_url: str, make_tree, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    env["LABVAULT_CATALOG_URL"] = catalog_url
    lv("init")
    make_tree(git_repo, {"data/raw/reviews/a.csv": "text,label\ngood,1\n", "data/raw/reviews/b.csv": "bad,0\n"})
    lv("add", "data/raw/reviews")
    (git_repo / "data/raw/reviews/c.csv").write_text("fine,1\n")
    lv("commit")
    lv("commit")  # nothing changed: nothing recorded twice
    lv("card", "new", "data/raw/reviews", "--source", "https://example.org/r", "--license", "CC0",
       "--description", "two reviews")
    lv("commit")  # the card lives in the tracked folder: a new version, carrying the card
    lv("remote", "add", "-d", "store", str(tmp_path / "store"))
    lv("push")
    (git_repo / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: mkdir -p models && cat data/raw/reviews/*.csv > models/model.bin\n"
        "    deps:\n    - data/raw/reviews\n    outs:\n    - models/model.bin\n"
    )
    lv("repro")

    datasets = _catalog_json(lv, "datasets", "--all")
    assert isinstance(datasets, list)
    reviews = sorted((d for d in datasets if d["name"] == "data/raw/reviews"), key=lambda d: d["version"])
    assert [d["version"] for d in reviews] == ["1", "2", "3"], reviews
    assert reviews[-1]["card"]["license"] == "CC0"
    assert any(loc["remote"] == "store" for loc in reviews[-1]["locations"])
    models = _catalog_json(lv, "models")
    assert isinstance(models, list) and [m["name"] for m in models] == ["models/model.bin"]
    lineage = lv("catalog", "lineage", "model", "models/model.bin", "--up").stdout
    assert "data/raw/reviews@3" in lineage

    lv("config", "labvault.catalog_capture", "false")
    (git_repo / "data/raw/reviews/d.csv").write_text("more,1\n")
    lv("commit")
    again = _catalog_json(lv, "datasets", "--all")
    assert isinstance(again, list)
    assert len([d for d in again if d["name"] == "data/raw/reviews"]) == 3


def test_convention_names_real_run_times_and_restores(
    git_repo: Path, lv: Runner, env: dict[str, str], catalog_url: str, make_tree  # type: ignore[no-untyped-def]
) -> None:
    import datetime as dt

    env["LABVAULT_CATALOG_URL"] = catalog_url
    lv("init")
    train, test = "data/raw/sentiment_imdb_v1.0_train.csv", "data/raw/sentiment_imdb_v1.0_test.csv"
    make_tree(git_repo, {train: "good,1\n", test: "bad,0\n", "data/raw/notes.csv": "x\n"})
    lv("add", train, test, "data/raw/notes.csv")
    entry = _catalog_json(lv, "show", "dataset", "sentiment_imdb@v1.0")
    assert isinstance(entry, dict)
    assert {k: v["path"] for k, v in entry["splits"].items()} == {"test": test, "train": train}
    names = _catalog_json(lv, "datasets")
    assert isinstance(names, list) and sorted(d["name"] for d in names) == ["data/raw/notes.csv", "sentiment_imdb"]
    lv("catalog", "register", "model", "clf", "--dataset", "sentiment_imdb@v1.0")
    assert "sentiment_imdb@v1.0" in lv("catalog", "lineage", "model", "clf", "--up").stdout

    # Other content under the same version name is set aside with a warning; later events apply.
    (git_repo / train).write_text("changed,1\n")
    lv("add", train)
    (git_repo / "data/raw/notes.csv").write_text("y\n")
    lv("add", "data/raw/notes.csv")
    shown = lv("catalog", "datasets", "--all")
    assert "warning: set aside catalog journal line 1" in shown.stderr and "already holds other content" in shown.stderr
    assert shown.stdout.count("data/raw/notes.csv") == 2
    assert (git_repo / ".dvc/tmp/labvault/catalog-journal.rejected.jsonl").is_file()
    (git_repo / train).write_text("good,1\n")
    lv("add", train)

    # Runs: real start and end times, in run order; a stage restored from the run cache is a restore.
    (git_repo / "params.yaml").write_text("lr: 1\n")
    (git_repo / "dvc.yaml").write_text(
        "stages:\n"
        "  prep:\n    cmd: sleep 1.2 && cp params.yaml data/prep.txt\n"
        f"    deps:\n    - {train}\n    params:\n    - lr\n    outs:\n    - data/prep.txt\n"
        "  train:\n    cmd: sleep 1.2 && mkdir -p models && cp data/prep.txt models/model.bin\n"
        "    deps:\n    - data/prep.txt\n    outs:\n    - models/model.bin\n"
    )
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)
    lv("repro")
    after = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    (git_repo / "params.yaml").write_text("lr: 2\n")
    lv("repro")
    (git_repo / "params.yaml").write_text("lr: 1\n")
    restored = lv("repro")
    assert "restored" in restored.stdout + restored.stderr

    def when(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text.rstrip("Z"))

    runs = _catalog_json(lv, "runs")
    assert isinstance(runs, list)
    first = sorted((r for r in runs if r["status"] == "completed"), key=lambda r: r["started"])[:2]
    assert [(r["stage"], r["params"]) for r in first] == [("prep", {"lr": 1}), ("train", {})]
    for r in first:
        assert before <= when(r["started"]) <= when(r["ended"]) <= after
        assert (when(r["ended"]) - when(r["started"])).total_seconds() >= 1
    assert when(first[0]["ended"]) <= when(first[1]["started"])
    assert sorted((r["stage"], r["status"]) for r in runs if r["status"] == "restored") == [
        ("prep", "restored"), ("train", "restored")]
    assert len(runs) == 6


def test_noop_repro_does_not_load_the_catalog(git_repo: Path, lv: Runner, env: dict[str, str]) -> None:
    """A repro that ran nothing captures nothing, so it must not pay for loading the catalog's
    database layer either (it once cost a no-op repro of 100 stages 0.7 s of its 1.1 s)."""
    import subprocess
    import sys

    lv("init")
    (git_repo / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo 1 > out.txt\n    outs:\n    - out.txt\n")
    lv("repro")
    probe = (
        "import sys; from labvault import api; r = api.repro(repo=sys.argv[1]);"
        "assert all(x.action != 'ran' for x in r.runs), r.runs;"
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'labvault.catalog') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(git_repo)], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_add_journals_without_loading_the_database_layer(git_repo: Path, lv: Runner, env: dict[str, str]) -> None:
    """add records its new version in the journal; only applying the journal needs SQLAlchemy."""
    import subprocess
    import sys

    lv("init")
    (git_repo / "data").mkdir()
    (git_repo / "data" / "a.txt").write_text("a\n")
    probe = (
        "import sys; from labvault import api; api.add(['data'], repo=sys.argv[1]);"
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'labvault.catalog.store') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(git_repo)], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    journal = list(git_repo.glob(".dvc/**/catalog-journal.jsonl"))
    assert journal and '"data"' in journal[0].read_text(), journal
    datasets = _catalog_json(lv, "datasets")  # applying the journal loads it, and finds the version
    assert isinstance(datasets, list) and [d["name"] for d in datasets] == ["data"], datasets
