"""``list URL [PATH]`` and ``du``, side by side with dvc on generated repositories: files git holds
(some executable, some in folders), outputs tracked by ``.dvc`` files (files and folders, in the root
and in sub-folders, a folder's sub-folders), at HEAD and in the workspace, with some data deleted from
the workspace, then reached as a git URL (a clone). The JSON of every listing is compared as data;
the text of ``--size``, ``--show-hash`` and ``--tree`` line by line. Links are listed apart, by
``list`` only: dvc's ``du`` follows a link to a folder (and fails on a broken one), where labvault
counts the link as a file, as both tools' ``list`` shows it; and dvc exits 1 when a broken link is
named as the PATH, which labvault lists."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from tests.sidebyside.harness import SideBySide, parse_json

pytestmark = pytest.mark.interop


def _blob(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefgh\n") for _ in range(rng.choice([0, 1, 30, 700, 1500, 5000])))


def _build(sbs: SideBySide, rng: random.Random) -> tuple[list[str], list[str]]:
    """Git files and tracked outputs; returns (every path a listing may be asked about, the outputs)."""
    files: dict[str, str] = {}
    for i in range(rng.randint(2, 5)):
        folder = rng.choice(["", "src/", "src/lib/", "docs/"])
        files[f"{folder}g{i}.txt"] = _blob(rng)
    outputs: list[str] = []
    for i in range(rng.randint(1, 3)):  # tracked folders with sub-folders
        base = rng.choice(["", "data/", "data/raw/"]) + f"set{i}"
        for j in range(rng.randint(1, 4)):
            files[f"{base}/{rng.choice(['', 'a/', 'a/b/'])}f{j}.bin"] = _blob(rng)
        outputs.append(base)
    for i in range(rng.randint(0, 2)):  # tracked files
        rel = rng.choice(["", "models/", "data/"]) + f"m{i}.pt"
        files[rel] = _blob(rng)
        outputs.append(rel)
    sbs.write(files)
    for root in sbs.roots:
        script = root / "src" / "run.sh"
        script.parent.mkdir(exist_ok=True)
        script.write_text("#!/bin/sh\necho hi\n")
        script.chmod(0o755)
    sbs.run_ok("add", *outputs)
    sbs.git("add", "-A")
    sbs.git_commit("data")
    folders = {os.path.dirname(p) for p in files} | {p for p in outputs}
    paths = sorted(folders | set(files) | {"src/run.sh", f"{outputs[0]}.dvc"} - {""})
    return paths, outputs


def _compare(sbs: SideBySide, paths: list[str], rng: random.Random, step: str, rev: list[str]) -> None:
    for path in [None, *rng.sample(paths, min(3, len(paths)))]:
        where = ["."] + ([path] if path else []) + rev
        # two of the JSON listings and one drawing per path, chosen by the seed (seeds 1-8 were run with all)
        for flags in rng.sample([[], ["-R"], ["-R", "--dvc-only"], ["--dvc-only", "-R", "-L", "2"]], 2):
            got, want = (parse_json(p) for p in sbs.run_ok("list", *where, *flags, "--json"))
            assert got == want, f"{step}: list {' '.join(where + flags)}\nlabvault: {got}\ndvc:      {want}"
        for flags in rng.sample([["-R", "--size", "--show-hash"], ["--tree", "-L", "2", "--size"], ["--tree", "--dvc-only"]], 1):
            lv, dvc = sbs.run_ok("list", *where, *flags)
            assert _lines(lv.stdout) == _lines(dvc.stdout), f"{step}: list {' '.join(where + flags)}"
        lv, dvc = sbs.run_ok("du", *where, *(["-s"] if path is None else []))
        assert sorted(_lines(lv.stdout)) == sorted(_lines(dvc.stdout)), f"{step}: du {' '.join(where)}"


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("seed", [2, 5])  # seeds 1-8 checked by hand (every combination)
def test_list_and_du_agree_with_dvc(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    sbs = SideBySide(tmp_path)
    paths, outputs = _build(sbs, rng)
    _compare(sbs, paths, rng, "workspace", [])
    _compare(sbs, paths, rng, "HEAD", ["--rev", "HEAD"])
    # the same repository as a git URL (a clone: no workspace, no cache), both tools on dvc's copy
    url = f"file://{sbs.dvc_root}"
    for flags in ([], ["--size"]):
        lv, dvc = sbs.lv("list", url, *flags, "--json"), sbs.dvc("list", url, *flags, "--json")
        assert lv.returncode == dvc.returncode == 0, (lv.stderr, dvc.stderr)
        assert parse_json(lv) == parse_json(dvc), f"list {url} {flags}"
    gone = rng.choice(outputs)
    for root in sbs.roots:
        shutil.rmtree(root / gone) if (root / gone).is_dir() else (root / gone).unlink()
    _compare(sbs, paths, rng, f"workspace without {gone}", [])


def test_links_are_entries_not_folders(sbs: SideBySide) -> None:
    sbs.write({"a/f.txt": "f\n"})
    for root in sbs.roots:
        (root / "a" / "up").symlink_to("..")
        (root / "to-file").symlink_to("a/f.txt")
        (root / "broken").symlink_to("nowhere")
    for args in ([], ["-R"], ["a"], ["-R", "--size"]):
        got, want = (parse_json(p) for p in sbs.run_ok("list", ".", *args, "--json"))
        assert got == want, f"list . {' '.join(args)}\nlabvault: {got}\ndvc:      {want}"
    assert {e["path"] for e in got} >= {"broken", "to-file", "a/up"}
