"""A seeded lab served by a real uvicorn in a thread, for the browser tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from labvault import api
from labvault.api import users
from labvault.api.monitor import monitor
from labvault.catalog import store
from labvault.web.app import Settings
from tests.pipelines.test_plots import _png
from tests.web.conftest import PASSWORD, RunningServer


@dataclass(frozen=True)
class Seeded:
    dataset: str
    model: str
    model_ref: str
    far_node: str
    experiment: str
    metric: str
    stages: tuple[str, ...]
    metric_file: str
    plot_file: str
    tiers: tuple[str, ...]
    backup_policy: str
    all_datasets: tuple[str, ...]


@dataclass(frozen=True)
class Site:
    url: str
    seeded: Seeded
    user: str
    password: str


PIPELINE = """stages:
  prepare:
    cmd: python3 -c "open('prepared.txt', 'w').write('ok')"
    outs: [prepared.txt]
  train:
    cmd: python3 train.py
    deps: [train.py, prepared.txt]
    params: [lr]
    metrics: [metrics.json: {cache: false}]
    plots: [loss.csv: {cache: false, x: step, y: loss}]
plots: [confusion.png]
"""
TRAIN = """import json
lr = float(open("params.yaml").read().split(":")[1])
json.dump({"accuracy": 0.9, "lr": lr}, open("metrics.json", "w"))
open("loss.csv", "w").write("step,loss\\n0,1.0\\n1,0.5\\n2,0.3\\n")
"""


def seed(base: Path) -> tuple[Settings, Seeded]:
    """A lab config with tiers and a backup policy, a catalog with datasets (more than two pages),
    a model made from one, runs, a run made from the model, and a repo with a pipeline, metrics
    and a plot."""
    url = f"sqlite:///{base}/catalog.db"
    lab = base / "lab.yaml"
    api.lab_init(base / "lab", lab)
    with lab.open("a") as f:
        f.write(f"\nbackups:\n  - name: nightly\n    sources: [{base}/lab]\n    target: {base}/backup-store\n")
    names = [f"corpus-{i:03d}" for i in range(57)]
    for i, n in enumerate(names):
        api.catalog_register_dataset(n, path=f"data/{n}.csv", size=1000 + i, nfiles=1, catalog_url=url)
    api.catalog_register_dataset("reviews", path="data/reviews.csv", size=12345, nfiles=1, catalog_url=url)
    api.catalog_register_dataset("reviews", path="data/reviews.csv", size=22345, nfiles=2, catalog_url=url,
                                 card={"license": "cc-by-4.0"})
    api.catalog_register_model("sentiment-clf", datasets=["reviews@2"], metrics={"accuracy": 0.91},
                               catalog_url=url, tags=["production"])
    for i in range(30):
        api.catalog_register_run("tune-lr", params={"lr": 0.1 / (i + 1)},
                                 metrics={"accuracy": 0.5 + i / 100, "loss": 1 / (i + 1)},
                                 inputs=["reviews@2"], catalog_url=url)
    api.catalog_register_run("evaluate", inputs=["model:sentiment-clf@1"], metrics={"f1": 0.88}, catalog_url=url)
    repo = base / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "dvc.yaml").write_text(PIPELINE)
    (repo / "params.yaml").write_text("lr: 0.1\n")
    (repo / "train.py").write_text(TRAIN)
    (repo / "confusion.png").write_bytes(_png((200, 30, 30), side=64))  # an image plot
    api.init(repo)
    api.config_set("labvault.catalog_url", url, repo=repo)  # repro records its runs in the same catalog
    api.repro(repo=repo)
    (repo / "params.yaml").write_text("lr: 0.05\n")  # train is stale now, prepare still fresh
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for days_ago in (20, 10, 0):  # a usage history for the charts and the forecast
        monitor(lab=lab, catalog_url=url, record=True, at=now - timedelta(days=days_ago))
    settings = Settings(catalog_url=url, lab=str(lab), repos=(str(repo),), auth_required=True)
    tiers = tuple(t.name for t in api.tier_list(lab=lab, catalog_url=url))
    return settings, Seeded(
        dataset="reviews", model="sentiment-clf", model_ref="sentiment-clf@1", far_node="evaluate@1",
        experiment="tune-lr", metric="accuracy", stages=("prepare", "train"), metric_file="metrics.json",
        plot_file="loss.csv", tiers=tiers, backup_policy="nightly", all_datasets=(*names, "reviews", "prepared.txt"),  # repro recorded its output
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The seeded lab served with sign-in required; a viewer account to sign in with."""
    base = tmp_path_factory.mktemp("weblab")
    settings, seeded = seed(base)
    users.user_add("reader", "viewer", PASSWORD, catalog_url=settings.catalog_url)
    with RunningServer(settings) as running:
        yield Site(running.url, seeded, "reader", PASSWORD)
    store.forget(settings.catalog_url)
