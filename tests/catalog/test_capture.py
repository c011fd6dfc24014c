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
