"""``plots show``, side by side: the same plots, each the same kind (image or data), for image
files, folders of plots (of a stage and top level, in the workspace and in the cache) and data
files, in the workspace and at a git revision."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.pipelines.test_plots import DRAW, IMAGES, _png
from tests.sidebyside.harness import SideBySide, parse_json

pytestmark = pytest.mark.interop


def _dvc_kinds(data: Any) -> dict[str, str]:
    return {pid: "image" if entries[0]["type"] == "image" else "data" for pid, entries in data["data"].items()}


def _lv_kinds(data: Any) -> dict[str, str]:
    return {p["id"]: p["kind"] for side in data for p in side["plots"]}


def _dvc_image(data: Any, pid: str, rev: str) -> bytes:
    [entry] = [e for e in data["data"][pid] if e["revisions"] == [rev]]
    with open(entry["url"], "rb") as f:
        return f.read()


def _lv_image(data: Any, pid: str, rev: str) -> bytes:
    [side] = [s for s in data if s["rev"] == rev]
    [plot] = [p for p in side["plots"] if p["id"] == pid]
    return base64.b64decode(plot["image"])


def test_the_same_plots_of_the_same_kinds(sbs: SideBySide) -> None:
    sbs.write({
        "dvc.yaml": IMAGES.format(colour="blue"), "draw.py": DRAW, "cm.png": _png((0, 255, 0)),
        "logs/acc.json": '[{"acc": 0.5}, {"acc": 0.75}]', "logs/b.jpeg": _png((1, 2, 3)),
        "logs/c.tsv": "a\tb\n1\t2\n",
    }).git_commit("pipeline")
    sbs.repro()
    sbs.git_commit("ran")
    lv, dvc = sbs.run_ok("plots", "show", "--json")
    lv_data, dvc_data = parse_json(lv), parse_json(dvc)
    assert _lv_kinds(lv_data) == _dvc_kinds(dvc_data)
    assert _lv_kinds(lv_data)["figs/roc.png"] == "image"
    assert _lv_image(lv_data, "figs/roc.png", "workspace") == _dvc_image(dvc_data, "figs/roc.png", "workspace")

    # HEAD against the workspace: HEAD's images come from the cache (figs/ is not in git)
    sbs.write({"dvc.yaml": IMAGES.format(colour="red")})
    sbs.repro()
    lv, dvc = sbs.run_ok("plots", "diff", "HEAD", "--json")
    lv_data, dvc_data = parse_json(lv), parse_json(dvc)
    assert _lv_kinds(lv_data) == _dvc_kinds(dvc_data)
    for rev, colour in (("HEAD", (0, 0, 255)), ("workspace", (255, 0, 0))):
        assert _lv_image(lv_data, "figs/roc.png", rev) == _dvc_image(dvc_data, "figs/roc.png", rev) == _png(colour)
