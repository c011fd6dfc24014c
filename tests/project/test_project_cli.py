"""The CLI of `names` and `card`: text, --json, exit codes, one-line errors."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Runner


def _today() -> str:
    return dt.date.today().strftime("%Y%m%d")


@pytest.fixture
def repo(git_repo: Path, lv: Runner) -> Path:
    lv("init")
    return git_repo


def test_names_check_clean_and_dirty(repo: Path, lv: Runner, make_tree: Callable[[Path, dict[str, bytes | str]], None]) -> None:
    make_tree(repo, {"data/raw/imagenet_v2_train.tar": "", "models/resnet50_imagenet_20241113_v1.pth": ""})
    out = lv("names", "check").stdout
    assert "2 names checked: all follow the conventions." in out
    make_tree(repo, {"data/raw/train/Reviews.csv": "", "outputs/quick_test/log.txt": ""})
    noon = dt.datetime(2024, 11, 13, 12, 0).timestamp()  # the suggested date is the modification date's
    for p in (repo / "outputs/quick_test/log.txt", repo / "outputs/quick_test"):
        os.utime(p, (noon, noon))
    proc = lv("names", "check", check=False)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines == [
        "data/raw/train/Reviews.csv: dataset name: use lowercase letters; no split: end the name with _train, "
        "_val or _test; no version between the name and the split (e.g. _v1 or _2017); "
        "suggested: reviews_v1_train.csv",
        "outputs/quick_test/: experiment name: no run id at the end (e.g. _run001); no date: add _YYYYMMDD "
        "(suggested with 20241113, its modification date); suggested: quick_test_20241113_run001/",
    ]
    assert proc.stderr.startswith("error: 2 of 4 names break the naming conventions")
    proc = lv("names", "check", "--json", "data", check=False)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["ok"] is False and doc["checked"] == 2 and doc["config"] is None and doc["skipped"] == []
    assert doc["violations"][0]["suggestion"] == "reviews_v1_train.csv"
    assert doc["violations"][0]["problems"][0] == "use lowercase letters"


def test_names_check_kind_and_skips(repo: Path, lv: Runner, make_tree: Callable[[Path, dict[str, bytes | str]], None]) -> None:
    make_tree(repo, {"weights.bin": "", "notes.txt": ""})
    proc = lv("names", "check", "notes.txt")
    assert "skipped notes.txt: not under data/" in proc.stderr
    proc = lv("names", "check", "--kind", "model", "weights.bin", check=False)
    assert proc.returncode == 1 and proc.stdout.startswith("weights.bin: model name:")
    proc = lv("names", "check", "--kind", "table", check=False)
    assert proc.returncode == 2


def test_names_check_bad_config(repo: Path, lv: Runner) -> None:
    (repo / "labvault-names.yaml").write_text("dataset: '('\n")
    proc = lv("names", "check", check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")
    assert "labvault-names.yaml" in proc.stderr and "not a valid regular expression" in proc.stderr


def test_names_new(repo: Path, lv: Runner) -> None:
    assert lv("names", "new", "dataset", "--name", "imagenet", "--version", "2", "--split", "train",
              "--format", "tar").stdout == "imagenet_v2_train.tar\n"
    before = _today()
    got = lv("names", "new", "model", "--architecture", "resnet50", "--dataset", "imagenet", "--format", "pth").stdout
    assert got in {f"resnet50_imagenet_{day}_v1.pth\n" for day in (before, _today())}  # a run across midnight
    assert lv("names", "new", "experiment", "--name", "sentiment analysis", "--date", "20241113",
              "--run", "1").stdout == "sentiment_analysis_20241113_run001/\n"
    doc = json.loads(lv("names", "new", "experiment", "--name", "x", "--date", "20241113", "--json").stdout)
    assert doc == {"kind": "experiment", "name": "x_20241113_run001",
                   "parts": {"name": "x", "date": "20241113", "run": "run001"}}
    proc = lv("names", "new", "dataset", "--name", "x", "--split", "train", check=False)
    assert proc.returncode == 2 and proc.stderr.startswith("error: --format is required")
    proc = lv("names", "new", "model", "--architecture", "a", "--dataset", "b", "--format", "pt",
              "--date", "20241399", check=False)
    assert proc.returncode == 2 and "not a real date" in proc.stderr


def test_names_outside_a_repository(tmp_path: Path, lv: Runner) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "coco_2017_val.zip").write_text("")
    assert "1 name checked" in lv("names", "check", cwd=tmp_path).stdout


def test_card_commands(repo: Path, lv: Runner, make_tree: Callable[[Path, dict[str, bytes | str]], None]) -> None:
    make_tree(repo, {"data/raw/reviews/a.csv": "a,b\n", "data/raw/reviews/b.csv": "c,d\n"})
    out = lv("card", "new", "data/raw/reviews", "--license", "CC BY 4.0").stdout
    assert out.splitlines() == [
        "wrote data/raw/reviews/README.md (2 files, 8 B)",
        "fill in: source, description; then run `labvault card check data/raw/reviews`",
    ]
    proc = lv("card", "new", "data/raw/reviews", check=False)
    assert proc.returncode == 2 and "already exists" in proc.stderr and "--force" in proc.stderr
    proc = lv("card", "check", "data", check=False)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == ["data/raw/reviews/README.md: source is empty",
                                        "data/raw/reviews/README.md: description is empty"]
    doc = json.loads(lv("card", "check", "data", "--json", check=False).stdout)
    assert doc["ok"] is False and doc["checked"] == ["data/raw/reviews/README.md"]
    assert doc["problems"][0] == {"path": "data/raw/reviews/README.md", "problem": "source is empty"}
    lv("card", "new", "data/raw/reviews", "-f", "--source", "https://example.com", "--license", "MIT",
       "--description", "Two tables")
    assert "1 card checked: no problems." in lv("card", "check", "data").stdout
    shown = json.loads(lv("card", "show", "data/raw/reviews", "--json").stdout)
    assert shown["name"] == "reviews" and shown["source"] == "https://example.com"
    assert shown["extra"] == {"files": "2", "size": "8"} and shown["preprocessing"] == []
    text = lv("card", "show", "data/raw/reviews").stdout
    assert "license: MIT" in text and "preprocessing: (none)" in text
    # a tracked dataset folder: the card is part of its data, so the user is told to commit it
    lv("add", "data/raw/reviews")
    out = lv("card", "new", "data/raw/reviews", "-f").stdout
    assert "labvault commit data/raw/reviews.dvc" in out
    # names check leaves the content of a dataset folder alone
    assert lv("names", "check", "data").returncode == 0


def test_card_errors(repo: Path, lv: Runner) -> None:
    proc = lv("card", "show", "nope", check=False)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ")
    (repo / "notes").mkdir()
    (repo / "notes" / "README.md").write_text("# notes\n")
    proc = lv("card", "show", "notes", check=False)
    assert proc.returncode == 2 and "no YAML front matter" in proc.stderr
    proc = lv("card", "check", "notes/README.md", check=False)
    assert proc.returncode == 1 and "no YAML front matter" in proc.stdout
