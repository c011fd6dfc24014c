"""metrics show/diff, params diff and dag: tables, JSON (checked against real dvc where it agrees), drawings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labvault.pipelines.metrics import flatten, format_value, parse_metrics
from labvault.pipelines.render import DagView, ascii_dag, dot, mermaid, text_table
from tests.conftest import Runner

DVC_YAML = """\
stages:
  train:
    cmd: echo train
    params:
    - train.lr
    - other.yaml:
      - a.b
    metrics:
    - m.json:
        cache: false
    - m.yaml:
        cache: false
metrics:
- top.toml
"""

V1 = {
    "params.yaml": "train:\n  lr: 0.1\n  epochs: 3\n  layers: [1, 2]\nseed: 1\n",
    "other.yaml": "a:\n  b: 1\n  c: 2\nz: 3\n",
    "m.json": '{"acc": 0.8, "nested": {"f1": 0.123456789, "lst": [1, 2]}, "name": "x"}',
    "m.yaml": "loss: 0.5\n",
    "top.toml": "auc = 0.7\n[sub]\nx = 2\n",
}
V2 = {
    "params.yaml": "train:\n  lr: 0.01\n  epochs: 3\n  layers: [1, 2, 3]\nseed: 1\nextra: true\n",
    "other.yaml": "a:\n  b: 2\n  c: 5\nz: 4\n",
    "m.json": '{"acc": 0.9, "nested": {"f1": 0.2, "lst": [1, 2]}, "name": "y", "new": 5}',
}


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


@pytest.fixture
def repo(git_repo: Path, lv: Runner, git: Runner) -> Path:
    """Two tagged commits: v1.0 and v2.0 (HEAD), with params, metrics in JSON/YAML/TOML."""
    lv("init")
    _write(git_repo, {"dvc.yaml": DVC_YAML, **V1})
    git("add", "-A")
    git("commit", "-qm", "v1")
    git("tag", "v1.0")
    _write(git_repo, V2)
    git("add", "-A")
    git("commit", "-qm", "v2")
    git("tag", "-a", "v2.0", "-m", "annotated")
    return git_repo


def _sorted_table(text: str) -> list[str]:
    """Header, then rows sorted (DVC lists files in set order), trailing spaces dropped."""
    lines = [ln.rstrip() for ln in text.strip("\n").splitlines()]
    return lines[:1] + sorted(lines[1:])


def _json(r: Runner, *args: str) -> object:
    return json.loads(r(*args).stdout)


# --- metrics show --------------------------------------------------------------------------------
def test_metrics_show_table(repo: Path, lv: Runner, dvc: Runner) -> None:
    out = lv("metrics", "show").stdout.splitlines()
    assert _sorted_table("\n".join(out)) == _sorted_table(dvc("metrics", "show").stdout)
    assert out[0].split() == ["Path", "acc", "auc", "loss", "name", "nested.f1", "new", "sub.x"]
    rows = {line.split()[0]: line.split()[1:] for line in out[1:]}
    assert rows == {
        "m.json": ["0.9", "-", "-", "y", "0.2", "5", "-"],
        "m.yaml": ["-", "-", "0.5", "-", "-", "-", "-"],
        "top.toml": ["-", "0.7", "-", "-", "-", "-", "2"],
    }
    # DVC's layout: columns two spaces apart, at least two wider than the header
    assert out[0].startswith("Path      acc    auc    loss")


def test_metrics_show_json_matches_dvc(repo: Path, lv: Runner, dvc: Runner) -> None:
    ours = _json(lv, "metrics", "show", "--json")
    assert ours == {"": {"data": {
        "m.json": {"data": {"acc": 0.9, "nested": {"f1": 0.2}, "name": "y", "new": 5}},
        "m.yaml": {"data": {"loss": 0.5}},
        "top.toml": {"data": {"auc": 0.7, "sub": {"x": 2}}},
    }}}
    assert ours == _json(dvc, "metrics", "show", "--json")
    assert _json(lv, "metrics", "show", "-T", "--json") == _json(dvc, "metrics", "show", "-T", "--json")


def test_metrics_show_across_tags_and_branches(repo: Path, lv: Runner, git: Runner) -> None:
    data = _json(lv, "metrics", "show", "-a", "-T", "--json")
    assert isinstance(data, dict)
    assert list(data) == ["workspace", "main,v2.0", "v1.0"]
    assert data["v1.0"]["data"]["m.json"]["data"]["acc"] == 0.8
    table = lv("metrics", "show", "-T").stdout.splitlines()
    assert table[0].split()[:2] == ["Revision", "Path"]
    assert any(line.startswith("v1.0") and "0.12346" in line for line in table)  # rounded to 5 digits
    sha = git("rev-parse", "HEAD").stdout.strip()
    assert sha in _json(lv, "metrics", "show", "-A", "--json")  # type: ignore[operator]


def test_metrics_show_targets_and_formats(repo: Path, lv: Runner) -> None:
    _write(repo, {
        "scores.csv": "acc,loss,name\n0.1,0.9,a\n0.25,0.75,b\n",
        "scores.tsv": "acc\tloss\n0.3\t0.7\n",
        "deep/m.yml": "a:\n  b:\n    c: 1\n  flag: true\n  when: 2024-01-01\n",
    })
    data = _json(lv, "metrics", "show", "scores.csv", "scores.tsv", "deep/m.yml", "--json")
    assert data == {"": {"data": {
        "scores.csv": {"data": {"acc": 0.25, "loss": 0.75, "name": "b"}},  # the last row
        "scores.tsv": {"data": {"acc": 0.3, "loss": 0.7}},
        "deep/m.yml": {"data": {"a": {"b": {"c": 1}, "flag": True}}},  # dates are not metrics
    }}}
    table = lv("metrics", "show", "deep/m.yml").stdout
    assert table.splitlines()[0].split() == ["Path", "a.b.c", "a.flag"]
    # paths are shown relative to the current folder, as DVC does
    sub = lv("metrics", "show", "m.yml", "--json", cwd=repo / "deep").stdout
    assert '"m.yml"' in sub


def test_metrics_show_missing_and_broken_files(repo: Path, lv: Runner) -> None:
    (repo / "m.yaml").unlink()
    (repo / "top.toml").write_text("auc = = 1\n")
    proc = lv("metrics", "show", "--json")
    data = json.loads(proc.stdout)[""]["data"]
    assert set(data["m.yaml"]) == {"error"} and set(data["top.toml"]) == {"error"}
    assert data["m.json"]["data"]["acc"] == 0.9
    assert "failed to load some metrics" in proc.stderr
    table = lv("metrics", "show").stdout
    assert any(line.split() == ["m.yaml", *["-"] * 4] for line in table.splitlines())


# --- metrics diff --------------------------------------------------------------------------------
def test_metrics_diff_between_tags(repo: Path, lv: Runner, dvc: Runner) -> None:
    out = lv("metrics", "diff", "v1.0", "v2.0").stdout.splitlines()
    assert out == [
        "Path    Metric     v1.0     v2.0    Change",
        "m.json  acc        0.8      0.9     0.1",
        "m.json  name       x        y       -",
        "m.json  nested.f1  0.12346  0.2     0.07654",
        "m.json  new        -        5       -",
    ]
    ours = _json(lv, "metrics", "diff", "v1.0", "v2.0", "--json")
    assert ours == _json(dvc, "metrics", "diff", "v1.0", "v2.0", "--json")
    assert ours["m.json"]["new"] == {"old": None, "new": 5}  # type: ignore[index]
    assert _json(lv, "metrics", "diff", "v1.0", "v2.0", "--all", "--json") == _json(
        dvc, "metrics", "diff", "v1.0", "v2.0", "--all", "--json"
    )
    everything = lv("metrics", "diff", "v1.0", "v2.0", "--all", "--precision", "2").stdout
    assert "top.toml  sub.x      2       2       0" in everything
    assert "m.json    nested.f1  0.12    0.2     0.08" in everything
    assert _sorted_table(lv("metrics", "diff", "v1.0", "v2.0", "--all").stdout) == _sorted_table(
        dvc("metrics", "diff", "v1.0", "v2.0", "--all").stdout
    )


def test_metrics_diff_against_workspace(repo: Path, lv: Runner, dvc: Runner) -> None:
    assert lv("metrics", "diff").stdout == ""  # nothing changed since HEAD
    _write(repo, {"m.yaml": "loss: 0.25\n"})
    out = lv("metrics", "diff").stdout.splitlines()
    assert out == [ln.rstrip() for ln in dvc("metrics", "diff").stdout.strip("\n").splitlines()]
    assert out[0].split() == ["Path", "Metric", "HEAD", "workspace", "Change"]
    assert out[1].split() == ["m.yaml", "loss", "0.5", "0.25", "-0.25"]
    assert _json(lv, "metrics", "diff", "--json") == _json(dvc, "metrics", "diff", "--json")
    assert _json(lv, "metrics", "diff", "v1.0", "--json") == _json(dvc, "metrics", "diff", "v1.0", "--json")


def test_metrics_diff_reads_cached_metrics_from_the_store(git_repo: Path, lv: Runner, git: Runner) -> None:
    """A metrics file cached by its stage (not in git) is read at a revision through dvc.lock."""
    lv("init")
    _write(git_repo, {
        "dvc.yaml": "stages:\n  score:\n    cmd: cp src.json out.json\n    deps: [src.json]\n    metrics: [out.json]\n",
        "src.json": '{"acc": 0.5}',
    })
    lv("repro")
    git("add", "-A")
    git("commit", "-qm", "one")
    git("tag", "v1.0")
    assert "out.json" in (git_repo / ".gitignore").read_text()
    _write(git_repo, {"src.json": '{"acc": 0.75}'})
    lv("repro")
    git("add", "-A")
    git("commit", "-qm", "two")
    (git_repo / "out.json").unlink()
    data = _json(lv, "metrics", "diff", "v1.0", "HEAD", "--json")
    assert data == {"out.json": {"acc": {"old": 0.5, "new": 0.75, "diff": 0.25}}}
    shown = _json(lv, "metrics", "show", "-T", "--json")
    assert shown["v1.0"]["data"]["out.json"]["data"] == {"acc": 0.5}  # type: ignore[index]


def test_metrics_diff_unknown_revision(repo: Path, lv: Runner) -> None:
    proc = lv("metrics", "diff", "nope", check=False)
    assert proc.returncode == 7
    assert "unknown git revision 'nope'" in proc.stderr


# --- params diff ---------------------------------------------------------------------------------
def test_params_diff_previous_commit(repo: Path, lv: Runner, dvc: Runner) -> None:
    out = lv("params", "diff", "HEAD~1").stdout.splitlines()
    assert out == [
        "Path         Param         HEAD~1    workspace",
        "other.yaml   a.b           1         2",
        "params.yaml  extra         -         True",
        "params.yaml  train.layers  [1, 2]    [1, 2, 3]",
        "params.yaml  train.lr      0.1       0.01",
    ]  # other.yaml: only the key a stage reads; params.yaml: every key
    assert _sorted_table("\n".join(out)) == _sorted_table(dvc("params", "diff", "HEAD~1").stdout)
    ours = _json(lv, "params", "diff", "HEAD~1", "--json")
    assert ours["params.yaml"]["train.lr"] == {"old": 0.1, "new": 0.01, "diff": 0.01 - 0.1}  # type: ignore[index]
    assert ours == _json(dvc, "params", "diff", "HEAD~1", "--json")
    assert _json(lv, "params", "diff", "v1.0", "v2.0", "--all", "--json") == _json(
        dvc, "params", "diff", "v1.0", "v2.0", "--all", "--json"
    )
    unchanged = lv("params", "diff", "v1.0", "v2.0", "--all").stdout
    assert "params.yaml  seed          1       1" in unchanged
    assert _sorted_table(unchanged) == _sorted_table(dvc("params", "diff", "v1.0", "v2.0", "--all").stdout)
    assert "other.yaml" in unchanged and " z " not in unchanged


def test_params_diff_workspace_edit(repo: Path, lv: Runner, dvc: Runner) -> None:
    _write(repo, {"params.yaml": V2["params.yaml"].replace("seed: 1", "seed: 7")})
    assert _json(lv, "params", "diff", "--json") == {"params.yaml": {"seed": {"old": 1, "new": 7, "diff": 6}}}
    assert _json(lv, "params", "diff", "--json") == _json(dvc, "params", "diff", "--json")
    md = lv("params", "diff", "--md").stdout
    assert md.startswith("| Path ") and "| seed " in md


# --- dag -----------------------------------------------------------------------------------------
PIPELINE = """\
stages:
  download:
    cmd: x
    outs: [raw]
  preprocess:
    cmd: x
    deps: [raw]
    outs: [clean, feats]
  train:
    cmd: x
    deps: [clean]
    outs: [model.pkl]
  evaluate:
    cmd: x
    deps: [model.pkl, feats]
    metrics: [{m.json: {cache: false}}]
  other:
    cmd: y
    outs: [o]
