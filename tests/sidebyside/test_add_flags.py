"""``add --no-commit`` and ``add SOURCE -o OUT``, side by side with the real dvc: the same pointer
and ``.gitignore`` bytes, the same status afterwards ("not in cache" until ``commit``), the same
objects in the cache once committed, the same copy at OUT (the source left as it was)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.interop


def _cache(root: Path) -> set[str]:
    cache = root / ".dvc" / "cache"
    # objects only: dvc leaves .NAME.tmp files of its transfers in files/md5/
    return {p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file() and not p.name.startswith(".")} \
        if cache.exists() else set()


def _same(sbs: SideBySide, *rels: str) -> None:
    for rel in rels:
        lv, dvc = sbs.read(rel)
        assert lv == dvc, f"{rel}\nlabvault:\n{lv.decode()}\ndvc:\n{dvc.decode()}"


def test_no_commit_then_commit(sbs: SideBySide) -> None:
    sbs.write({"d/a.txt": "a\n", "d/sub/b.txt": "b\n", "f.txt": "f\n"})
    sbs.run_ok("add", "--no-commit", "d", "f.txt")
    _same(sbs, "d.dvc", "f.txt.dvc", ".gitignore")
    assert _cache(sbs.lv_root) == _cache(sbs.dvc_root) == set()
    lv, dvc = sbs.run("status", "--json")
    assert "not_in_cache" in lv.stdout and "not in cache" in dvc.stdout
    sbs.run_ok("commit", "-f", "d.dvc", "f.txt.dvc")
    assert _cache(sbs.lv_root) == _cache(sbs.dvc_root) and len(_cache(sbs.lv_root)) == 4
    lv, dvc = sbs.run_ok("status")
    assert "up to date" in lv.stdout and "up to date" in dvc.stdout


def test_out_copies_from_outside(sbs: SideBySide, tmp_path: Path) -> None:
    ext = tmp_path / "external"
    (ext / "set" / "deep").mkdir(parents=True)
    (ext / "set" / "x.bin").write_bytes(b"\x00\x01" * 500)
    (ext / "set" / "deep" / "y.txt").write_text("y\n")
    (ext / "labels.csv").write_text("id,label\n1,cat\n")
    sbs.write({"data/.keep": ""})
    sbs.run_ok("add", str(ext / "set"), "-o", "data/set")
    sbs.run_ok("add", str(ext / "labels.csv"), "-o", "data")  # an existing folder: the file goes inside
    _same(sbs, "data/set.dvc", "data/labels.csv.dvc", "data/.gitignore")
    for root in sbs.roots:
        assert (root / "data/set/deep/y.txt").read_text() == "y\n"
        assert (root / "data/labels.csv").read_text() == "id,label\n1,cat\n"
    assert _cache(sbs.lv_root) == _cache(sbs.dvc_root)
    assert (ext / "set" / "x.bin").read_bytes() == b"\x00\x01" * 500  # the source stays
    lv, dvc = sbs.run("add", str(ext / "labels.csv"), "-o", "data/labels.csv")  # there already
    assert lv.returncode != 0 and dvc.returncode != 0
