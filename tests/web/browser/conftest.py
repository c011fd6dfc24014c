"""A seeded lab served by a real uvicorn in a thread, for the browser tests."""

from __future__ import annotations

import subprocess
import threading
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from labvault import api
from tests.services import free_port


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


PIPELINE = """stages:
  train:
    cmd: python3 train.py
    deps: [train.py]
    params: [lr]
    metrics: [metrics.json: {cache: false}]
    plots: [loss.csv: {cache: false, x: step, y: loss}]
"""


def seed(base: Path) -> tuple[types.SimpleNamespace, Seeded]:
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
    (repo / "train.py").write_text("print('train')\n")
    (repo / "metrics.json").write_text('{"accuracy": 0.9}')
    (repo / "loss.csv").write_text("step,loss\n0,1.0\n1,0.5\n2,0.3\n")
    api.init(repo)
    settings = types.SimpleNamespace(catalog_url=url, lab=lab, repos=[repo])
    tiers = tuple(t.name for t in api.tier_list(lab=lab, catalog_url=url))
    return settings, Seeded(
        dataset="reviews", model="sentiment-clf", model_ref="sentiment-clf@1", far_node="evaluate@1",
        experiment="tune-lr", metric="accuracy", stages=("train",), metric_file="metrics.json",
        plot_file="loss.csv", tiers=tiers, backup_policy="nightly", all_datasets=(*names, "reviews"),
    )


def _app(settings: Any) -> Any:
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from labvault.web import pages, pages_catalog, pages_lab, pages_lineage, pages_pipelines

    app = FastAPI()
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=str(pages.HERE / "static")), name="static")
    for m in (pages_catalog, pages_lineage, pages_pipelines, pages_lab):
        app.include_router(m.router)
    return app


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    settings, seeded = seed(tmp_path_factory.mktemp("weblab"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield Site(f"http://127.0.0.1:{port}", seeded)
    finally:
        server.should_exit = True
        thread.join(10)
