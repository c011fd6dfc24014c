"""Helpers for the pipeline tests: the lab guide's four-stage pipeline with small real scripts,
reading stage run logs, and calling ``labvault repro --json``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

from tests.conftest import Runner

# Every stage script starts with this: it records "<name> <start> <end> <pids>" in $PIPE_RUNLOG when
# done (one short append, atomic enough for the few concurrent writers of these tests); <pids> is
# its own pid and its ancestors', comma separated (read from /proc), to tell who started it.
LOG_PRELUDE = '''\
import os, sys, time
_T0 = time.time()


def _ancestors():
    pids, pid = [], os.getpid()
    while pid > 1 and len(pids) < 12:
        pids.append(str(pid))
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
    return ",".join(pids)


def log_run(name):
    path = os.environ.get("PIPE_RUNLOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{name} {_T0:.6f} {time.time():.6f} {_ancestors()}\\n")
'''

DOWNLOAD = '''
import csv, io, random, zipfile

# A tiny two-feature dataset: label 1 when 2*x1 - x2 + noise > 0.3.
rng = random.Random(1234)
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\\n")
w.writerow(["x1", "x2", "label"])
for _ in range(400):
    x1, x2 = rng.uniform(-1, 1), rng.uniform(-1, 1)
    label = int(2 * x1 - x2 + rng.gauss(0, 0.3) > 0.3)
    w.writerow([f"{x1:.5f}", f"{x2:.5f}", label])
os.makedirs("data/raw", exist_ok=True)
with zipfile.ZipFile("data/raw/dataset.zip", "w", zipfile.ZIP_DEFLATED) as z:
    info = zipfile.ZipInfo("dataset.csv", date_time=(1980, 1, 1, 0, 0, 0))
    z.writestr(info, buf.getvalue())
log_run("download")
'''

PREPROCESS = '''
import zipfile, yaml

p = yaml.safe_load(open("params.yaml"))["preprocess"]
with zipfile.ZipFile("data/raw/dataset.zip") as z:
    lines = z.read("dataset.csv").decode().splitlines()
header, rows = lines[0], lines[1:]
n_train = int(len(rows) * float(p["train_split"]))
n_val = int(len(rows) * float(p["val_split"]))
parts = {
    "train": rows[:n_train],
    "val": rows[n_train:n_train + n_val],
    "test": rows[n_train + n_val:],
}
os.makedirs("data/processed", exist_ok=True)
for name, part in parts.items():
    with open(f"data/processed/{name}.csv", "w") as f:
        f.write("\\n".join([header, *part]) + "\\n")
log_run("preprocess")
'''

TRAIN = '''
import json, math, yaml

p = yaml.safe_load(open("params.yaml"))["train"]
lr, batch, epochs = float(p["learning_rate"]), int(p["batch_size"]), int(p["epochs"])


def load(path):
    rows = [line.split(",") for line in open(path).read().splitlines()[1:]]
    return [([float(a), float(b)], int(c)) for a, b, c in rows]


def predict(w, x):
    z = w[0] + w[1] * x[0] + w[2] * x[1]
    return 1 / (1 + math.exp(-z))


def loss(w, data):
    eps = 1e-12
    return -sum(y * math.log(predict(w, x) + eps) + (1 - y) * math.log(1 - predict(w, x) + eps)
                for x, y in data) / len(data)


train, val = load("data/processed/train.csv"), load("data/processed/val.csv")
w = [0.0, 0.0, 0.0]
for _ in range(epochs * 50):  # 50 passes per "epoch": a tiny logistic regression needs a few
    for i in range(0, len(train), batch):
        chunk = train[i:i + batch]
        g = [0.0, 0.0, 0.0]
        for x, y in chunk:
            e = predict(w, x) - y
            g[0] += e
            g[1] += e * x[0]
            g[2] += e * x[1]
        w = [wi - lr * 1000 * gi / len(chunk) for wi, gi in zip(w, g)]
acc = sum((predict(w, x) > 0.5) == bool(y) for x, y in val) / max(1, len(val))
os.makedirs("models/final", exist_ok=True)
with open("models/final/model.pth", "w") as f:
    json.dump({"weights": [round(v, 10) for v in w]}, f)
os.makedirs("outputs/metrics", exist_ok=True)
with open("outputs/metrics/train_metrics.json", "w") as f:
    json.dump({"train_loss": round(loss(w, train), 6), "val_accuracy": round(acc, 6)}, f)
log_run("train")
'''

EVALUATE = '''
import json, math

w = json.load(open("models/final/model.pth"))["weights"]
rows = [line.split(",") for line in open("data/processed/test.csv").read().splitlines()[1:]]
data = [([float(a), float(b)], int(c)) for a, b, c in rows]
correct = 0
for x, y in data:
    z = w[0] + w[1] * x[0] + w[2] * x[1]
    correct += (1 / (1 + math.exp(-z)) > 0.5) == bool(y)
os.makedirs("outputs/metrics", exist_ok=True)
with open("outputs/metrics/test_metrics.json", "w") as f:
    json.dump({"accuracy": round(correct / len(data), 6), "n": len(data)}, f)
log_run("evaluate")
'''

GUIDE_DVC_YAML = """\
stages:
  download:
    cmd: python src/data/download.py
    outs:
      - data/raw/dataset.zip

  preprocess:
    cmd: python src/data/preprocess.py
    deps:
      - data/raw/dataset.zip
      - src/data/preprocess.py
    params:
      - preprocess.train_split
      - preprocess.val_split
    outs:
      - data/processed/train.csv
      - data/processed/val.csv
      - data/processed/test.csv

  train:
    cmd: python src/training/train.py
    deps:
      - data/processed/train.csv
      - data/processed/val.csv
      - src/training/train.py
    params:
      - train.learning_rate
      - train.batch_size
      - train.epochs
    outs:
      - models/final/model.pth
    metrics:
      - outputs/metrics/train_metrics.json:
          cache: false

  evaluate:
    cmd: python src/evaluation/evaluate.py
    deps:
      - data/processed/test.csv
      - models/final/model.pth
      - src/evaluation/evaluate.py
    metrics:
      - outputs/metrics/test_metrics.json:
          cache: false
