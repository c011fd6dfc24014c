"""``stage add`` and ``stage list``, side by side on generated sequences: after each command
both tools succeed or both refuse, and the dvc.yaml and .gitignore files are byte-identical (a
refused command leaves them as they were); ``stage list`` prints the same lines."""

from __future__ import annotations

import random

import pytest

from tests.sidebyside.harness import SideBySide, describe

pytestmark = pytest.mark.interop

START = """\
# the project's pipeline
stages:
  prepare:   # keep this comment
    desc: Prepare the data
    cmd: python prepare.py
    deps:
      - prepare.py
    outs:
      - data/prepared:
          desc: the prepared split
          remote: store
          push: false
    meta:
      owner: alice
plots:
  - loss.csv
"""
NAMES = ["train", "evaluate", "prepare", "feature set", "é2", "a_b-c", "x1"]
BAD_NAMES = ["a.b", "a/b", "x:y", ""]
WORDS = ["python", "train.py", "--lr", "0.1", "a b", "'q'", '"dq x"', "&&", "echo", "done"]
PARAMS = ["lr", "train.lr,train.epochs", "params.yaml:seed", "conf.yaml:model.depth,model.width", "conf.yaml:",
          "other.toml:"]
KINDS = ["-o", "-O", "--outs-persist", "--outs-persist-no-cache", "-m", "-M", "--plots", "--plots-no-cache"]


def _command(rng: random.Random, taken: set[str], made: set[str]) -> list[str]:
    args: list[str] = []
    if rng.random() < 0.12:
        args += ["-n", rng.choice(BAD_NAMES)]
    else:
        args += ["-n", rng.choice(NAMES)]
        if rng.random() < 0.5:
            args.append("-f")
    for _ in range(rng.randint(0, 3)):
        args += ["-d", rng.choice(["prepare.py", "./data/raw", "data/prepared", "src/", "x y.txt", "model.pkl"])]
    for _ in range(rng.randint(0, 2)):
        args += ["-p", rng.choice(PARAMS)]
    for _ in range(rng.randint(0, 4)):
        if rng.random() < 0.15 and made:  # an output some stage already writes: refused by both
            path = rng.choice(sorted(made))
        else:
            path = rng.choice(["model.pkl", "data/features", "data/new/out.bin", "metrics.json", "plots/roc.json",
                               "eval", f"out{rng.randint(0, 99)}.txt", "data/prepared"])
            if path in taken:
                continue
        taken.add(path)
        args += [rng.choice(KINDS), path]
    if rng.random() < 0.3:
        args.append("--always-changed")
    if rng.random() < 0.3 and "-f" not in args:  # dvc 3.67 keeps the old desc on -f even when given a new one
        args += ["--desc", rng.choice(["Train the model", "two\nlines"])]
    words = [rng.choice(["python", "echo"]), *rng.sample(WORDS, rng.randint(0, 4))]  # dvc takes no option as 1st word
    return ["stage", "add", *args, *words]


def _same_files(sbs: SideBySide, rels: list[str], context: str) -> None:
    for rel in rels:
        lv, dvc = sbs.read(rel)
        assert lv == dvc, f"{rel} differs after {context}\n--- labvault\n{lv.decode()}\n--- dvc\n{dvc.decode()}"


@pytest.mark.parametrize("seed", range(8))
def test_generated_stage_adds(sbs: SideBySide, seed: int) -> None:
    rng = random.Random(seed)
    # every output's folder exists: dvc stops listing outputs in .gitignore files at the first
    # whose folder is missing (labvault lists the others; tests/pipelines/test_stage_add.py)
    files: dict[str, str | bytes] = {"prepare.py": "", "data/raw/a.csv": "a\n", "sub/keep": "",
                                     "data/new/keep": "", "plots/keep": ""}
    if seed % 2:
        files["dvc.yaml"] = START
    sbs.write(files).git_commit("start")
    cwd = "sub" if seed % 3 == 2 else ""
    rels = [f"{cwd}/dvc.yaml".lstrip("/"), ".gitignore", "data/.gitignore", "sub/.gitignore", "data/new/.gitignore"]
    taken: set[str] = set()
    made: set[str] = {"data/prepared"} if seed % 2 else set()
    for _ in range(6):
        argv = _command(rng, set(taken), made)
        if cwd:
            argv[2:2] = ["-w", ".."]
        lv, dvc = sbs.run(*argv, cwd=cwd)
        context = " ".join(argv)
        assert (lv.returncode == 0) == (dvc.returncode == 0), f"{context}\n{describe(lv, dvc)}"
        if lv.returncode:
            assert len(lv.stderr.strip().splitlines()) == 1, lv.stderr  # one clear line
        else:
            made |= {argv[i + 1] for i, a in enumerate(argv[:-1]) if a in KINDS}
        _same_files(sbs, rels, context)
    lv, dvc = sbs.run_ok("stage", "list", cwd=cwd)
    assert lv.stdout == dvc.stdout, describe(lv, dvc)
    lv, dvc = sbs.run_ok("stage", "list", "--all", "--name-only", cwd=cwd)
    assert lv.stdout == dvc.stdout, describe(lv, dvc)
