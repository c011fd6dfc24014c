"""``import-url --to-remote`` and ``add --to-remote``, side by side with dvc: the data goes
straight to the remote (nothing in the cache, nothing in the workspace), the ``.dvc`` files and
``.gitignore`` are byte for byte dvc's, the remotes hold the same objects, and each tool pulls
what the other sent. Bad combinations fail in both tools and write nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.interop


def _objects(root: Path) -> set[str]:
    base = root / "files" / "md5"
    return {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()} if base.is_dir() else set()


def _source(base: Path) -> Path:
    src = base / "src"
    (src / "folder" / "sub").mkdir(parents=True)
    (src / "folder" / "a.txt").write_text("one\n")
    (src / "folder" / "sub" / "b.bin").write_bytes(bytes(range(256)) * 50)
    (src / "f.txt").write_text("file\n")
    return src


def test_to_remote_writes_dvcs_files_and_objects(sbs: SideBySide) -> None:
    src = _source(sbs.base)
    remotes = sbs.base / "lv-remote", sbs.base / "dvc-remote"
    sbs.run_ok("remote", "add", "-d", "r", str(remotes[1]), lv_args=["remote", "add", "-d", "r", str(remotes[0])])
    sbs.git_commit("remote")
    sbs.run_ok("import-url", "--to-remote", str(src / "folder"), "data")
    sbs.run_ok("import-url", "--to-remote", "../src/f.txt")  # recorded relative, as given
    sbs.run_ok("add", "--to-remote", str(src / "f.txt"), "-o", "g.txt")
    for name in ("data.dvc", "f.txt.dvc", "g.txt.dvc", ".gitignore"):
        lv, dvc = sbs.read(name)
        assert lv == dvc, (name, lv.decode(), dvc.decode())
    assert _objects(remotes[0]) == {p for p in _objects(remotes[1]) if not p.startswith(".")}
    assert len(_objects(remotes[0])) == 4  # a.txt, b.bin, the manifest, f.txt (g.txt is the same bytes)
    for root in sbs.roots:
        assert not _objects(root / ".dvc" / "cache")
        assert not any((root / n).exists() for n in ("data", "f.txt", "g.txt"))
    assert not list((sbs.lv_root / ".dvc" / "tmp").glob("to-remote-*"))  # the staging is gone

    # each tool pulls what the other sent
    for root, other in ((sbs.lv_root, remotes[1]), (sbs.dvc_root, remotes[0])):
        config = root / ".dvc" / "config"
        config.write_text(config.read_text().replace(str(remotes[0] if other == remotes[1] else remotes[1]),
                                                     str(other)))
    sbs.run_ok("pull")
    for root in sbs.roots:
        assert (root / "data" / "a.txt").read_text() == "one\n"
        assert (root / "data" / "sub" / "b.bin").read_bytes() == bytes(range(256)) * 50
        assert (root / "f.txt").read_text() == (root / "g.txt").read_text() == "file\n"
    lv, dvc = sbs.run_ok("status")
    assert "up to date" in lv.stdout, lv.stdout


@pytest.mark.parametrize("args", [["import-url", "--to-remote", "--no-download"],
                                  ["import-url", "--to-remote", "--no-exec"],
                                  ["import-url", "-r", "r"],
                                  ["import-url", "--to-remote", "-r", "nowhere"],
                                  ["add", "--to-remote", "-r", "nowhere"]])
def test_bad_combinations_write_nothing(sbs: SideBySide, args: list[str]) -> None:
    src = _source(sbs.base)
    remotes = sbs.base / "lv-remote", sbs.base / "dvc-remote"
    sbs.run_ok("remote", "add", "-d", "r", str(remotes[1]), lv_args=["remote", "add", "-d", "r", str(remotes[0])])
    target = [str(src / "f.txt"), "-o", "out.txt"] if args[0] == "add" else [str(src / "f.txt"), "out.txt"]
    lv, dvc = sbs.run(*args, *target)
    assert lv.returncode != 0 and dvc.returncode != 0, (lv.stdout, lv.stderr, dvc.stdout, dvc.stderr)
    assert len(lv.stderr.strip().splitlines()) == 1, lv.stderr
    for root in sbs.roots:
        assert not (root / "out.txt.dvc").exists() and not (root / "out.txt").exists()
    assert not _objects(remotes[0])
    shutil.rmtree(src)
