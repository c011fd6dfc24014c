"""``repro`` without targets, side by side: like dvc, it reproduces the stages of the ``dvc.yaml`` in
the current folder and what they need, not every pipeline of the repository (``-P`` does that). A
repository with one dvc.yaml per folder (generated per dataset) shows the difference."""

from __future__ import annotations

import pytest

from tests.sidebyside.gen import W_PY
from tests.sidebyside.harness import SideBySide, dot_graph, dvc_ran, parse_json

pytestmark = pytest.mark.interop

FILES = {
    "w.py": W_PY,
    "dvc.yaml": (
        "stages:\n  report:\n    cmd: python w.py report.txt -- data/a/stats.txt\n"
        "    deps:\n      - data/a/stats.txt\n    outs:\n      - report.txt\n"
    ),
    "data/a/dvc.yaml": (
        "stages:\n  stats:\n    cmd: python ../../w.py stats.txt -- ../../w.py\n"
        "    deps:\n      - ../../w.py\n    outs:\n      - stats.txt\n"
    ),
    "data/b/dvc.yaml": (
        "stages:\n  stats:\n    cmd: python ../../w.py stats.txt -- notes.txt\n"
        "    deps:\n      - notes.txt\n    outs:\n      - stats.txt\n"
    ),
    "data/b/notes.txt": "b\n",
    "data/c/notes.txt": "no pipeline here\n",
}


def _ran(sbs: SideBySide, *args: str, cwd: str = "") -> tuple[list[str], list[str]]:
    lv, dvc = sbs.run_ok("repro", *args, cwd=cwd, lv_args=["repro", "--json", *args])
    return [r["address"] for r in parse_json(lv) if r["action"] == "ran"], dvc_ran(dvc.stdout)


def test_repro_without_targets_takes_the_current_folders_dvc_yaml(sbs: SideBySide) -> None:
    sbs.write(FILES).git_commit("pipelines")
    dry = parse_json(sbs.lv("repro", "--dry", "--json"))  # (dvc's dry run stops at report's missing input)
    assert [r["address"] for r in dry if r["action"] == "would-run"] == ["data/a/dvc.yaml:stats", "report"]
    ran_lv, ran_dvc = _ran(sbs)
    assert ran_lv == ran_dvc == ["data/a/dvc.yaml:stats", "report"]
    ran_lv, ran_dvc = _ran(sbs, cwd="data/b")
    assert ran_lv == ["data/b/dvc.yaml:stats"] and ran_dvc == ["stats"]  # dvc names it from the current folder

    lv, dvc = sbs.run("repro", cwd="data/c")
    assert lv.returncode != 0 and dvc.returncode != 0
    assert len(lv.stderr.strip().splitlines()) == 1 and "dvc.yaml" in lv.stderr

    lv, dvc = sbs.run_ok("repro", "-P")
    assert "Data and pipelines are up to date." in lv.stdout


def test_names_are_read_from_the_current_folder(sbs: SideBySide) -> None:
    """From a nested folder a bare stage name means a stage of that folder's dvc.yaml (data/a and
    data/b both have a ``stats``), and ``dag`` names nodes as seen from there."""
    sbs.write(FILES).git_commit("pipelines")
    ran_lv, ran_dvc = _ran(sbs, "stats", cwd="data/b")
    assert ran_lv == ["data/b/dvc.yaml:stats"] and ran_dvc == ["stats"]
    lv, dvc = sbs.run("repro", "stats")  # the root dvc.yaml has no stage `stats`
    assert lv.returncode != 0 and dvc.returncode != 0
    assert len(lv.stderr.strip().splitlines()) == 1

    for args in (["dag", "--dot"], ["dag", "--dot", "--outs"], ["dag", "--dot", "stats"]):
        lv, dvc = sbs.run_ok(*args, cwd="data/a")
        assert dot_graph(lv.stdout) == dot_graph(dvc.stdout), args