"""


@pytest.fixture
def pipeline(git_repo: Path, lv: Runner) -> Path:
    lv("init")
    _write(git_repo, {"dvc.yaml": PIPELINE})
    return git_repo


def test_dag_ascii(pipeline: Path, lv: Runner) -> None:
    out = lv("dag").stdout
    for name in ("download", "preprocess", "train", "evaluate", "other"):
        assert f"| {name} |" in out
    lines = out.splitlines()
    order = [next(i for i, ln in enumerate(lines) if f"| {n} |" in ln) for n in ("download", "preprocess", "train", "evaluate")]
    assert order == sorted(order)
    assert out.count("v") >= 4  # an arrow into preprocess, train and evaluate (twice, merged or not)
    below = lines.index(next(ln for ln in lines if "| download |" in ln))
    assert [ln.strip() for ln in lines[below + 1 : below + 4]] == ["+----------+", "|", "v"]


def test_dag_ascii_diamond() -> None:
    view = DagView(("a", "b", "c", "d"), (("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")))
    drawing = ascii_dag(view).splitlines()
    assert drawing[0].strip() == "+---+" and drawing[1].strip() == "| a |"
    b_row = next(ln for ln in drawing if "| b |" in ln)
    assert "| c |" in b_row  # b and c side by side
    assert "| d |" in drawing[-2]
    assert drawing[-4].strip() == "v"  # one arrow into d, the two edges merged above it
    assert "+" in drawing[-5] and "-" in drawing[-5]


def test_dag_mermaid_and_dot(pipeline: Path, lv: Runner) -> None:
    assert lv("dag", "--mermaid").stdout == (
        "flowchart TD\n\tnode1[\"download\"]\n\tnode2[\"evaluate\"]\n\tnode3[\"preprocess\"]\n\tnode4[\"train\"]\n"
        "\tnode1-->node3\n\tnode3-->node2\n\tnode3-->node4\n\tnode4-->node2\n\tnode5[\"other\"]\n"
    )
    assert lv("dag", "--dot").stdout == (
        'strict digraph {\n"download";\n"preprocess";\n"train";\n"evaluate";\n"other";\n'
        '"download" -> "preprocess";\n"preprocess" -> "train";\n"preprocess" -> "evaluate";\n'
        '"train" -> "evaluate";\n}\n\n'
    )
    assert lv("dag", "--md").stdout.startswith("```mermaid\nflowchart TD\n")


def test_dag_matches_dvc(pipeline: Path, lv: Runner, dvc: Runner) -> None:
    for args in (["--mermaid"], ["--dot"], ["--outs", "--dot"], ["--outs", "--mermaid"], ["train", "--mermaid"],
                 ["evaluate", "--outs", "--dot"]):
        assert lv("dag", *args).stdout == dvc("dag", *args).stdout, args


def test_dag_outs_and_target(pipeline: Path, lv: Runner) -> None:
    data = _json(lv, "dag", "--outs", "--json")
    assert data == {
        "nodes": ["raw", "clean", "feats", "model.pkl", "m.json", "o"],
        "edges": [["raw", "clean"], ["raw", "feats"], ["clean", "model.pkl"], ["feats", "m.json"], ["model.pkl", "m.json"]],
    }
    assert _json(lv, "dag", "train", "--json") == {
        "nodes": ["download", "preprocess", "train"],
        "edges": [["download", "preprocess"], ["preprocess", "train"]],
    }
    drawing = lv("dag", "train", "--outs").stdout
    assert "| model.pkl |" in drawing and "| raw |" in drawing
    assert "feats" not in drawing and "m.json" not in drawing  # not what model.pkl needs
    proc = lv("dag", "nope", check=False)
    assert proc.returncode == 2 and "unknown stage or output 'nope'" in proc.stderr


def test_dag_small_renderers() -> None:
    chain = DagView(("a", "bb"), (("a", "bb"),))
    assert ascii_dag(chain).splitlines() == [" +---+", " | a |", " +---+", "   |", "   v", "+----+", "| bb |", "+----+"]
    assert mermaid(chain) == 'flowchart TD\n\tnode1["a"]\n\tnode2["bb"]\n\tnode1-->node2'
    assert dot(DagView(('say "hi"',), ())) == 'strict digraph {\n"say \\"hi\\"";\n}\n'
    assert ascii_dag(DagView((), ())) == ""


# --- values and parsing --------------------------------------------------------------------------
def test_values_print_like_dvc() -> None:
    assert format_value(0.1 + 0.2, 5) == "0.3"
    assert format_value(0.09999999999999998, 5) == "0.1"
    assert format_value(3, 5) == "3" and format_value(True, 5) == "True" and format_value(None) == "-"
    assert format_value(0.123456789, None) == "0.123456789"
    # an empty mapping has no keys (dvc's flatten drops it)
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": {}}) == {"a.b": 1, "a.c": "[1, 2]"}
    assert parse_metrics("x,y\n1,2\n\n3,nan\n", "m.csv") == {"x": 3, "y": "nan"}
    assert parse_metrics("0.9\n", "acc.txt") == 0.9
    assert parse_metrics("[1, 2]", "l.json") == {}
    assert text_table(["A", "Bee"], [["xyz", "1"]]) == "A    Bee\nxyz  1"


def test_every_new_command_has_an_example(lv: Runner) -> None:
    for cmd in (["metrics"], ["metrics", "show"], ["metrics", "diff"], ["params"], ["params", "diff"], ["dag"]):
        assert "Example:" in lv(*cmd, "--help").stdout, cmd
