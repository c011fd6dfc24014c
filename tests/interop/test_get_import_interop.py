"""``get``, ``import`` and ``update`` side by side with the real dvc: the same downloaded bytes, the
same import ``.dvc`` file, and each tool reading and updating the other's imports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import Runner, snapshot
from tests.interop._support import DIR_TREE, commit_all, under

pytestmark = pytest.mark.interop


@pytest.fixture
def source(tmp_path: Path, env: dict[str, str], make_tree) -> tuple[Path, Runner, Runner]:  # type: ignore[no-untyped-def]
    """A source repository (made by labvault) with two commits, tag v1, pushed to a folder remote."""
    src = tmp_path / "src"
    src.mkdir()
    git = Runner(["git"], src, env)
    lv = Runner([str(Path(__import__("sys").executable).parent / "labvault")], src, env)
    git("init", "-q", "-b", "main")
    lv("init")
    lv("remote", "add", "-d", "store", str(tmp_path / "store"))
    make_tree(src, {**under("data/dir", DIR_TREE), "data/a.txt": "v1\n"})
    lv("add", "data/dir", "data/a.txt")
    commit_all(git, "v1")
    git("tag", "v1")
    make_tree(src, {"data/a.txt": "v2 longer\n", "data/dir/new.txt": "new\n"})
    lv("add", "data/dir", "data/a.txt")
    commit_all(git, "v2")
    lv("push", "--all-commits")
    return src, git, lv


def test_get_of_a_folder_equals_dvc_get(source, tmp_path: Path, lv: Runner, dvc: Runner, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    src = source[0]
    for rev in ("v1", "main"):
        lv("get", f"file://{src}", "data/dir", "-o", f"lv-{rev}", "--rev", rev)
        dvc("get", str(src), "data/dir", "-o", f"dvc-{rev}", "--rev", rev)
        assert snapshot(workdir / f"lv-{rev}") == snapshot(workdir / f"dvc-{rev}")
        assert snapshot(workdir / f"lv-{rev}")
    lv("get", str(src), "data/a.txt", "-o", "a-lv")
    dvc("get", str(src), "data/a.txt", "-o", "a-dvc")
    assert (workdir / "a-lv").read_bytes() == (workdir / "a-dvc").read_bytes() == b"v2 longer\n"


def _two_repos(tmp_path: Path, env: dict[str, str], name: str) -> tuple[Path, Runner]:
    d = tmp_path / name
    d.mkdir()
    g = Runner(["git"], d, env)
    g("init", "-q", "-b", "main")
    return d, g


def _destinations(tmp_path: Path, env: dict[str, str]) -> tuple[Path, Runner, Path, Runner]:
    """Two empty repositories beside the source: labvault's and dvc's, each initialised by its tool."""
    import sys

    from tests.conftest import dvc_oracle_path

    lvd, _ = _two_repos(tmp_path, env, "lvdst")
    dvd, _ = _two_repos(tmp_path, env, "dvcdst")
    lv = Runner([str(Path(sys.executable).parent / "labvault")], lvd, env)
    dvc = Runner([str(dvc_oracle_path())], dvd, env)
    lv("init")
    dvc("init", "-q")
    return lvd, lv, dvd, dvc


def test_import_writes_what_dvc_import_writes(source, tmp_path: Path, env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    lvd, lv, dvd, dvc = _destinations(tmp_path, env)
    for args in (["../src", "data/a.txt", "--rev", "v1"], ["../src", "data/dir", "-o", "d2"]):
        lv("import", *args)
        dvc("import", *args)
    for name in ("a.txt.dvc", "d2.dvc", ".gitignore"):
        assert (lvd / name).read_text() == (dvd / name).read_text(), name
    assert snapshot(lvd / "d2") == snapshot(dvd / "d2")
    assert (lvd / "a.txt").read_bytes() == b"v1\n"


def test_dvc_reads_and_updates_labvault_imports(source, tmp_path: Path, env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    import sys

    from tests.conftest import dvc_oracle_path

    dst, git = _two_repos(tmp_path, env, "dst")
    lv = Runner([str(Path(sys.executable).parent / "labvault")], dst, env)
    dvc = Runner([str(dvc_oracle_path())], dst, env)
    lv("init")
    lv("import", "../src", "data/a.txt", "--rev", "v1")
    lv("import", "../src", "data/dir", "-o", "d2", "--rev", "v1")
    commit_all(git, "imports")
    assert json.loads(dvc("status", "--json").stdout) == {}
    # dvc pulls an import by downloading from its source again
    shutil.rmtree(dst / "d2")
    (dst / "a.txt").unlink()
    shutil.rmtree(dst / ".dvc" / "cache", ignore_errors=True)
    dvc("pull")
    assert (dst / "a.txt").read_bytes() == b"v1\n"
    assert snapshot(dst / "d2") == {k[len("data/dir/"):]: v.encode() if isinstance(v, str) else v
                                    for k, v in under("data/dir", DIR_TREE).items()}
    dvc("update", "a.txt.dvc", "--rev", "main")
    assert (dst / "a.txt").read_bytes() == b"v2 longer\n"
    assert json.loads(dvc("status", "--json").stdout) == {}


def test_labvault_updates_dvc_imports(source, tmp_path: Path, env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    import sys

    from tests.conftest import dvc_oracle_path

    dst, git = _two_repos(tmp_path, env, "dst")
    lv = Runner([str(Path(sys.executable).parent / "labvault")], dst, env)
    dvc = Runner([str(dvc_oracle_path())], dst, env)
    dvc("init", "-q")
    dvc("import", "../src", "data/dir", "-o", "d2", "--rev", "v1")
    dvc("import", "../src", "data/a.txt", "--rev", "v1")
    commit_all(git, "imports")
    assert json.loads(lv("status", "--json").stdout).get("clean", True)
    out = json.loads(lv("update", "--rev", "main", "--json").stdout)
    assert {r["pointer"] for r in out if r["changed"]} == {"a.txt.dvc", "d2.dvc"}
    assert (dst / "a.txt").read_bytes() == b"v2 longer\n"
    assert (dst / "d2" / "new.txt").read_bytes() == b"new\n"
    # what labvault wrote is what dvc would have written for the same update
    mine = {n: (dst / n).read_text() for n in ("a.txt.dvc", "d2.dvc")}
    commit_all(git, "lv update")
    dvc("update", "a.txt.dvc", "d2.dvc", "--rev", "main")
    assert {n: (dst / n).read_text() for n in mine} == mine
    assert json.loads(dvc("status", "--json").stdout) == {}


def test_imports_recorded_without_data(source, tmp_path: Path, env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """``import --no-exec`` and ``--no-download`` write dvc's bytes (no md5 and no ``rev_lock``;
    both but no output hash); ``fetch`` then ``checkout``, or ``pull``, bring the locked commit's
    data from the source's remote (dvc does the same); the ``.dvc`` files stay as they were; and
    ``update`` records what dvc's ``update`` records. A path the source does not track is refused
    by ``--no-download`` (dvc writes the file anyway)."""
    lvd, lv, dvd, dvc = _destinations(tmp_path, env)
    imports = (["--no-download", "../src", "data/a.txt", "--rev", "v1"], ["--no-download", "../src", "data/dir", "-o", "d2"],
               ["--no-exec", "../src", "data/a.txt", "-o", "later.txt"])
    for args in imports:
        lv("import", *args)
        dvc("import", *args)
    names = ["a.txt.dvc", "d2.dvc", "later.txt.dvc"]
    for name in [*names, ".gitignore"]:
        assert (lvd / name).read_text() == (dvd / name).read_text(), name
    before = {name: (lvd / name).read_bytes() for name in names}
    assert not (lvd / "a.txt").exists() and not (lvd / "d2").exists()
    r = lv("import", "--no-download", "../src", "data/none.txt", check=False)
    assert r.returncode == 2 and "not tracked" in r.stderr and not (lvd / "none.txt.dvc").exists()

    lv("fetch", "a.txt.dvc")
    assert not (lvd / "a.txt").exists()
    lv("checkout", "a.txt.dvc")
    lv("pull", "d2.dvc")
    dvc("pull", "a.txt.dvc", "d2.dvc")
    assert (lvd / "a.txt").read_bytes() == (dvd / "a.txt").read_bytes() == b"v1\n"
    assert snapshot(lvd / "d2") == snapshot(dvd / "d2") != {}
    assert {name: (lvd / name).read_bytes() for name in names} == before
    r = lv("pull", "later.txt.dvc", check=False)  # no locked commit: nothing to fetch, as dvc fails
    assert r.returncode == 1 and "`labvault update later.txt.dvc` imports it" in r.stderr
    lv("update", *names)
    dvc("update", *names)
    for name in names:
        assert (lvd / name).read_text() == (dvd / name).read_text(), name
    assert (lvd / "later.txt").read_bytes() == b"v2 longer\n"
