"""A stage script for generated pipelines: ``python w.py SPEC...`` writes each output SPEC from the
bytes of the files named after ``--``. SPEC is ``PATH`` (a text file), ``dir:PATH`` (a folder with
two files) or ``json:PATH`` (a metrics file ``{"score": n, "n": k}``)."""

from __future__ import annotations

import json
import random
from typing import Any

import yaml

W_PY = '''\
import hashlib, json, os, sys
args = sys.argv[1:]
inputs = args[args.index("--") + 1:] if "--" in args else []
outs = args[:args.index("--")] if "--" in args else args
h = hashlib.md5()
for path in inputs:
    if os.path.isdir(path):
        for root, _, files in sorted(os.walk(path)):
            for name in sorted(files):
                h.update(open(os.path.join(root, name), "rb").read())
    else:
        h.update(open(path, "rb").read())
digest = h.hexdigest()
for spec in outs:
    kind, _, path = spec.rpartition(":")
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    if kind == "dir":
        os.makedirs(path, exist_ok=True)
        for name in ("a.txt", "sub/b.txt"):
            os.makedirs(os.path.dirname(os.path.join(path, name)), exist_ok=True)
            open(os.path.join(path, name), "w").write(f"{name} {digest}\\n")
    elif kind == "json":
        json.dump({"score": int(digest[:4], 16) / 65536, "n": len(inputs)}, open(path, "w"))
    else:
        open(path, "w").write(f"{path} {digest}\\n")
'''


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def templated(seed: int) -> dict[str, str]:
    """A generated templated pipeline: ``foreach`` over a list (of values or of mappings) or a mapping (from params.yaml, a
    ``vars`` file or inline ``vars``), a ``matrix`` (over lists, or a variable holding a mapping),
    outputs written plainly or as mapping keys with options (cache, persist; metrics, plots), an
    optional ``wdir``, params read from params.yaml and another file, and a last stage depending on
    the folder the templated stages write into. Commands stay short: dvc wraps a long ``cmd``
in dvc.lock, a separate concern. Deterministic for a seed."""
    rng = random.Random(seed)
    names = rng.sample(["a", "b", "cnn", "rnn", "x1", "big-one", "small_2"], rng.randint(1, 3))
    source = rng.choice(["params-list", "params-map", "params-dicts", "vars-file", "vars-inline", "vars-key"])
    params: dict[str, Any] = {"lr": rng.choice([0.1, 1e-05, 3]), "train": {"epochs": rng.randint(1, 9)}}
    extra = {"opt": {"momentum": rng.choice([0.5, 0.9]), "nesterov": rng.choice([True, False])}, "unused": 1}
    top_vars: list[Any] = []
    files: dict[str, str] = {"w.py": W_PY}
    if source == "params-list":
        params["models"] = names
        iterable = "${models}"
    elif source == "params-map":
        params["models"] = {n: {"size": i + 1} for i, n in enumerate(names)}
        iterable = "${models}"
    elif source == "params-dicts":
        params["models"] = [{"name": n, "size": i + 1} for i, n in enumerate(names)]
        iterable = "${models}"
    elif source == "vars-file":
        files["config/grid.yaml"] = _dump({"grid": {"models": names}})
        top_vars.append("config/grid.yaml")
        iterable = "${grid.models}"
    elif source == "vars-key":
        files["config/grid.json"] = json.dumps({"grid": {"models": names}, "other": 2})
        top_vars.append("config/grid.json:grid")
        iterable = "${grid.models}"
    else:
        top_vars.append({"inline_models": names})
        iterable = "${inline_models}"
    files["params.yaml"] = _dump(params)
    files["config/train.yaml"] = _dump(extra)
    out_form = rng.choice(["plain", "cache-false", "persist"])
    item = {"params-map": "${key}", "params-dicts": "${item.name}"}.get(source, "${item}")
    pred = f"out/{item}/p.txt"
    pred_entry: Any = {pred: {"cache": False}} if out_form == "cache-false" else (
        {pred: {"persist": True}} if out_form == "persist" else pred)
    do: dict[str, Any] = {
        "cmd": f"python w.py {pred} json:out/{item}/m.json -- seed.txt",  # short: one line in dvc.lock
        "deps": ["seed.txt", "w.py"],
        "params": ["lr", {"config/train.yaml": ["opt.momentum"]}],
        "outs": [pred_entry],
        "metrics": [{f"out/{item}/m.json": {"cache": False}}],
    }
    stages: dict[str, Any] = {
        "seed": {"cmd": "python w.py seed.txt", "deps": ["w.py"], "outs": ["seed.txt"]},
        "train": {"foreach": iterable, "do": do},
    }
    if rng.random() < 0.6:
        matrix_over: Any = "${train}" if rng.random() < 0.5 else ["e", "f"]
        stages["grid"] = {
            "matrix": {"opt": matrix_over, "flag": rng.sample(["on", "off", 7], 2)},
            "cmd": "python w.py plots/${item.opt}-${item.flag}.csv",
            "plots": [{"plots/${item.opt}-${item.flag}.csv": {"cache": False, "x": "a"}}],
        }
    if rng.random() < 0.5:
        files["sub/README"] = "stage folder\n"
        stages["report"] = {
            "wdir": "sub", "cmd": "python ../w.py report.txt -- ../out",
            "deps": ["../out"], "params": [{"../config/train.yaml": ["opt.nesterov"]}, "train.epochs"],
            "outs": ["report.txt"],
        }
        files["sub/params.yaml"] = _dump({"train": {"epochs": 1}})
    else:
        stages["report"] = {
            "cmd": "python w.py report.txt -- out", "deps": ["out"],
            "params": ["train.epochs"], "outs": ["report.txt"],
        }
    dvc_yaml: dict[str, Any] = {}
    if top_vars:
        dvc_yaml["vars"] = top_vars
    dvc_yaml["stages"] = stages
    files["dvc.yaml"] = _dump(dvc_yaml)
    return files
