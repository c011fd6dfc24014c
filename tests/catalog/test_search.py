"""The filter language: what matches, and malformed expressions pointing at the position."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from labvault import api
from labvault.errors import CatalogError


@pytest.fixture
def models(catalog_url: str) -> str:
    rows = [
        ("sentiment_classifier", 0.92, 1e-3, "adam", ["production"]),
        ("sentiment_small", 0.88, 1e-2, "sgd", ["production", "small"]),
        ("spam_filter", 0.95, 5e-4, "adam", []),
        ("sent_100%_clean", 0.5, 1e-4, "adam", []),
    ]
    for name, acc, lr, opt, tags in rows:
        api.catalog_register_model(name, architecture="bert" if "sent" in name else "cnn",
                                   metrics={"accuracy": acc}, params={"lr": lr, "optimizer": opt},
                                   tags=tags, catalog_url=catalog_url)
    api.catalog_alias("model", "spam_filter@1", "production", catalog_url=catalog_url)
    # A run with a higher accuracy must not show up in a model search.
    api.catalog_register_run("exp", metrics={"accuracy": 0.99}, tags=["production"], catalog_url=catalog_url)
    return catalog_url


def names(url: str, where: str, kind: str = "models") -> list[str]:
    return sorted(e.name for e in api.catalog_search(kind, where, catalog_url=url))


@pytest.mark.parametrize(("where", "expected"), [
    ("metrics.accuracy > 0.9 and tag = production", ["sentiment_classifier", "spam_filter"]),
    ("metrics.accuracy > 0.9", ["sentiment_classifier", "spam_filter"]),
    ("name ~ 'sent*'", ["sent_100%_clean", "sentiment_classifier", "sentiment_small"]),
    ("name ~ 'sent_1*'", ["sent_100%_clean"]),
    ("name ~ '*100%*'", ["sent_100%_clean"]),
    ("params.lr <= 1e-3", ["sent_100%_clean", "sentiment_classifier", "spam_filter"]),
    ("params.optimizer = sgd or metrics.accuracy >= 0.95", ["sentiment_small", "spam_filter"]),
    ("not tag = production", ["sent_100%_clean"]),
    ("tag != production and architecture = bert", ["sent_100%_clean"]),
    ("alias = production", ["spam_filter"]),
    ("(tag = small or tag = production) and not (params.optimizer != adam)", ["sentiment_classifier", "spam_filter"]),
    ("metrics.f1 > 0", []),
    ("created > 2000-01-01 and created < 2999-12-31T00:00", ["sent_100%_clean", "sentiment_classifier",
                                                             "sentiment_small", "spam_filter"]),
    ("NAME = spam_filter OR name == 'sentiment_small'", []),  # field names are case-sensitive: see below
])
def test_filters_match(models: str, where: str, expected: list[str]) -> None:
    if where.startswith("NAME"):
        with pytest.raises(CatalogError, match="unknown field 'NAME'"):
            names(models, where)
        return
    assert names(models, where) == expected


def test_dates_in_the_future_match_nothing(models: str) -> None:
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=2)).date().isoformat()
    assert names(models, f"created > {tomorrow}") == []
    assert names(models, "metrics.accuracy > 0.9", kind="runs") == ["exp"]


@pytest.mark.parametrize(("where", "position", "message"), [
    ("metrics.accuracy >", 19, "expected a value after '>'"),
    ("metrics.accuracy > 0.9 and", 27, "expected a condition"),
    ("metrics.accuracy > 0.9 tag = x", 24, "expected 'and', 'or' or the end"),
    ("(tag = x", 9, "expected ')'"),
    ("tag = x)", 8, "expected 'and', 'or' or the end"),
    ("colour = red", 1, "unknown field 'colour'"),
    ("metrics.accuracy > high", 20, "needs a number"),
    ("created > yesterday", 11, "needs a date"),
    ("name > b", 1, "name is text"),
    ("tag = x; drop table versions", 8, "unexpected character ';'"),
    ("", 1, "the expression is empty"),
    ("metrics.accuracy ~ 0.9", 1, "'~' matches text patterns"),
])
def test_malformed_filters_point_at_the_position(
    shared_catalog_url: str, where: str, position: int, message: str
) -> None:
    with pytest.raises(CatalogError) as err:
        api.catalog_search("models", where, catalog_url=shared_catalog_url)
    line = err.value.line()
    assert f"at position {position}:" in line and message in line, line
    assert err.value.exit_code == 2 and "\n" not in line


def test_quotes_keep_sql_out(models: str) -> None:
    assert names(models, "name = \"x' OR '1'='1\"") == []
    assert len(api.catalog_list("models", catalog_url=models)) == 4
