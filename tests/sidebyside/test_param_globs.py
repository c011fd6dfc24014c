"""Params keys as globs, side by side: dvc looks a stage's params keys up as patterns (each dotted
part matched with ``*``, ``?``, ``[...]``), so a matrix can name ``dataset_kwargs.${item.name}*``
and get that dataset's whole mapping; the lock records the pattern with the value it matched, and
``params diff`` shows the matched keys by their own paths. A params file used whole whose mapping
holds an empty mapping (``compile_kwargs: {}``) shows no key for it."""

from __future__ import annotations

import pytest

from tests.sidebyside.gen import W_PY
from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.interop

DVC_YAML = """\
stages:
  train:
    matrix:
      dataset: [moons, circles]
    cmd: python w.py out/${item.dataset}.txt -- w.py
    params:
      - seed
      - params/dataset.yaml:
        - dataset_kwargs.${item.dataset}*
      - params/model.yaml:
    outs:
      - out/${item.dataset}.txt
"""
FILES = {
    "w.py": W_PY,
    "dvc.yaml": DVC_YAML,
    "params.yaml": "seed: 1\n",
    "params/dataset.yaml": (
        "dataset_kwargs:\n  moons:\n    n_samples: 100\n    noise: 0.05\n    scale: [0.05, 0.95]\n"
        "  circles:\n    n_samples: 200\n    factor: 0.5\n"
    ),
    "params/model.yaml": "compile_kwargs: {}\nfit_kwargs:\n  epochs: 3\n  extra: {}\n",
}


def test_glob_param_keys(sbs: SideBySide) -> None:
    sbs.write(FILES).git_commit("pipeline")
    lv_changed, dvc_changed = sbs.stage_status()
    assert lv_changed == dvc_changed
    ran_lv, ran_dvc = sbs.repro()
    assert ran_lv == ran_dvc == ["train@moons", "train@circles"]
    sbs.assert_same_lock()
    sbs.git_commit("ran")
    assert sbs.assert_same_json("params", "diff", "--all")

    sbs.write({"params/dataset.yaml": FILES["params/dataset.yaml"].replace("noise: 0.05", "noise: 0.1")})
    lv_changed, dvc_changed = sbs.stage_status()
    assert lv_changed == dvc_changed == {"train@moons": True}
    sbs.assert_same_json("params", "diff")


def test_glob_param_key_matching_several_keys_is_refused(sbs: SideBySide) -> None:
    sbs.write(FILES).git_commit("pipeline")
    sbs.repro()
    sbs.write({"dvc.yaml": DVC_YAML.replace("${item.dataset}*", "*")}).git_commit("a pattern matching two keys")
    lv, dvc = sbs.run("status")
    assert lv.returncode != 0 and dvc.returncode != 0  # dvc: "unexpected error", the pattern matches two keys
    assert len(lv.stderr.strip().splitlines()) == 1 and "dataset_kwargs.*" in lv.stderr