"""

GUIDE_PARAMS = """\
preprocess:
  train_split: 0.8
  val_split: 0.1
  max_length: 512

train:
  learning_rate: 2e-5
  batch_size: 32
  epochs: 3
  warmup_steps: 500
"""

GUIDE_STAGES = ["download", "preprocess", "train", "evaluate"]


def write(base: Path, rel: str, text: str) -> Path:
    p = base / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def script(body: str) -> str:
    return LOG_PRELUDE + textwrap.dedent(body)


def write_guide_pipeline(repo: Path) -> None:
    """The lab guide's pipeline (dvc.yaml and params.yaml verbatim) with small real scripts."""
    write(repo, "dvc.yaml", GUIDE_DVC_YAML)
    write(repo, "params.yaml", GUIDE_PARAMS)
    write(repo, "src/data/download.py", script(DOWNLOAD))
    write(repo, "src/data/preprocess.py", script(PREPROCESS))
    write(repo, "src/training/train.py", script(TRAIN))
    write(repo, "src/evaluation/evaluate.py", script(EVALUATE))


def set_param(repo: Path, old: str, new: str) -> None:
    p = repo / "params.yaml"
    text = p.read_text()
    assert text.count(old) == 1, f"{old!r} not found exactly once in params.yaml"
    p.write_text(text.replace(old, new))


def runs(runlog: Path) -> list[tuple[str, float, float]]:
    """(stage, start, end) of every stage script run so far, in order of completion."""
    if not runlog.exists():
        return []
    out = []
    for line in runlog.read_text().splitlines():
        name, start, end, _pid = line.split()
        out.append((name, float(start), float(end)))
    return out


def run_ancestry(runlog: Path) -> dict[str, list[int]]:
    """stage -> [pid of its script, parent pid, grandparent pid, ...] (its last run)."""
    if not runlog.exists():
        return {}
    return {
        line.split()[0]: [int(p) for p in line.split()[3].split(",")] for line in runlog.read_text().splitlines()
    }


