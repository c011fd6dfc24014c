"""foreach, matrix, vars and ${...} templating: the stages labvault resolves from a dvc.yaml have
the same names, commands, deps, outs and params as the ones the real dvc resolves.

Every case is a small repository; the dvc oracle (tests/oracle/dvc_stages.py, run with the dvc
virtual environment's python) reads them all in one process.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, ROOT, dvc_oracle_path

pytestmark = pytest.mark.interop

ORACLE = ROOT / "tests" / "oracle" / "dvc_stages.py"

CASES: dict[str, dict[str, str]] = {
    "foreach_list": {
        "dvc.yaml": """\
stages:
  clean:
    foreach: [raw, 3, 1.5, true, with-dash]
    do:
      cmd: python clean.py --part ${item} > out/${item}.txt
      deps: [clean.py]
      outs:
        - out/${item}.txt
""",
    },
    "foreach_list_of_dicts": {
        "dvc.yaml": """\
stages:
  fit:
    foreach:
      - {model: cnn, layers: 3, drop: 0.5}
      - {model: rnn, layers: 2, drop: 0.25}
      - {model: mlp, layers: 1, drop: 0}
    do:
      cmd: python fit.py ${item.model} --layers ${item.layers} --dropout=${item.drop}
      outs:
        - models/${item.model}.bin
""",
    },
    "foreach_dict": {
        "dvc.yaml": """\
stages:
  region:
    foreach:
      us: {epochs: 1, tags: [a, b]}
      eu-west: {epochs: 2, tags: [c]}
      "7": {epochs: 3, tags: []}
    do:
      cmd: echo ${key} ${item.epochs} ${item.tags[0]}
      outs:
        - regions/${key}.json
""".replace("${item.tags[0]}", "${key}-${item.epochs}"),
    },
    "foreach_from_params": {
        "params.yaml": """\
datasets:
  - name: mnist
    size: 60000
  - name: cifar
    size: 50000
regions: {north: 1, south: 2}
""",
        "dvc.yaml": """\
stages:
  prep:
    foreach: ${datasets}
    do:
      cmd: python prep.py ${item.name} ${item.size}
      params: [datasets]
      outs:
        - prepared/${item.name}
  weigh:
    foreach: ${regions}
    do:
      cmd: echo ${key}=${item}
""",
    },
    "matrix": {
        "dvc.yaml": """\
stages:
  sweep:
    matrix:
      model: [cnn, rnn]
      lr: [0.1, 0.001]
      augment: [true, false]
    cmd: python train.py --model ${item.model} --lr ${item.lr} --augment ${item.augment} # ${key}
    outs:
      - runs/${item.model}-${item.lr}-${item.augment}
""",
    },
    "matrix_composite_and_params": {
        "params.yaml": """\
seeds: [1, 2]
configs:
  - {depth: 2, width: 8}
  - {depth: 4, width: 16}
""",
        "dvc.yaml": """\
stages:
  grid:
    matrix:
      seed: ${seeds}
      cfg: ${configs}
      opt: [[adam, 0.9], [sgd, 0.0]]
    cmd: python grid.py ${item.seed} ${item.cfg.depth}x${item.cfg.width} ${item.opt[0]} ${key}
""",
    },
    "vars": {
        "params.yaml": "train:\n  lr: 0.01\n  epochs: 5\nname: base\n",
        "custom.yaml": "data_dir: data/custom\nmodel:\n  name: resnet\n  size: 18\nextra:\n  x: 1\n  y: 2\n",
        "dvc.yaml": """\
vars:
  - custom.yaml:data_dir,model
  - out_dir: results
    run_name: first
stages:
  train:
    cmd: python train.py ${data_dir} ${model.name}${model.size} --lr ${train.lr} -> ${out_dir}/${run_name}
    deps:
      - ${data_dir}
    params: [train.lr, train.epochs]
    outs:
      - ${out_dir}/model.pt
  report:
    vars:
      - stage_local: 42
    cmd: echo ${stage_local} ${name} ${train.epochs}
""",
    },
    "interpolation": {
        "params.yaml": """\
