"""The command line over the same catalog: the issue's walk-through, --json, and one-line errors.

Most commands run in-process (through ``labvault.cli.main.main``, so exit codes and error lines are
the real ones); one test runs the installed ``labvault`` executable.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from labvault.cli.main import cli, load_commands, main
from tests.conftest import Runner


class InProcess:
    """``lvc("catalog", "datasets")`` -> CompletedProcess, like the subprocess Runner, but fast."""

    def __init__(self, url: str) -> None:
        self.env = {"LABVAULT_CATALOG_URL": url}

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        runner = CliRunner()
        code = 0
        with runner.isolation(env=self.env) as (out, err, _both):
            try:
                main(list(args))
            except SystemExit as e:
                code = int(e.code or 0)
            stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
        if check and code:
            raise AssertionError(f"labvault {' '.join(args)} exited {code}: {stderr}")
        return subprocess.CompletedProcess(list(args), code, stdout, stderr)


@pytest.fixture
def lvc(catalog_url: str) -> InProcess:
    return InProcess(catalog_url)


def test_issue_walkthrough(lvc: InProcess) -> None:
    lvc("catalog", "register", "dataset", "sentiment_dataset", "--version", "v1.0", "--path",
        "data/processed/sentiment_v1.csv", "--size", "104857600", "--samples", "50000", "--hash", "d41d8cd9")
    out = lvc("catalog", "register", "model", "sentiment_classifier", "--architecture", "bert-base-uncased",
              "--dataset", "sentiment_dataset@v1.0", "--path", "models/final/model.pth",
              "--metric", "accuracy=0.92", "--metric", "f1=0.91").stdout
    assert out.strip() == "registered model sentiment_classifier@1"
    lvc("catalog", "tag", "model", "sentiment_classifier@1", "production")
    datasets = lvc("catalog", "datasets").stdout
    assert "sentiment_dataset" in datasets and "100.0 MiB" in datasets and "50000" in datasets
    shown = json.loads(lvc("catalog", "show", "dataset", "sentiment_dataset@v1.0", "--json").stdout)
    assert shown["nsamples"] == 50000 and shown["outputs"] == ["model:sentiment_classifier@1"]
    found = json.loads(lvc("catalog", "search", "models", "--where",
                           "metrics.accuracy > 0.9 and tag = production", "--json").stdout)
    assert [(m["name"], m["metrics"]["f1"]) for m in found] == [("sentiment_classifier", 0.91)]
    tree = lvc("catalog", "lineage", "model", "sentiment_classifier@1").stdout
    assert "dataset sentiment_dataset@v1.0  [trained_on]" in tree
    assert lvc("catalog", "lineage", "model", "sentiment_classifier@1", "--mermaid").stdout.startswith("graph LR")
    plan = lvc("catalog", "delete", "model", "sentiment_classifier", "--dry-run").stdout
    assert plan.startswith("would delete model sentiment_classifier: 1 version(s), 1 lineage edge(s)")
    assert json.loads(lvc("catalog", "models", "--json").stdout)[0]["version"] == "1"
    csv_text = lvc("catalog", "export", "--format", "csv", "--kind", "models").stdout
    assert csv_text.splitlines()[1].startswith("model,sentiment_classifier,1,")


@pytest.mark.parametrize(("args", "message"), [
    (["show", "dataset", "nope"], "error: unknown dataset 'nope': list them with `labvault catalog datasets`"),
    (["search", "models", "--where", "metrics.accuracy >> 1"], "error: malformed filter expression at position 19"),
    (["register", "model", "m", "--metric", "accuracy=high"], "error: bad --metric 'accuracy=high'"),
    (["register", "dataset", "d", "--version", "1"], "error: dataset 'd' already has version '1'"),
])
def test_errors_are_one_line_exit_2_and_change_nothing(lvc: InProcess, args: list[str], message: str) -> None:
    lvc("catalog", "register", "dataset", "d")
    before = lvc("catalog", "export").stdout
    proc = lvc("catalog", *args, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(message) and proc.stderr.count("\n") == 1, proc.stderr
    assert lvc("catalog", "export").stdout == before


def test_unreachable_database_from_the_real_executable(lv: Runner) -> None:
    lv.env["LABVAULT_CATALOG_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/lab"
    proc = lv("catalog", "datasets", check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: cannot reach the catalog database postgresql+psycopg://nobody@127.0.0.1:1/lab")
    assert proc.stderr.count("\n") == 1


def test_default_database_is_in_the_users_data_folder(lv: Runner, tmp_path: Path) -> None:
    lv.env.pop("LABVAULT_CATALOG_URL", None)
    lv.env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    lv("catalog", "register", "dataset", "d")
    db = tmp_path / "xdg" / "labvault" / "catalog.sqlite"
    assert db.is_file()
    mode = subprocess.run(["sqlite3", str(db), "PRAGMA journal_mode"], capture_output=True, text=True)
    if mode.returncode == 0:
        assert mode.stdout.strip() == "wal"


def _commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in getattr(group, "commands", {}).items():
        out.append((*prefix, name))
        out.extend(_commands(cmd, (*prefix, name)))
    return out


def test_every_catalog_command_has_an_example() -> None:
    runner = CliRunner()
    load_commands(["catalog"])
    for path in [("catalog",), *_commands(cli.commands["catalog"], ("catalog",))]:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Example:" in result.output, path


def test_check_finds_a_tampered_mark_and_repair_rebuilds_it(lvc: InProcess, catalog_url: str) -> None:
    import sqlalchemy as sa

    from labvault.api.browse import browse
    from labvault.catalog.schema import versions
    from labvault.catalog.store import open_catalog

    lvc("catalog", "register", "model", "clf")
    lvc("catalog", "register", "model", "clf")
    assert lvc("catalog", "check").returncode == 0
    cat = open_catalog(catalog_url)
    cat.write(lambda conn: conn.execute(sa.update(versions).values(is_head=1)))
    assert [e.version for e in browse("models", catalog_url=catalog_url).items] == ["2", "1"]  # the pages read the mark
    bad = lvc("catalog", "check", check=False)
    assert bad.returncode == 1 and "is marked newest but is not" in bad.stdout and "--repair" in bad.stdout
    fixed = json.loads(lvc("catalog", "check", "--repair", "--json").stdout)
    assert fixed["repaired"] and len(fixed["problems"]) == 1
    assert lvc("catalog", "check").returncode == 0
    assert [e.version for e in browse("models", catalog_url=catalog_url).items] == ["2"]
