"""``data status``, side by side on generated histories: after each step, the same committed and
uncommitted changes, objects not in cache, unchanged and untracked files as the real dvc, per
output and (``--granular``) per file. dvc lists each kind in no fixed order: compared as sets."""

from __future__ import annotations

import hashlib
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.sidebyside.gen import W_PY
from tests.sidebyside.harness import SideBySide, parse_json

pytestmark = pytest.mark.interop

PIPELINE = """\
stages:
  make:
    cmd: python w.py made.txt dir:made -- seed.txt
    deps: [seed.txt]
    outs: [made.txt, made]
  never:
    cmd: python w.py never.txt
    outs: [never.txt]
"""


def _canon(data: Any) -> Any:
    """Lists as sorted lists (renames as sorted pairs), recursively."""
    if isinstance(data, dict):
        if set(data) == {"old", "new"}:
            return (data["old"], data["new"])
        return {k: _canon(v) for k, v in data.items()}
    if isinstance(data, list):
        return sorted((_canon(v) for v in data), key=repr)
    return data


TARGETED = (["d/sub", "x.txt", "--granular", "--unchanged"], ["d", "made", "--untracked-files"], ["d/sub"],
            ["d/a.txt", "y.txt", "--granular", "--unchanged", "--untracked-files"])


def _compare(sbs: SideBySide, step: str, targeted: bool = False) -> None:
    """Targets (paths limiting every list) on some histories only: each comparison runs both tools."""
    for flags in ([], ["--granular"], ["--unchanged", "--untracked-files"], ["--granular", "--unchanged"],
                  *(TARGETED if targeted else ())):
        lv, dvc = sbs.run_ok("data", "status", "--json", *flags)
        got, want = _canon(parse_json(lv)), _canon(parse_json(dvc))
        assert got == want, f"after {step}, data status {' '.join(flags)}\nlabvault: {got}\ndvc:      {want}"


def _drop_object(sbs: SideBySide, content: bytes) -> None:
    digest = hashlib.md5(content).hexdigest()
    for root in sbs.roots:
        obj = root / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]
        if obj.exists():
            obj.chmod(0o644)
            obj.unlink()


def _step(sbs: SideBySide, rng: random.Random, n: int) -> str:
    kind = rng.choice(["edit", "new file", "drop file", "rename", "add", "commit", "git commit", "drop object",
                       "repro", "seed"])
    name = rng.choice(["d/a.txt", "d/b.txt", "d/sub/c.txt", "x.txt", "y.txt"])
    lv_root = sbs.lv_root
    if kind == "edit" and (lv_root / name).exists():
        sbs.write({name: f"{name} {n}\n"})
    elif kind == "new file":
        sbs.write({rng.choice(["d/new.txt", "d/sub/n.txt", "loose.txt"]): f"new {n}\n"})
    elif kind == "drop file" and (lv_root / name).is_file():
        sbs.remove(name)
    elif kind == "rename" and (lv_root / name).is_file() and name.startswith("d/"):
        for root in sbs.roots:
            (root / name).rename(root / (name + ".moved"))
    elif kind == "add":
        # A file git tracks by now is refused by both, but dvc adds the targets before it and labvault
        # changes nothing: only targets git does not track, so both succeed.
        in_git = set(subprocess.run(["git", "ls-files"], cwd=lv_root, capture_output=True, text=True,
                                    check=True).stdout.split())
        targets = [t for t in ("d", "x.txt", "y.txt") if (lv_root / t).exists() and t not in in_git]
        if targets:
            sbs.run_ok("add", *rng.sample(targets, rng.randint(1, len(targets))))
    elif kind == "commit":
        if any((lv_root / p).exists() for p in ("d.dvc", "x.txt.dvc", "y.txt.dvc")):
            pointers = [p for p in ("d.dvc", "x.txt.dvc", "y.txt.dvc") if (lv_root / p).exists()]
            lv, dvc = sbs.run("commit", "-f", *pointers)
            assert (lv.returncode == 0) == (dvc.returncode == 0), (lv.stderr, dvc.stderr)
    elif kind == "git commit":
        sbs.git_commit(f"step {n}")
    elif kind == "drop object" and (lv_root / name).is_file():
        _drop_object(sbs, (lv_root / name).read_bytes())
    elif kind == "repro":
        sbs.run_ok("repro", "make")
    elif kind == "seed":
        sbs.write({"seed.txt": f"{n}\n"})
    return f"{kind} {name}"


@pytest.mark.parametrize("seed", range(4))
def test_generated_histories(sbs: SideBySide, seed: int) -> None:
    rng = random.Random(seed)
    sbs.write({"w.py": W_PY, "seed.txt": "0\n", "dvc.yaml": PIPELINE, ".gitignore": "__pycache__/\n"})
    if seed % 2:
        sbs.git_commit("start")  # even seeds: the first steps run in a repository without commits
    sbs.write({"d/a.txt": "a\n", "d/b.txt": "b\n", "d/sub/c.txt": "c\n", "x.txt": "x\n", "y.txt": "y\n"})
    sbs.run_ok("add", "d", "x.txt")
    _compare(sbs, "the first add", targeted=seed < 2)
    for n in range(8):
        step = _step(sbs, rng, n)
        _compare(sbs, f"step {n}: {step}", targeted=seed < 2 and n % 2 == seed)  # every other step
    assert Path(sbs.lv_root, "d.dvc").exists()
