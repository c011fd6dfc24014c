"""Bad pipeline input is refused before anything runs: one line on stderr starting with
``error: `` that names the file, the stage or the key; a non-zero exit; no stage started; the
dvc.lock untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.pipelines._support import clear_log, repro_json, started_order, write, write_step_script

GOOD_DVC_YAML = """\
stages:
  gen:
    cmd: python step.py gen out/gen.txt seed.txt
    deps: [seed.txt]
    outs: [out/gen.txt]
  use:
    cmd: python step.py use out/use.txt out/gen.txt
    deps: [out/gen.txt]
    params: [train.lr]
    outs: [out/use.txt]
"""
GOOD_PARAMS = "train:\n  lr: 0.1\n  epochs: 2\n"

# name -> (files to write over the good pipeline, words the error line must contain)
CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    "cycle": (
        {
            "dvc.yaml": GOOD_DVC_YAML + """\
  loop1:
    cmd: python step.py loop1 out/l1.txt out/l2.txt
    deps: [out/l2.txt]
    outs: [out/l1.txt]
  loop2:
    cmd: python step.py loop2 out/l2.txt out/l1.txt
    deps: [out/l1.txt]
    outs: [out/l2.txt]
"""
        },
        ["dvc.yaml", "cycle", "loop1", "loop2"],
    ),
    "two_stages_one_output": (
        {
            "dvc.yaml": GOOD_DVC_YAML + """\
  again:
    cmd: python step.py again out/gen.txt seed.txt
    deps: [seed.txt]
    outs: [out/gen.txt]
"""
        },
        ["dvc.yaml", "gen", "again", "out/gen.txt"],
    ),
    "missing_dep": (
        {"dvc.yaml": GOOD_DVC_YAML.replace("deps: [seed.txt]", "deps: [seed.txt, data/missing.csv]")},
        ["dvc.yaml", "gen", "data/missing.csv"],
    ),
    "unknown_param_key": (
        {"dvc.yaml": GOOD_DVC_YAML.replace("params: [train.lr]", "params: [train.lr, train.momentum]")},
        ["params.yaml", "use", "train.momentum"],
    ),
    "malformed_dvc_yaml": (
        {"dvc.yaml": GOOD_DVC_YAML.replace("deps: [seed.txt]", "deps: [seed.txt")},
        ["dvc.yaml", "line"],
    ),
    "malformed_params_yaml": (
        {"params.yaml": "train:\n  lr: 0.1\n   epochs: [2\n"},
        ["params.yaml"],
    ),
}


@pytest.fixture
def good_repo(git_repo: Path, lv: Runner, runlog: Path) -> Path:
    """A pipeline that ran once, then had its seed changed: every stage would run again."""
    lv("init")
    write(git_repo, "dvc.yaml", GOOD_DVC_YAML)
    write(git_repo, "params.yaml", GOOD_PARAMS)
    write(git_repo, "seed.txt", "seed 1\n")
    write_step_script(git_repo)
    repro_json(lv)
    write(git_repo, "seed.txt", "seed 2\n")
    clear_log(runlog)
    return git_repo


COMMANDS = [("repro",), ("repro", "-j", "2", "--keep-going"), ("status",)]
# A missing dep is a change for status (as for dvc status), refused only by repro: see
# test_status_reports_a_missing_dep_as_a_change. A cycle and two stages writing one output are
# refused by repro (and dag) but reported by status, as dvc's status reports them: see
# tests/sidebyside/test_status_graph.py.
STATUS_READS = {"missing_dep", "cycle", "two_stages_one_output"}
COMBINATIONS = [(case, cmd) for case in CASES for cmd in COMMANDS if not (case in STATUS_READS and cmd == ("status",))]


@pytest.mark.parametrize(("case", "command"), COMBINATIONS)
def test_bad_input_is_one_clear_error_and_runs_nothing(
    case: str, command: tuple[str, ...], good_repo: Path, lv: Runner, runlog: Path
) -> None:
    files, words = CASES[case]
    for rel, text in files.items():
        write(good_repo, rel, text)
    lock = (good_repo / "dvc.lock").read_bytes()
    outputs = {p: (good_repo / p).read_bytes() for p in ("out/gen.txt", "out/use.txt")}

    proc = lv(*command, check=False)
    assert proc.returncode not in (0, 1), proc  # bad input, not a stage failure
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: "), proc.stderr
    for word in words:
        assert word in lines[0], f"{word!r} missing from {lines[0]!r}"
    assert started_order(runlog) == []
    assert (good_repo / "dvc.lock").read_bytes() == lock
    assert {p: (good_repo / p).read_bytes() for p in outputs} == outputs


def test_status_reports_a_missing_dep_as_a_change(good_repo: Path, lv: Runner, runlog: Path) -> None:
    files, _ = CASES["missing_dep"]
    for rel, text in files.items():
        write(good_repo, rel, text)
    lock = (good_repo / "dvc.lock").read_bytes()
    proc = lv("status", "--json", check=False)
    assert proc.returncode == 0, proc
    import json

    changed = [s for s in json.loads(proc.stdout)["stages"] if s["changed"]]
    assert changed, proc.stdout
    assert started_order(runlog) == []
    assert (good_repo / "dvc.lock").read_bytes() == lock
