"""The capture journal, applied by the catalog layer: malformed lines are set aside with a warning
and never block the others; applying twice (a crash mid-apply) records nothing twice; appends
racing with applies lose nothing (both backends)."""

from __future__ import annotations

import json
import shutil
import threading
from datetime import datetime
from pathlib import Path

import pytest

from labvault import api
from labvault.catalog import journal
from labvault.catalog.events import (
    Artifact,
    EventError,
    RunEvent,
    VersionEvent,
    dump_event,
    parse_event,
)
from labvault.catalog.store import Catalog

H1, H2, H3 = "a" * 32, "b" * 32, "c" * 32


class Messages:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def task(self, description: str, total: int | None = None, total_bytes: int | None = None) -> object:
        raise AssertionError("no tasks expected")

    def message(self, text: str) -> None:
        self.lines.append(text)


def _line(d: object) -> str:
    return json.dumps(d) + "\n"


def _datasets(url: str) -> list[tuple[str, str, str | None]]:
    return sorted((e.name, e.version, e.content_hash) for e in api.catalog_list("datasets", all_versions=True,
                                                                               catalog_url=url))


def test_malformed_lines_are_set_aside_and_never_block(tmp_path: Path, cat: Catalog, catalog_url: str) -> None:
    folder = tmp_path / "j"
    folder.mkdir()
    good = {"type": "dataset", "name": "reviews", "hash": H1, "path": "data/reviews.csv", "size": 3}
    run = {"type": "run", "experiment": "exp", "stage": "train", "status": "completed",
           "started": "2026-03-01T10:00:00+00:00", "ended": "2026-03-01T10:05:00+00:00",
           "params": {"lr": 0.01}, "metrics": {"acc": 0.9}, "inputs": [H1],
           "outputs": [{"path": "models/m.pkl", "hash": H2, "kind": "model"}]}
    (folder / journal.JOURNAL).write_text(
        _line(good)
        + "this is not json\n"
        + _line({"type": "teleport", "name": "x"})
        + _line({"type": "dataset", "name": "reviews", "hash": H3, "size": "big"})
        + _line({"type": "run", "experiment": "exp", "metrics": {"acc": "high"}})
        + "\n"
        + _line(run)
        + '{"type": "dataset", "name": "cut", "ha'  # a line cut short by a crash
    )
    messages = Messages()
    result = journal.apply_journal(cat, folder, messages)  # type: ignore[arg-type]

    assert result.applied == 2
    assert [(r.line, r.reason.split(" (")[0]) for r in result.rejected] == [
        (2, "not JSON"), (3, "unknown event type 'teleport'"),
        (4, "'size' must be a whole number >= 0, not 'big'"), (5, "metric 'acc' must be a finite number, not 'high'"),
        (8, "cut short by an interrupted command: not JSON"),
    ]
    assert len(messages.lines) == 1 and messages.lines[0].startswith("warning: set aside catalog journal line 2")
    aside = [json.loads(x) for x in (folder / journal.REJECTED).read_text().splitlines()]
    assert [a["line"] for a in aside] == [2, 3, 4, 5, 8]
    assert aside[0]["text"] == "this is not json" and aside[-1]["text"].startswith('{"type": "dataset", "name": "cut"')
    assert not journal.pending(folder)

    assert _datasets(catalog_url) == [("reviews", "1", H1)]
    runs = api.catalog_list("runs", catalog_url=catalog_url)
    assert [(e.started, e.ended, e.status) for e in runs] == [("2026-03-01T10:00:00Z", "2026-03-01T10:05:00Z",
                                                               "completed")]
    assert runs[0].inputs == ("dataset:reviews@1",) and runs[0].outputs == ("model:models/m.pkl@1",)

    # Later events are applied as usual; nothing is set aside twice.
    journal.append(folder, VersionEvent(Artifact("data/other.csv", H3, name="other")))
    assert journal.apply_journal(cat, folder).applied == 1
    assert len((folder / journal.REJECTED).read_text().splitlines()) == 5


