"""``params diff``, side by side, for values a pipeline reads through templating: from ``vars``
files (whole, or ``file:key``), from foreach and matrix items taken from such files, from a
stage's own ``vars``, and from a nested dvc.yaml's; changed keys appear in ``params diff``, every
tracked one with ``--all``, keys nobody reads do not."""

from __future__ import annotations

import json

import pytest

from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.interop

VARS_YAML = "lrs: [0.1, 0.2]\nnames: {alpha: {n: 1}, beta: {n: 2}}\nst: {k: 5, unused: 0}\n"

WHOLE_FILES = {
    "params.yaml": "seed: 1\n",
    "config/v.yaml": VARS_YAML,
    "config/s.yaml": "local: {z: 3, w: 4}\n",
    "sub/vv.yaml": "x: 1\n",
    "sub/dvc.yaml": "vars:\n  - vv.yaml\nstages:\n  n:\n    cmd: echo ${x}\n",
    "dvc.yaml": """\
vars:
  - config/v.yaml
stages:
  m:
    matrix:
      lr: ${lrs}
      nm: ${names}
    cmd: echo ${item.lr} ${item.nm}
  f:
    foreach: ${names}
    do:
      cmd: echo ${item.n} ${key}
  s:
    vars:
      - config/s.yaml
    cmd: echo ${st.k} ${local.z}
""",
}

PICKED_KEYS = {
    "config/opt.json": json.dumps({"opt": {"m": 0.9, "n": 2, "deep": {"d": "x"}}, "z": 1}),
    "config/grid.toml": "[grid]\nmodels = [\"cnn\", \"rnn\"]\nepochs = 3\n",
    "dvc.yaml": """\
vars:
  - config/opt.json:opt
  - config/grid.toml:grid
  - inline: 3
stages:
  t:
    foreach: ${grid.models}
    do:
      cmd: echo ${item} ${opt.m} ${opt.deep.d} ${inline}
      params:
        - config/train.yaml:
            - lr
  u:
    cmd: echo ${grid.epochs}
""",
    "config/train.yaml": "lr: 0.5\nother: 1\n",
}

CHANGES = {
    "whole": {"config/v.yaml": VARS_YAML.replace("0.2]", "0.3]").replace("unused: 0", "unused: 9"),
              "sub/vv.yaml": "x: 2\n", "config/s.yaml": "local: {z: 3, w: 5}\n"},
    "picked": {"config/opt.json": json.dumps({"opt": {"m": 0.8, "n": 3, "deep": {"d": "y"}}, "z": 2}),
               "config/train.yaml": "lr: 0.5\nother: 2\n"},
}


@pytest.mark.parametrize("case", ["whole", "picked"])
def test_params_read_through_vars(sbs: SideBySide, case: str) -> None:
    sbs.write(WHOLE_FILES if case == "whole" else PICKED_KEYS).git_commit("pipeline")
    everything = sbs.assert_same_json("params", "diff", "--all")
    assert len(everything) > 1
    sbs.write(CHANGES[case])
    changed = sbs.assert_same_json("params", "diff")
    assert changed
