"""``stage add`` and ``stage list`` beyond what the side-by-side test generates: every refusal
changes nothing and says one line; ``-f`` keeps what dvc keeps; paths, .gitignore, ``--run``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from labvault import api
from labvault.errors import LabvaultError
from tests.conftest import _labvault_cmd

START = """\
# the project's pipeline
stages:
  prepare:   # keep this comment
    desc: Prepare the data
    cmd: python prepare.py
    outs:
      - data/prepared:
          desc: the prepared split
          remote: store
          persist: true
    meta:
      owner: alice
"""


def _repo(tmp_path: Path, pipeline: str | None = START) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    api.init(repo)
    if pipeline is not None:
        (repo / "dvc.yaml").write_text(pipeline)
    (repo / "data").mkdir()
    return repo


def _cli(repo: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_labvault_cmd(), *args], cwd=cwd or repo, capture_output=True, text=True)


def _snapshot(repo: Path) -> dict[str, bytes]:
    return {p.relative_to(repo).as_posix(): p.read_bytes() for p in sorted(repo.rglob("*"))
            if p.is_file() and ".git" not in p.parts and ".dvc" not in p.parts}


@pytest.mark.parametrize(("args", "says"), [
    (["-n", "a.b", "echo"], "bad stage name 'a.b'"),
    (["-n", "prepare", "echo"], "stage 'prepare' already exists in dvc.yaml"),
    (["-n", "x", "-o", "data/prepared", "echo"], "both write data/prepared"),
    (["-n", "x", "-o", "data/prepared/part", "echo"], "write overlapping outputs"),
    (["-n", "x", "-o", "tracked.txt", "echo"], "a .dvc file already tracks"),
    (["-n", "x", "-o", "in-git.txt", "echo"], "output 'in-git.txt' of stage 'x' is tracked by git"),
    (["-n", "x", "-d", "data/prepared", "-o", "prepare.py", "echo"], None),  # fine: a control case
    (["-n", "y", "-d", "y.out", "-o", "y.out", "echo"], "depends on its own output"),
    (["-n", "x", "-o", "../outside", "echo"], "leaves the repository"),
    (["-n", "x", "-o", "ext/x", "echo"], "refusing to write ext/x: the folder ext is a symlink"),
    (["-n", "x", "-O", "ext/x", "echo"], "refusing to write ext/x: the folder ext is a symlink"),
    (["-n", "x", "-d", "a", "-d", "./a", "echo"], "'./a' is named more than once"),
    (["-n", "x", "-o", "a", "-M", "a", "echo"], "'a' is named more than once"),
])
def test_a_refused_stage_changes_nothing_and_says_one_line(tmp_path: Path, args: list[str], says: str | None) -> None:
    repo = _repo(tmp_path)
    (repo / "tracked.txt").write_text("t\n")
    api.add(["tracked.txt"], repo=repo)
    (repo / "ext").symlink_to(tmp_path / "elsewhere", target_is_directory=True)  # a hostile clone's link
    (tmp_path / "elsewhere").mkdir()
    (repo / "in-git.txt").write_text("g\n")
    subprocess.run(["git", "add", "in-git.txt"], cwd=repo, check=True)
    before = _snapshot(repo)
    done = _cli(repo, "stage", "add", *args)
    if says is None:
        assert done.returncode == 0, done.stderr
        return
    assert done.returncode != 0 and says in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert _snapshot(repo) == before
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_dvc_yaml_behind_a_symlink_out_of_the_repository_is_not_written(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (repo / "ext").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(LabvaultError, match=r"refusing to write dvc\.yaml"):
        api.stage_add("x", "echo", cwd=repo / "ext", repo=repo)
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_cycle_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path, None)
    api.stage_add("a", "echo", deps=["b.out"], outs=["a.out"], repo=repo)
    text = (repo / "dvc.yaml").read_bytes()
    with pytest.raises(LabvaultError, match="cycle"):
        api.stage_add("b", "echo", deps=["a.out"], outs=["b.out"], repo=repo)
    assert (repo / "dvc.yaml").read_bytes() == text


def test_force_replaces_in_place_keeping_comments_meta_and_output_notes(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    added = api.stage_add("prepare", "python prepare.py --fast", deps=["prepare.py"],
                          outs=["data/prepared", "data/extra"], force=True, repo=repo)
    assert added.replaced and added.address == "prepare"
    assert (repo / "dvc.yaml").read_text() == """\
# the project's pipeline
stages:
  prepare:   # keep this comment
    desc: Prepare the data
    cmd: python prepare.py --fast
    outs:
    - data/extra
    - data/prepared:
        desc: the prepared split
        remote: store
    meta:
      owner: alice
    deps:
    - prepare.py