train:
  learning_rate: 2e-5
  batch_size: 32
  flags: {fast: true, slow: false}
  layers: [64, 32]
  name: my model
paths:
  raw: data/raw
list: [a, b, c]
""",
        "dvc.yaml": """\
stages:
  whole:
    cmd: python train.py ${train}
  parts:
    cmd: >-
      python train.py --lr ${train.learning_rate} --bs ${train.batch_size}
      --first ${list[1]} --flag ${train.flags.fast} --path ${paths.raw}/x.csv
      --literal \\${not.a.var}
    deps:
      - ${paths.raw}
  listcmd:
    cmd:
      - echo ${train.batch_size}
      - echo "${train.name}"
    params:
      - params.yaml:
          - train.learning_rate
      - other.yaml:
""",
        "other.yaml": "a: 1\n",
    },
    "nested_dvc_yaml": {
        "dvc.yaml": "stages:\n  top:\n    cmd: echo top\n",
        "sub/params.yaml": "n: 3\nitems: [x, y]\n",
        "sub/dvc.yaml": """\
stages:
  inner:
    foreach: ${items}
    do:
      wdir: work
      cmd: echo ${item} ${n}
      deps:
        - ../input-${item}.txt
      params: [n]
      outs:
        - out-${item}.txt
""",
    },
    "outputs_as_keys_with_options": {
        "params.yaml": "models: [cnn, rnn]\nsizes: {s: 1, m: 2}\n",
        "dvc.yaml": """\
stages:
  train:
    foreach: ${models}
    do:
      cmd: python train.py ${item}
      outs:
        - data/${item}/model.bin: {persist: true}
        - data/${item}/pred.json:
            cache: false
      metrics:
        - data/${item}/metrics.json: {cache: false}
      plots:
        - data/${item}/curve.csv: {x: step, y: loss}
  grid:
    matrix:
      size: ${sizes}
      model: ${models}
    cmd: python grid.py ${item.size} ${item.model}
    outs:
      - grid/${item.size}-${item.model}.bin: {cache: false}
""",
    },
    "one_item_with_output_key": {
        "dvc.yaml": """\
stages:
  only:
    foreach: [solo]
    do:
      cmd: echo ${item}
      outs:
        - out/${item}/pred.json: {cache: false}
""",
    },
    "matrix_over_mapping_variables": {
        "params.yaml": "models:\n  small: {size: 1}\n  big: {size: 2}\nlrs: [0.1, 0.2]\n",
        "dvc.yaml": """\
stages:
  t:
    matrix:
      model: ${models}
      lr: ${lrs}
    cmd: echo ${item.model} ${item.lr} ${key}
    outs:
      - out-${item.model}-${item.lr}.txt
