"""``check-ignore`` side by side with the real dvc on generated ``.dvcignore`` files (root and
nested, negations, anchored and folder patterns, ``**``) and paths (files, folders, paths that do
not exist): the same lines (``-d -n``: the deciding pattern's file, line and text, or ``::``) and
the same exit codes."""

from __future__ import annotations

import random

import pytest

from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.interop

PATTERNS = ["*.log", "!keep.log", "tmp/", "/top.txt", "**/cache", "a/*/c.bin", "*.bin", "!a/b/c.bin", "data/raw/",
            "# a comment", "", "x?.txt", "[ab].csv", "build", "!build/keep.txt", "deep/**/z.txt", "*.tmp", "sub/"]
PATHS = ["top.txt", "a/top.txt", "x1.txt", "a.csv", "c.csv", "app.log", "keep.log", "a/keep.log", "tmp", "tmp/f",
         "a/tmp/g", "a/b/c.bin", "a/q/c.bin", "z.bin", "data/raw/img.png", "data/raw", "data/clean/img.png",
         "build/keep.txt", "build/out.o", "deep/1/2/z.txt", "deep/z.txt", "w/cache/obj", "sub/file.tmp", "s/sub/f"]
FOLDERS = ["", "a", "a/b", "data", "deep/1"]


@pytest.mark.parametrize("seed", range(8))
def test_generated_ignores(sbs: SideBySide, seed: int) -> None:
    rng = random.Random(seed)
    files: dict[str, str] = {}
    for folder in rng.sample(FOLDERS, rng.randint(1, 3)):
        lines = rng.sample(PATTERNS, rng.randint(2, 7))
        files[f"{folder}/.dvcignore" if folder else ".dvcignore"] = "\n".join(lines) + "\n"
    for path in rng.sample(PATHS, 12):  # the others are checked without existing
        files.setdefault(path if not path.endswith(("tmp", "raw")) else path + "/f", "x\n")
    sbs.write(files)
    paths = [*PATHS, "tmp/", "data/raw/"]
    for flags in (["-d", "-n"], [], ["-d"]):
        lv, dvc = sbs.run("check-ignore", *flags, *paths)
        assert (lv.returncode, lv.stdout) == (dvc.returncode, dvc.stdout), (
            f"check-ignore {' '.join(flags)}\n.dvcignore files: {files}\nlabvault:\n{lv.stdout}{lv.stderr}\ndvc:\n{dvc.stdout}")


@pytest.mark.parametrize("seed", range(12))
def test_add_leaves_out_what_dvc_leaves_out(sbs: SideBySide, seed: int) -> None:
    """The walk of ``add`` decides as ``check-ignore`` does: the same files in the folder's manifest
    as dvc's (``ds.dvc`` names the manifest's md5), with patterns in ``.dvcignore`` files above
    the folder (none may be inside it), a negation in the deeper one among them."""
    rng = random.Random(1000 + seed)
    files: dict[str, str] = {}
    for folder in ("", "top"):
        lines = rng.sample(PATTERNS, rng.randint(2, 7))
        files[f"{folder}/.dvcignore" if folder else ".dvcignore"] = "\n".join(lines) + "\n"
    for path in PATHS:
        files["top/ds/" + (path if not path.endswith(("tmp", "raw")) else path + "/f")] = f"{path}\n"
    sbs.write(files)
    sbs.run_ok("add", "top/ds")
    lv, dvc = sbs.read("top/ds.dvc")
    assert lv == dvc, f".dvcignore files: { {k: v for k, v in files.items() if k.endswith('.dvcignore')} }"
