"""Provenance cards: written pre-filled, read back exactly, checked field by field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from labvault import api
from labvault.data.cards import Card, render
from labvault.errors import PathError, UsageError

TODAY = dt.date(2024, 11, 20)
GUIDE_CARD = """\
---
name: Customer Reviews Dataset
version: 1.0
source: https://example.com/dataset
downloaded: 2024-11-13
license: CC BY 4.0
description: |
  Customer reviews from e-commerce platform
  - 50,000 reviews
  - 5-star ratings
  - English language
preprocessing:
  - Removed duplicates
  - Filtered spam
  - Normalized text
---
# Customer reviews
"""


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    d = tmp_path / "data" / "raw" / "reviews"
    (d / "sub").mkdir(parents=True)
    (d / "a.csv").write_bytes(b"x" * 100)
    (d / "sub" / "b.csv").write_bytes(b"y" * 23)
    (d / ".hidden").mkdir()
    (d / ".hidden" / "ignored").write_bytes(b"z" * 1000)
    return d


def test_the_guide_card_reads_and_passes(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(GUIDE_CARD)
    card = api.read_card(tmp_path)
    assert card.name == "Customer Reviews Dataset"
    assert card.version == "1.0"  # text, not the float 1.0
    assert card.downloaded == "2024-11-13"  # text, not a date object
    assert card.license == "CC BY 4.0"
    assert card.description.startswith("Customer reviews from e-commerce platform\n- 50,000 reviews")
    assert card.preprocessing == ("Removed duplicates", "Filtered spam", "Normalized text")
    d = card.as_dict()
    assert d["preprocessing"] == list(card.preprocessing) and d["extra"] == {}
    assert api.card_check([str(tmp_path)], today=TODAY).ok


def test_new_card_round_trip(dataset: Path) -> None:
    w = api.card_new(dataset, source="https://example.com/reviews", license="CC BY 4.0",
                     description="Reviews\n- 2 files")
    assert not w.replaced and not w.tracked_folder
    assert w.to_fill == ()
    card = api.read_card(dataset)
    assert card == w.card
    assert card.name == "reviews" and card.version == "1.0"
    assert card.downloaded == dt.date.today().isoformat()
    assert card.source == "https://example.com/reviews" and card.license == "CC BY 4.0"
    assert card.description == "Reviews\n- 2 files"
    assert card.preprocessing == ()
    assert card.extra == {"files": "2", "size": "123"}  # the README and hidden folders are not counted
    assert api.card_check([str(dataset)]).ok
    text = (dataset / "README.md").read_text()
    assert text.startswith("---\nname: reviews\nversion: '1.0'\n") and "# reviews\n" in text


def test_new_card_refuses_to_overwrite(dataset: Path) -> None:
    (dataset / "README.md").write_text("hand written\n")
    with pytest.raises(PathError, match="already exists"):
        api.card_new(dataset)
    assert (dataset / "README.md").read_text() == "hand written\n"
    w = api.card_new(dataset, name="Reviews", force=True)
    assert w.replaced and w.card.name == "Reviews"
    assert set(w.to_fill) == {"source", "license", "description"}


def test_new_card_needs_a_folder(tmp_path: Path) -> None:
    with pytest.raises(PathError, match="does not exist"):
        api.card_new(tmp_path / "nope")
    (tmp_path / "f.csv").write_text("")
    with pytest.raises(PathError, match="not a folder"):
        api.card_new(tmp_path / "f.csv")


def test_tracked_folder_is_reported(dataset: Path) -> None:
    dataset.with_name("reviews.dvc").write_text("outs: []\n")
    assert api.card_new(dataset).tracked_folder


def test_render_round_trips_awkward_values(tmp_path: Path) -> None:
    fields = {"name": "ünïcode: #1", "version": "2", "source": "'quoted' \"both\"", "downloaded": "2024-01-02",
              "license": "yes", "description": "line 1\nline 2\n", "preprocessing": ["- dash", "null"]}
    (tmp_path / "README.md").write_text(render(fields, "body\n"))
    card = api.read_card(tmp_path / "README.md")
    assert card == Card(str(tmp_path / "README.md"), name="ünïcode: #1", version="2",
                        source="'quoted' \"both\"", downloaded="2024-01-02", license="yes",
                        description="line 1\nline 2", preprocessing=("- dash", "null"))


def _problems(tmp_path: Path, front_matter: str) -> list[str]:
    (tmp_path / "README.md").write_text(front_matter)
    report = api.card_check([str(tmp_path / "README.md")], today=TODAY)
    assert all(p.path.endswith("README.md") for p in report.problems)
    return [p.problem for p in report.problems]


def _card(**changes: str | None) -> str:
    fields = {"name": "reviews", "version": "'1.0'", "source": "https://x", "downloaded": "'2024-11-13'",
              "license": "MIT", "description": "Reviews", "preprocessing": "[]"}
    fields.update(changes)
    return "---\n" + "".join(f"{k}: {v}\n" for k, v in fields.items() if v is not None) + "---\n"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"license": None}, ["license is missing"]),
        ({"license": "''"}, ["license is empty"]),
        ({"source": "TODO"}, ["source is a placeholder ('TODO'): fill it in"]),
        ({"description": "<what it is>"}, ["description is a placeholder ('<what it is>'): fill it in"]),
        ({"downloaded": "13/11/2024"}, ["downloaded '13/11/2024' is not a date written YYYY-MM-DD"]),
        ({"downloaded": "2024-02-30"}, ["downloaded '2024-02-30' is not a real date"]),
        ({"downloaded": "2030-01-01"}, ["downloaded 2030-01-01 is in the future"]),
        ({"version": "latest"}, ["version 'latest' should be numbers like 1.0 or v2"]),
        ({"version": "v2.1"}, []),
        ({"preprocessing": None}, ["preprocessing is missing (a list of steps; [] when there were none)"]),
        ({"preprocessing": "dedup"}, ["preprocessing should be a list of steps (one '- step' line each; [] for none)"]),
        ({"preprocessing": "['', ok]"}, ["preprocessing step 1 should be a non-empty sentence"]),
        ({"name": "[a, b]"}, ["name should be text, not a list"]),
        ({"name": None, "version": None}, ["name is missing", "version is missing"]),
    ],
)
def test_check_finds_each_problem(tmp_path: Path, changes: dict[str, str | None], expected: list[str]) -> None:
    assert _problems(tmp_path, _card(**changes)) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("# just markdown\n", "no YAML front matter"),
        ("---\nname: x\n", "no closing '---'"),
        ("---\nname: [unclosed\n---\n", "not valid YAML"),
        ("---\n- a\n- b\n---\n", "not a mapping"),
    ],
)
def test_unreadable_cards(tmp_path: Path, text: str, words: str) -> None:
    problems = _problems(tmp_path, text)
    assert len(problems) == 1 and words in problems[0]
    with pytest.raises(UsageError, match=words):
        api.read_card(tmp_path)


def test_check_walks_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b" / "deep").mkdir(parents=True)
    (tmp_path / "a" / "README.md").write_text(_card())
    (tmp_path / "b" / "deep" / "README.md").write_text(_card(license="''"))
    (tmp_path / "b" / "README.md").write_text("# not a card, just notes\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "README.md").write_text(_card(name="''"))
    report = api.card_check([str(tmp_path)], repo=tmp_path, today=TODAY)
    assert report.checked == ("a/README.md", "b/deep/README.md")
    assert [p.line() for p in report.problems] == ["b/deep/README.md: license is empty"]
    (tmp_path / "empty").mkdir()
    report = api.card_check(["empty"], repo=tmp_path, today=TODAY)
    assert [p.line() for p in report.problems] == [
        "empty: no provenance card: write one with `labvault card new empty`"]
    with pytest.raises(PathError):
        api.card_check(["missing"], repo=tmp_path)


def test_read_card_missing(tmp_path: Path) -> None:
    with pytest.raises(PathError, match="labvault card new"):
        api.read_card(tmp_path)
