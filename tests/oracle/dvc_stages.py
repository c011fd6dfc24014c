"""Oracle: the stages the real dvc resolves from a repository's dvc.yaml files.

Run it with the interpreter of the dvc virtual environment, in or on a repository::

    .venv-dvc/bin/python tests/oracle/dvc_stages.py REPO [REPO ...]

It prints one JSON object: repo path as given -> (stage address -> {"cmd", "wdir", "deps",
"outs", "params"}), where
``cmd`` is a string or a list as written after templating, ``wdir`` is relative to the repo,
``deps`` and ``outs`` are the paths as written in the stage, and ``params`` maps each params file
to its sorted keys. A repo that fails to load maps to {"error": "<type>: <message>"}.
"""

from __future__ import annotations

import json
import os
import sys


def stages_of(root: str) -> dict:
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    os.chdir(root)  # dvc names stages of nested dvc.yaml files relative to the working folder
    try:
        repo = Repo(root)
        stages = list(repo.index.stages)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    out = {}
    for stage in stages:
        if not getattr(stage, "cmd", None):
            continue  # .dvc files are not pipeline stages
        params: dict[str, list[str]] = {}
        deps = []
        for d in stage.deps:
            if isinstance(d, ParamsDependency):
                params[os.path.relpath(d.fs_path, root)] = sorted(d.params)
            else:
                deps.append(d.def_path)
        out[stage.addressing] = {
            "cmd": stage.cmd,
            "wdir": os.path.relpath(stage.wdir, root),
            "deps": deps,
            "outs": [o.def_path for o in stage.outs],
            "params": params,
        }
    return out


def main() -> int:
    roots = sys.argv[1:] or ["."]
    print(json.dumps({r: stages_of(os.path.abspath(r)) for r in roots}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