def test_applying_a_batch_twice_records_nothing_twice(tmp_path: Path, cat: Catalog, catalog_url: str) -> None:
    folder = tmp_path / "j"
    events = [
        VersionEvent(Artifact("data/raw/imdb_v1.0_train.csv", H1, name="imdb", version="v1.0", split="train", size=5)),
        VersionEvent(Artifact("data/raw/imdb_v1.0_test.csv", H2, name="imdb", version="v1.0", split="test", size=7)),
        RunEvent("exp", "train", "completed", datetime(2026, 1, 1, 9), datetime(2026, 1, 1, 9, 1), None,
                 {"lr": 0.1}, {"acc": 0.5}, (H1,), (Artifact("models/m.pkl", H3, kind="model"),)),
        RunEvent("exp", "train", "restored", datetime(2026, 1, 2, 9), datetime(2026, 1, 2, 9, 0, 1), None,
                 {"lr": 0.1}, {"acc": 0.5}, (H1,), (Artifact("models/m.pkl", H3, kind="model"),)),
        # Other content under a split already recorded: refused, set aside.
        VersionEvent(Artifact("data/raw/imdb_v1.0_train.csv", H3, name="imdb", version="v1.0", split="train")),
    ]
    for e in events:
        journal.append(folder, e)
    saved = tmp_path / "journal-copy"
    shutil.copy(folder / journal.JOURNAL, saved)
    first = journal.apply_journal(cat, folder)
    assert first.applied == 4 and [r.line for r in first.rejected] == [5]
    assert "already holds other content as split 'train'" in first.rejected[0].reason

    # A crash after applying, before the batch was deleted: the same batch is applied again.
    shutil.copy(saved, folder / (journal.JOURNAL + ".applying-00000000000000000001-1"))
    shutil.copy(saved, folder / journal.JOURNAL)
    again = journal.apply_journal(cat, folder)
    assert again.applied == 8 and len(again.rejected) == 2

    entry = api.catalog_get("dataset", "imdb@v1.0", catalog_url=catalog_url)
    assert {k: (v["content_hash"], v["size"]) for k, v in entry.splits.items()} == {"test": (H2, 7), "train": (H1, 5)}
    assert entry.size == 12 and entry.content_hash is None
    runs = api.catalog_list("runs", catalog_url=catalog_url)
    assert sorted(e.status or "" for e in runs) == ["completed", "restored"]
    assert all(e.inputs == ("dataset:imdb@v1.0",) for e in runs)
    assert len(api.catalog_list("models", all_versions=True, catalog_url=catalog_url)) == 1
    assert len((folder / journal.REJECTED).read_text().splitlines()) == 3  # one per batch file and line


def test_appends_racing_with_applies_lose_nothing(tmp_path: Path, cat: Catalog, catalog_url: str) -> None:
    folder = tmp_path / "j"
    writers, per_writer = 3, 40
    done = threading.Event()

    def write(w: int) -> None:
        for i in range(per_writer):
            journal.append(folder, VersionEvent(Artifact(f"data/w{w}.csv", f"{w:02d}{i:030d}", name=f"w{w}")))

    def apply() -> None:
        while not done.is_set():
            journal.apply_journal(cat, folder)

    applier = threading.Thread(target=apply)
    applier.start()
    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    applier.join()
    journal.apply_journal(cat, folder)
    assert len(_datasets(catalog_url)) == writers * per_writer


@pytest.mark.parametrize("bad", [
    {"type": "dataset", "hash": H1},
    {"type": "dataset", "name": "x", "hash": H1, "version": "v1@2"},
    {"type": "dataset", "name": "x", "hash": H1, "kind": "plot"},
    {"type": "dataset", "name": "x" * 600, "hash": H1},
    {"type": "run", "experiment": "e", "started": "yesterday"},
    {"type": "run", "experiment": "e", "status": "exploded"},
    {"type": "run", "experiment": "e", "outputs": [["a", "b"]]},
    {"type": "location", "hash": H1, "remote": "r"},
    [1, 2, 3],
])
def test_events_are_checked_strictly(bad: object) -> None:
    with pytest.raises(EventError):
        parse_event(bad)


def test_events_round_trip() -> None:
    events = [
        VersionEvent(Artifact("p", H1, "model", "n", "v2", "train", "d", ("a", "b"), {"k": 1}, 3, 4), "rev", {"c": 1}),
        RunEvent("e", "s", "restored", datetime(2026, 1, 1), datetime(2026, 1, 1, 0, 1), "rev", {"p": [1]},
                 {"m": 1.5}, (H1,), (Artifact("o", H2),)),
    ]
    for e in events:
        assert parse_event(json.loads(json.dumps(dump_event(e)))) == e
