"""``api.plots_show``: the data series of dvc.yaml's ``plots:`` read from CSV, TSV, JSON and YAML."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from labvault import api


def _repo(tmp_path: Path, pipeline: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    api.init(repo)
    (repo / "dvc.yaml").write_text(pipeline)
    return repo


def test_stage_and_top_level_plots_read_their_series(tmp_path: Path) -> None:
    repo = _repo(tmp_path, """stages:
  train:
    cmd: python3 train.py
    plots:
      - logs/loss.csv: {cache: false, x: epoch, y: [loss, val_loss], title: Loss}
      - logs/acc.tsv: {cache: false}
plots:
  - eval/roc.json: {x: fpr, y: tpr}
  - confusion:
      y: {eval/a.yaml: score, eval/b.yaml: [score]}
      x: run
  - outside.csv
""")
    (repo / "logs").mkdir()
    (repo / "eval").mkdir()
    (repo / "logs/loss.csv").write_text("epoch,loss,val_loss\n1,0.9,1.0\n2,0.5,0.7\n3,0.2,bad\n")
    (repo / "logs/acc.tsv").write_text("step\tname\tacc\n0\ta\t0.5\n1\tb\t0.75\n")
    (repo / "eval/roc.json").write_text(json.dumps({"roc": [{"fpr": 0, "tpr": 0}, {"fpr": 0.5, "tpr": 0.9}]}))
    (repo / "eval/a.yaml").write_text("- {run: first, score: 1}\n- {run: second, score: 2}\n")
    (repo / "eval/b.yaml").write_text("- {run: first, score: 3}\n")
    plots = {p.id: p for p in api.plots_show(repo=repo)}
    assert list(plots) == ["logs/loss.csv", "logs/acc.tsv", "eval/roc.json", "confusion", "outside.csv"]

    loss = plots["logs/loss.csv"]
    assert (loss.title, loss.x, loss.error) == ("Loss", "epoch", None)
    assert [(s.field, s.points) for s in loss.series] == [
        ("loss", ((1.0, 0.9), (2.0, 0.5), (3.0, 0.2))),
        ("val_loss", ((1.0, 1.0), (2.0, 0.7))),  # a value that is not a number is left out
    ]
    acc = plots["logs/acc.tsv"]  # no x: the row number; no y: the last field
    assert acc.x == "step" and [(s.field, s.points) for s in acc.series] == [("acc", ((0, 0.5), (1, 0.75)))]
    assert plots["eval/roc.json"].series[0].points == ((0.0, 0.0), (0.5, 0.9))
    confusion = plots["confusion"]
    assert [(s.file, s.points) for s in confusion.series] == [
        ("eval/a.yaml", (("first", 1.0), ("second", 2.0))), ("eval/b.yaml", (("first", 3.0),))]
    missing = plots["outside.csv"]
    assert missing.series == () and missing.error is not None and "outside.csv" in missing.error


def test_a_plot_path_leaving_the_repository_is_refused_unread(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "plots:\n  - ../secret.csv\n")
    (tmp_path / "secret.csv").write_text("a,b\n1,2\n")
    [plot] = api.plots_show(repo=repo)
    assert plot.series == () and plot.error == "../secret.csv: leaves the repository"


def test_a_plot_symlinked_out_of_the_repository_is_refused_unread(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "plots:\n  - link.csv\n")
    (tmp_path / "secret.csv").write_text("a,b\n1,2\n")
    (repo / "link.csv").symlink_to(tmp_path / "secret.csv")
    [plot] = api.plots_show(repo=repo)
    assert plot.series == () and plot.error == "link.csv: leaves the repository"