""",
    },
}

# dvc.yaml files dvc refuses to resolve; labvault must refuse them too, with one clear line.
ERROR_CASES: dict[str, dict[str, str]] = {
    "vars_redefines_a_param": {
        "params.yaml": "name: base\n",
        "dvc.yaml": "vars:\n  - name: other\nstages:\n  s:\n    cmd: echo ${name}\n",
    },
    "vars_files_redefine_each_other": {
        "a.yaml": "lr: 1\n",
        "b.yaml": "lr: 2\n",
        "dvc.yaml": "vars:\n  - a.yaml\n  - b.yaml\nstages:\n  s:\n    cmd: echo ${lr}\n",
    },
    "undefined_variable": {
        "params.yaml": "train:\n  lr: 1\n",
        "dvc.yaml": "stages:\n  s:\n    cmd: echo ${train.momentum}\n",
    },
    "dict_into_a_path": {
        "params.yaml": "train:\n  lr: 1\n",
        "dvc.yaml": "stages:\n  s:\n    cmd: echo hi\n    outs:\n      - ${train}\n",
    },
    "dependency_written_as_a_key_with_options": {
        "dvc.yaml": "stages:\n  s:\n    foreach: [a]\n    do:\n      cmd: echo\n      deps:\n        - in/${item}.txt: {hash: md5}\n",
    },
    "matrix_with_an_inline_mapping": {
        "dvc.yaml": "stages:\n  s:\n    matrix:\n      m: {a: 1, b: 2}\n    cmd: echo ${item.m}\n",
    },
    "foreach_over_a_number": {
        "params.yaml": "n: 3\n",
        "dvc.yaml": "stages:\n  s:\n    foreach: ${n}\n    do:\n      cmd: echo ${item}\n",
    },
}


def _make_repo(base: Path, files: dict[str, str]) -> None:
    (base / ".dvc").mkdir(parents=True)
    (base / ".dvc" / "config").write_text("[core]\n    no_scm = True\n")
    for rel, text in files.items():
        p = base / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


@pytest.fixture(scope="module")
def oracle_answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Any]]:
    python = dvc_oracle_path().parent / "python"
    if not python.exists():
        msg = f"dvc oracle not found at {python}: run `make dvc-oracle`"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    base = tmp_path_factory.mktemp("templating")
    roots = {}
    for name, files in {**CASES, **ERROR_CASES}.items():
        _make_repo(base / name, files)
        roots[name] = base / name
    proc = subprocess.run(
        [str(python), str(ORACLE), *[str(p) for p in roots.values()]],
        capture_output=True, text=True, timeout=120, check=True,
    )
    answers = json.loads(proc.stdout)
    return {name: (root, answers[str(root)]) for name, root in roots.items()}


def labvault_stages(root: Path) -> dict[str, Any]:
    from labvault.pipelines.spec import load_stages
    from labvault.workspace.repo import open_repo

    out: dict[str, Any] = {}
    for s in load_stages(open_repo(root)):
        params: dict[str, list[str]] = {}
        for ref in s.params:
            params.setdefault(ref.rel, [])
            params[ref.rel] = sorted({*params[ref.rel], *ref.keys})
        out[s.address] = {
            "cmd": s.cmd if isinstance(s.cmd, str) else list(s.cmd),
            "wdir": s.wdir or ".",
            "deps": [d.path for d in s.deps],
            "outs": [o.path for o in s.outs],
            "params": params,
        }
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_stages_match_dvc(case: str, oracle_answers: dict[str, tuple[Path, Any]]) -> None:
    root, theirs = oracle_answers[case]
    assert "error" not in theirs, theirs
    ours = labvault_stages(root)
    assert sorted(ours) == sorted(theirs)  # the same stage names
    for name in theirs:
        assert ours[name]["cmd"] == theirs[name]["cmd"], name
    assert ours == theirs


def test_generated_names_follow_dvcs_scheme(oracle_answers: dict[str, tuple[Path, Any]]) -> None:
    """Spelled out, so a reader sees the naming without running dvc."""
    _, fe = oracle_answers["foreach_list_of_dicts"]
    assert sorted(fe) == ["fit@0", "fit@1", "fit@2"]
    _, fd = oracle_answers["foreach_dict"]
    assert sorted(fd) == ["region@7", "region@eu-west", "region@us"]
    _, mx = oracle_answers["matrix"]
    assert "sweep@cnn-0.1-true" in mx and len(mx) == 8
    _, mm = oracle_answers["matrix_over_mapping_variables"]
    assert sorted(mm) == ["t@big-0.1", "t@big-0.2", "t@small-0.1", "t@small-0.2"]
    _, keyed = oracle_answers["outputs_as_keys_with_options"]
    assert keyed["train@rnn"]["outs"] == [
        "data/rnn/model.bin", "data/rnn/pred.json", "data/rnn/metrics.json", "data/rnn/curve.csv"
    ]


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_refuses_what_dvc_refuses(case: str, oracle_answers: dict[str, tuple[Path, Any]]) -> None:
    from labvault.errors import PipelineError

    root, theirs = oracle_answers[case]
    assert "error" in theirs, f"dvc accepted {case}: {theirs}"
    with pytest.raises(PipelineError) as info:
        labvault_stages(root)
    line = info.value.line()
    assert "\n" not in line.strip() and "dvc.yaml" in line, line