# A generic stage script: `python step.py NAME OUT [IN ...] [--sleep S] [--fail]` writes OUT from
# its inputs' bytes, after sleeping S seconds; --fail exits 3 after writing a partial OUT. On start
# it appends "<name> <pid>" to $PIPE_RUNLOG.started.
STEP = '''
import hashlib
args = sys.argv[1:]
sleep = 0.0
fail = "--fail" in args
if fail:
    args.remove("--fail")
if "--sleep" in args:
    i = args.index("--sleep")
    sleep = float(args[i + 1])
    del args[i:i + 2]
name, out, *inputs = args
if os.environ.get("PIPE_RUNLOG"):
    with open(os.environ["PIPE_RUNLOG"] + ".started", "a") as f:
        f.write(f"{name} {os.getpid()}\\n")
time.sleep(sleep)
h = hashlib.md5()
for path in inputs:
    h.update(open(path, "rb").read())
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
with open(out, "w") as f:
    f.write(f"{name} from {inputs} {h.hexdigest()}\\n")
    if fail:
        f.write("partial\\n")
log_run(name)
if fail:
    sys.exit(3)
'''


# a -> b -> c on one branch, x -> y on another; b and x come before c and y in definition order.
TWO_BRANCHES = """\
stages:
  a:
    cmd: python step.py a out/a.txt seed.txt
    deps: [seed.txt]
    outs: [out/a.txt]
  b:
    cmd: python step.py b out/b.txt out/a.txt{b_flags}
    deps: [out/a.txt]
    outs: [out/b.txt]
  x:
    cmd: python step.py x out/x.txt other.txt
    deps: [other.txt]
    outs: [out/x.txt]
  c:
    cmd: python step.py c out/c.txt out/b.txt
    deps: [out/b.txt]
    outs: [out/c.txt]
  y:
    cmd: python step.py y out/y.txt out/x.txt
    deps: [out/x.txt]
    outs: [out/y.txt]
"""



def write_two_branches(repo: Path, b_flags: str = "") -> None:
    write(repo, "dvc.yaml", TWO_BRANCHES.format(b_flags=b_flags))
    write(repo, "seed.txt", "seed 1\n")
    write(repo, "other.txt", "other 1\n")
    write_step_script(repo)


def write_step_script(repo: Path) -> None:
    write(repo, "step.py", script(STEP))


def started_order(runlog: Path) -> list[str]:
    """Names of the step.py runs that started, in the order they started."""
    p = Path(str(runlog) + ".started")
    return [line.split()[0] for line in p.read_text().splitlines()] if p.exists() else []


def started(runlog: Path) -> dict[str, int]:
    """stage -> pid, for every step.py run that has started (finished or not)."""
    p = Path(str(runlog) + ".started")
    if not p.exists():
        return {}
    return {line.split()[0]: int(line.split()[1]) for line in p.read_text().splitlines()}


def ran_names(runlog: Path) -> list[str]:
    return [r[0] for r in runs(runlog)]


def clear_log(runlog: Path) -> None:
    for p in (runlog, Path(str(runlog) + ".started")):
        if p.exists():
            p.unlink()


def repro_json(lv: Runner, *args: str, check: bool = True, cwd: Path | None = None) -> list[dict[str, Any]]:
    proc = lv("repro", "--json", *args, check=check, cwd=cwd)
    data = json.loads(proc.stdout)
    assert isinstance(data, list), proc.stdout
    return data


def actions(result: list[dict[str, Any]]) -> dict[str, str]:
    return {r["address"]: r["action"] for r in result}


def by_action(result: list[dict[str, Any]], action: str) -> list[str]:
    return [r["address"] for r in result if r["action"] == action]


def lv_stage_status(lv: Runner, cwd: Path | None = None) -> dict[str, dict[str, Any]]:
    data = json.loads(lv("status", "--json", cwd=cwd).stdout)
    return {s["address"]: s for s in data["stages"]}


def copy_repo(src: Path, dst: Path) -> Path:
    """A copy of a repo (git history included), as a fresh clone on another machine would be."""
    shutil.copytree(src, dst, symlinks=True)
    return dst


def mtimes(repo: Path, rels: list[str]) -> dict[str, int]:
    return {r: os.stat(repo / r).st_mtime_ns for r in rels}


def git_init(repo: Path, env: dict[str, str]) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, env=env, check=True)