"""
    api.stage_add("prepare", "python prepare.py", desc="New words", force=True, repo=repo)
    assert "desc: New words" in (repo / "dvc.yaml").read_text()  # dvc 3.67 would keep the old one


def test_paths_templating_and_gitignore(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "vars:\n  - models: [a, b]\nstages:\n  fit:\n    foreach: ${models}\n    do:\n"
                           "      cmd: echo ${item}\n      outs:\n        - fit-${item}.txt\n")
    (repo / "sub").mkdir()
    api.stage_add("s", ["python", "run it.py", "--name", 'say "hi"'],
                  deps=[str(repo / "data" / "in.csv"), "/etc/hostname"], outs=["sub/o.txt", "missing/o.txt", "top.txt"],
                  metrics=[str(repo / "m.json")], repo=repo)
    text = (repo / "dvc.yaml").read_text()
    assert "foreach: ${models}" in text  # the template is kept as written
    assert """  s:
    cmd: python "run it.py" --name say "hi"
    deps:
    - /etc/hostname
    - data/in.csv
    outs:
    - missing/o.txt
    - sub/o.txt
    - top.txt
    metrics:
    - m.json
""" in text
    # outputs whose folder exists are ignored now (after the metrics, as dvc orders them);
    # missing/ gets its entry when the stage first runs
    assert (repo / ".gitignore").read_text() == "/m.json\n/top.txt\n"
    assert (repo / "sub/.gitignore").read_text() == "/o.txt\n"
    assert not (repo / "missing").exists()
    names = [e.address for e in api.stage_list(all=True, repo=repo)]
    assert names == ["fit@a", "fit@b", "s"]


def test_run_and_json(tmp_path: Path) -> None:
    repo = _repo(tmp_path, None)
    done = _cli(repo, "stage", "add", "-n", "hello", "-o", "hello.txt", "--run", "--json",
                "python3", "-c", "open('hello.txt', 'w').write('hi')")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["stage"] == {"address": "hello", "dvcfile": "dvc.yaml", "replaced": False,
                             "gitignores": [".gitignore"]}
    assert [r["action"] for r in data["runs"]] == ["ran"]
    assert (repo / "hello.txt").read_text() == "hi" and "hello:" in (repo / "dvc.lock").read_text()
    failed = _cli(repo, "stage", "add", "-n", "boom", "--run", "python3", "-c", "raise SystemExit(3)")
    assert failed.returncode == 1 and "boom" in failed.stderr
    assert "boom:" in (repo / "dvc.yaml").read_text()  # written, then failed to run


def test_stage_list_targets(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "f.txt").write_text("f\n")
    api.add(["f.txt"], repo=repo)
    (repo / "sub").mkdir()
    api.stage_add("deep", "echo", outs=["x" * 120], cwd=repo / "sub", repo=repo)
    api.stage_add("reader", "echo", deps=["f.txt"], params=["lr"], repo=repo)
    every = api.stage_list(all=True, repo=repo)
    assert [(e.address, e.description) for e in every] == [
        ("prepare", "Prepare the data"), ("reader", "Depends on f.txt, params.yaml"),
        ("f.txt.dvc", "Outputs f.txt"), ("sub/dvc.yaml:deep", "Outputs " + "x" * 71 + "…"),
    ]
    assert [e.address for e in api.stage_list(repo=repo)] == ["prepare", "reader"]
    assert [e.address for e in api.stage_list(["reader"], repo=repo)] == ["reader"]
    assert [e.address for e in api.stage_list(["sub/dvc.yaml:deep", "f.txt.dvc"], repo=repo)] == [
        "sub/dvc.yaml:deep", "f.txt.dvc"]
    assert [e.address for e in api.stage_list(["sub"], recursive=True, repo=repo)] == ["sub/dvc.yaml:deep"]
    assert [e.address for e in api.stage_list(cwd=repo / "sub", repo=repo)] == ["deep"]
    with pytest.raises(LabvaultError, match="no stage 'nope'"):
        api.stage_list(["nope"], repo=repo)
    listed = _cli(repo, "stage", "list", "--all")
    assert listed.stdout.splitlines()[1] == "reader             Depends on f.txt, params.yaml"


def test_freeze_checks_every_target_before_changing_any(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "f.txt").write_text("f\n")
    api.add(["f.txt"], repo=repo)
    before = _snapshot(repo)
    with pytest.raises(LabvaultError, match="no stage 'nope'"):
        api.freeze(["f.txt.dvc", "prepare", "nope"], repo=repo)
    assert _snapshot(repo) == before
    changes = api.freeze(["f.txt.dvc", "prepare"], repo=repo)
    assert [(c.file, c.stage, c.changed) for c in changes] == [("f.txt.dvc", None, True), ("dvc.yaml", "prepare", True)]
    assert "# keep this comment" in (repo / "dvc.yaml").read_text()
    assert (repo / "f.txt.dvc").read_text().endswith("frozen: true\n")
    assert [c.changed for c in api.freeze(["prepare"], repo=repo)] == [False]
    assert [c.changed for c in api.unfreeze(["f.txt.dvc", "prepare"], repo=repo)] == [True, True]
    after = _snapshot(repo)
    assert after["f.txt.dvc"] == before["f.txt.dvc"]
    # the same pipeline, in dvc's layout (sequences no longer indented under their keys, as dvc writes them)
    assert yaml.safe_load(after["dvc.yaml"]) == yaml.safe_load(before["dvc.yaml"])
