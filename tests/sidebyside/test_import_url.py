"""``import-url`` and ``update`` of URL imports, side by side with the real dvc: a local file and
folder, and objects in S3 (moto). The same ``.dvc`` and ``.gitignore`` bytes after the import and
after the source changed and both updated; each tool reads the other's files (an ``update``
with nothing changed leaves them as they are)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.services import S3Server
from tests.sidebyside.harness import SideBySide, describe

pytestmark = pytest.mark.interop


def _same(sbs: SideBySide, *rels: str) -> None:
    for rel in rels:
        lv, dvc = sbs.read(rel)
        assert lv == dvc, f"{rel} differs\nlabvault:\n{lv!r}\ndvc:\n{dvc!r}"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _sorted_lists(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _sorted_lists(v) for k, v in data.items()}
    return sorted(data) if isinstance(data, list) else data


def _sources(tmp_path: Path) -> Path:
    """A source file ``labels.csv`` and a folder ``set`` (``a.txt``, ``sub/b.txt``) to import."""
    src = tmp_path / "src"
    (src / "set" / "sub").mkdir(parents=True)
    (src / "labels.csv").write_text("id,label\n1,cat\n")
    (src / "set" / "a.txt").write_text("a\n")
    (src / "set" / "sub" / "b.txt").write_text("b\n")
    return src


def _cross_update(sbs: SideBySide, *pointers: str) -> None:
    """Each tool's update of the other's files: nothing changed, nothing rewritten."""
    before = {root: {p: (root / p).read_bytes() for p in pointers} for root in sbs.roots}
    for root, cmd in ((sbs.lv_root, sbs.dvc_cmd), (sbs.dvc_root, sbs.lv_cmd)):
        proc = subprocess.run([*cmd, "update", *pointers], cwd=root, env=sbs.env, capture_output=True, text=True)
        assert proc.returncode == 0, (cmd, proc.stderr)
        assert {p: (root / p).read_bytes() for p in pointers} == before[root]


def test_local_file_and_folder(sbs: SideBySide, tmp_path: Path) -> None:
    src = tmp_path / ("a-source-folder-whose-path-is-long-enough-" + "x" * 40)  # dvc folds the line: so must we
    (src / "set" / "sub").mkdir(parents=True)
    (src / "labels.csv").write_text("id,label\n1,cat\n")
    (src / "set" / "a.txt").write_text("a\n")
    (src / "set" / "sub" / "b.txt").write_text("b\n")
    sbs.write({"data/.keep": ""})
    sbs.run_ok("import-url", str(src / "labels.csv"), "data/labels.csv")
    sbs.run_ok("import-url", str(src / "set"))
    _same(sbs, "data/labels.csv.dvc", "set.dvc", ".gitignore", "data/.gitignore")
    sbs.git_commit("imports")

    (src / "labels.csv").write_text("id,label\n1,cat\n2,dog\n")
    (src / "set" / "c.txt").write_text("c\n")
    (src / "set" / "a.txt").unlink()
    sbs.run_ok("update", "data/labels.csv.dvc", "set.dvc")
    _same(sbs, "data/labels.csv.dvc", "set.dvc")
    assert _files(sbs.lv_root / "set") == _files(sbs.dvc_root / "set") == {"c.txt": b"c\n", "sub/b.txt": b"b\n"}
    assert (sbs.lv_root / "data/labels.csv").read_bytes() == (src / "labels.csv").read_bytes()
    lv, dvc = sbs.run_ok("status")
    assert "up to date" in lv.stdout and "up to date" in dvc.stdout
    _cross_update(sbs, "data/labels.csv.dvc", "set.dvc")


def test_objects_in_s3(sbs: SideBySide, s3_server: S3Server) -> None:
    bucket = s3_server.make_bucket("iu")
    s3_server.write(bucket, "raw/labels.csv", b"id,label\n1,cat\n")
    s3_server.write(bucket, "raw/scans/a.bin", b"\x00" * 100)
    s3_server.write(bucket, "raw/scans/deep/b.bin", b"\x01" * 50)
    sbs.env.update(s3_server.env)
    config = f"endpointurl={s3_server.endpoint}"
    sbs.run_ok("import-url", f"s3://{bucket}/raw/labels.csv", "--fs-config", config)
    sbs.run_ok("import-url", f"s3://{bucket}/raw/scans", "scans", "--fs-config", config)
    _same(sbs, "labels.csv.dvc", "scans.dvc", ".gitignore")
    sbs.git_commit("imports")

    lv, _ = sbs.run_ok("update", "labels.csv.dvc", "scans.dvc")
    assert "unchanged" in lv.stdout
    _same(sbs, "labels.csv.dvc", "scans.dvc")

    s3_server.write(bucket, "raw/labels.csv", b"id,label\n1,cat\n2,dog\n")
    s3_server.write(bucket, "raw/scans/c.bin", b"\x02" * 10)
    sbs.run_ok("update", "labels.csv.dvc", "scans.dvc")
    _same(sbs, "labels.csv.dvc", "scans.dvc")
    assert _files(sbs.lv_root / "scans") == _files(sbs.dvc_root / "scans")
    assert set(_files(sbs.lv_root / "scans")) == {"a.bin", "deep/b.bin", "c.bin"}
    _cross_update(sbs, "labels.csv.dvc", "scans.dvc")


def test_an_unfrozen_import_reports_its_source(sbs: SideBySide, tmp_path: Path) -> None:
    """An import that is not frozen (old dvc versions wrote them so; ``unfreeze`` does too): its
    source is checked by ``status``, as dvc's status checks it; a frozen one is left alone."""
    src = tmp_path / "labels.csv"
    src.write_text("id,label\n1,cat\n")
    sbs.run_ok("import-url", str(src), "labels.csv")
    sbs.run_ok("unfreeze", "labels.csv.dvc")
    _same(sbs, "labels.csv.dvc")
    lv, dvc = sbs.run_ok("status", "--json")
    assert json.loads(lv.stdout)["clean"] and json.loads(dvc.stdout) == {}

    src.write_text("id,label\n1,cat\n2,dog\n")
    lv, dvc = sbs.run_ok("status", "--json")
    assert json.loads(dvc.stdout) == {"labels.csv.dvc": [{"changed deps": {str(src): "modified"}}]}
    report = json.loads(lv.stdout)
    assert not report["clean"] and report["outputs"][0]["changed_deps"] == {str(src): "modified"}
    assert "changed deps" in sbs.lv("status").stdout
    assert sbs.lv("status", "-q").returncode == 1

    src.unlink()
    lv, dvc = sbs.run_ok("status", "--json")
    assert json.loads(dvc.stdout) == {"labels.csv.dvc": [{"changed deps": {str(src): "deleted"}}]}
    assert json.loads(lv.stdout)["outputs"][0]["changed_deps"] == {str(src): "deleted"}

    sbs.run_ok("freeze", "labels.csv.dvc")  # frozen: the source is not looked at
    _same(sbs, "labels.csv.dvc")  # keys where dvc keeps them: frozen again, at the end
    lv, dvc = sbs.run_ok("status", "--json")
    assert json.loads(lv.stdout)["clean"] and json.loads(dvc.stdout) == {}


def test_imports_recorded_without_downloading(sbs: SideBySide, tmp_path: Path, s3_server: S3Server) -> None:
    """``--no-exec`` (the .dvc file only, no checksum; the source need not exist yet) and
    ``--no-download`` (the source's checksum, nothing downloaded): the same bytes as dvc's, for a
    local file, a folder, a path given relative to the repository and S3 objects; then each
    tool's ``update`` downloads them, to the same bytes again."""
    src = _sources(tmp_path)
    bucket = s3_server.make_bucket("nd")
    s3_server.write(bucket, "raw/x.csv", b"x,y\n1,2\n")
    s3_server.write(bucket, "raw/scans/a.bin", b"\x00" * 100)
    sbs.env.update(s3_server.env)
    config = f"endpointurl={s3_server.endpoint}"
    sbs.write({"data/.keep": ""})
    imports = {
        "l1.csv": ["--no-exec", str(src / "labels.csv"), "l1.csv"],
        "l2.csv": ["--no-download", str(src / "labels.csv"), "l2.csv"],
        "set1": ["--no-exec", str(src / "set"), "set1"],
        "set2": ["--no-download", str(src / "set"), "set2"],
        "data/later.csv": ["--no-exec", str(src / "not-there-yet.csv"), "data/later.csv"],
        "x.csv": ["--no-download", f"s3://{bucket}/raw/x.csv", "--fs-config", config],
        "scans": ["--no-download", f"s3://{bucket}/raw/scans", "scans", "--fs-config", config],
    }
    for args in imports.values():
        sbs.run_ok("import-url", *args)
    for root in sbs.roots:
        assert not any((root / out).exists() for out in imports), "nothing downloaded"
    pointers = [f"{out}.dvc" for out in imports]
    _same(sbs, *pointers, ".gitignore", "data/.gitignore")
    report = json.loads(sbs.lv("status", "--json").stdout)
    assert {o["path"]: o["status"] for o in report["outputs"]} == dict.fromkeys(imports, "not_downloaded")
    assert f"`labvault update {pointers[0]}` downloads it" in sbs.lv("status").stdout
    lv, dvc = sbs.run("import-url", "--no-download", str(src / "none.csv"), "none.csv")
    assert lv.returncode and dvc.returncode and not (sbs.lv_root / "none.csv.dvc").exists()
    assert sbs.lv("import-url", "--no-exec", "--no-download", str(src / "labels.csv"), "b.csv").returncode == 2

    (src / "not-there-yet.csv").write_text("late\n")
    sbs.run_ok("update", *pointers)
    _same(sbs, *pointers)
    for out in imports:
        lv_out, dvc_out = sbs.lv_root / out, sbs.dvc_root / out
        if lv_out.is_dir():
            assert _files(lv_out) == _files(dvc_out) != {}, out
        else:
            assert lv_out.read_bytes() == dvc_out.read_bytes(), out


def test_pull_of_imports_recorded_without_data(sbs: SideBySide, tmp_path: Path, s3_server: S3Server) -> None:
    """``pull`` brings ``--no-download`` imports from their sources, as dvc does (no remote
    needed), and leaves their ``.dvc`` files as they are; a ``--no-exec`` import (no checksum)
    fails the pull in both tools. labvault also pulls folders and files in sub-folders (dvc 3.67
    fails their checkout), and refuses a source whose content is no longer what was recorded."""
    src = _sources(tmp_path)
    (src / "other.csv").write_text("o\n")
    bucket = s3_server.make_bucket("pl")
    s3_server.write(bucket, "raw/x.csv", b"x,y\n1,2\n")
    sbs.env.update(s3_server.env)
    sbs.write({"data/.keep": ""})
    sbs.run_ok("import-url", "--no-exec", str(src / "labels.csv"), "l1.csv")
    sbs.run_ok("import-url", "--no-download", str(src / "labels.csv"), "l2.csv")
    sbs.run_ok("import-url", "--no-download", str(src / "labels.csv"), "data/l3.csv")
    sbs.run_ok("import-url", "--no-download", str(src / "other.csv"), "o.csv")
    sbs.run_ok("import-url", "--no-download", str(src / "set"), "set2")
    sbs.run_ok("import-url", "--no-download", f"s3://{bucket}/raw/x.csv", "--fs-config",
               f"endpointurl={s3_server.endpoint}")
    sbs.git_commit("imports")
    pointers = ["l1.csv.dvc", "l2.csv.dvc", "data/l3.csv.dvc", "o.csv.dvc", "set2.dvc", "x.csv.dvc"]
    before = {p: sbs.read(p)[0] for p in pointers}
    # not in cache, deleted, as dvc counts them (dvc's lists are in its own order here, not by path)
    sbs.assert_same_json("data", "status", transform=_sorted_lists)

    lv, dvc = sbs.run("pull", "l2.csv", "x.csv")  # imports with a checksum: no remote needed
    assert lv.returncode == 0 and dvc.returncode == 0, (lv.stderr, dvc.stderr)
    for out in ("l2.csv", "x.csv"):
        assert (sbs.lv_root / out).read_bytes() == (sbs.dvc_root / out).read_bytes(), out
    assert (sbs.lv_root / "x.csv").read_bytes() == b"x,y\n1,2\n"

    (src / "other.csv").write_text("changed\n")  # no longer what o.csv.dvc records
    lv, dvc = sbs.run("pull")
    assert lv.returncode == 1 and dvc.returncode != 0, (lv.stderr, dvc.stderr)  # l1.csv: no checksum
    assert "l1.csv: imported without a checksum" in lv.stderr and "update l1.csv.dvc" in lv.stderr
    assert "o.csv: its source" in lv.stderr and "other content than was recorded" in lv.stderr
    assert not (sbs.lv_root / "o.csv").exists() and not (sbs.lv_root / "l1.csv").exists()
    assert _files(sbs.lv_root / "set2") == {"a.txt": b"a\n", "sub/b.txt": b"b\n"}
    assert (sbs.lv_root / "data/l3.csv").read_bytes() == (src / "labels.csv").read_bytes()
    for root in sbs.roots:
        assert {p: (root / p).read_bytes() for p in pointers} == before, root  # pointers untouched
    report = json.loads(sbs.lv("status", "--json").stdout)
    assert {o["path"]: o["status"] for o in report["outputs"]} == {
        "l1.csv": "not_downloaded", "o.csv": "not_downloaded", "l2.csv": "modified",
        "data/l3.csv": "modified", "set2": "modified", "x.csv": "modified"}  # here, no hash recorded
    lv, dvc = sbs.run("status", "l2.csv.dvc")
    assert "modified" in lv.stdout and "modified" in dvc.stdout
    assert sbs.lv("pull", "set2").returncode == 0  # present with the recorded content: nothing to do
    sbs.run_ok("update", "l2.csv.dvc")  # records the hash, as in dvc
    _same(sbs, "l2.csv.dvc")


def test_fetch_then_checkout_of_imports_recorded_without_data(sbs: SideBySide, tmp_path: Path,
                                                               s3_server: S3Server) -> None:
    """``fetch`` brings ``--no-download`` imports from their sources into the cache (no remote
    needed) and ``checkout`` places them, offline once fetched (the S3 object is deleted between
    the two), as dvc does; before any fetch, checkout fails in both tools and writes nothing.
    The .dvc files stay as they were. Where they part: labvault also fetches and places folders
    (dvc 3.67 leaves an empty folder and fails), keeps a fetched import through ``gc -w``, and
    refuses to overwrite an edited import whose content the cache lacks (dvc overwrites it)."""
    src = _sources(tmp_path)
    bucket = s3_server.make_bucket("fc")
    s3_server.write(bucket, "raw/x.csv", b"x,y\n1,2\n")
    sbs.env.update(s3_server.env)
    sbs.run_ok("import-url", "--no-download", str(src / "labels.csv"), "l.csv")
    sbs.run_ok("import-url", "--no-download", f"s3://{bucket}/raw/x.csv", "--fs-config",
               f"endpointurl={s3_server.endpoint}")
    sbs.run_ok("import-url", "--no-download", str(src / "set"), "set")
    sbs.git_commit("imports")
    pointers = ["l.csv.dvc", "x.csv.dvc", "set.dvc"]
    before = {p: sbs.read(p)[0] for p in pointers}
    files = ["l.csv.dvc", "x.csv.dvc"]  # what both tools place

    lv, dvc = sbs.run("checkout", *files)  # never fetched: nothing to place
    assert lv.returncode == 1 and dvc.returncode != 0, describe(lv, dvc)
    assert "missing from the cache: l.csv" in lv.stderr and "missing from the cache: x.csv" in lv.stderr
    for root in sbs.roots:
        assert not (root / "l.csv").exists() and not (root / "x.csv").exists(), root

    sbs.run_ok("fetch", *files)
    for root in sbs.roots:
        assert not (root / "l.csv").exists() and not (root / "x.csv").exists(), root  # cache only
    s3_server.remove(bucket, "raw/x.csv")  # what checkout places comes from the cache
    sbs.run_ok("checkout", *files)
    for out, data in (("l.csv", b"id,label\n1,cat\n"), ("x.csv", b"x,y\n1,2\n")):
        assert (sbs.lv_root / out).read_bytes() == (sbs.dvc_root / out).read_bytes() == data, out
    for root in sbs.roots:
        assert {p: (root / p).read_bytes() for p in pointers} == before, root  # pointers untouched
    lv, dvc = sbs.run("status", "l.csv.dvc")
    assert "modified" in lv.stdout and "modified" in dvc.stdout, describe(lv, dvc)  # no hash recorded

    # labvault only: folders (local and S3), gc, and edits it will not overwrite
    s3_server.write(bucket, "raw/scans/a.bin", b"\x00" * 100)
    s3_server.write(bucket, "raw/scans/b/c.bin", b"c")
    r = sbs.lv("import-url", "--no-download", f"s3://{bucket}/raw/scans", "scans", "--fs-config",
               f"endpointurl={s3_server.endpoint}")
    assert r.returncode == 0, r.stderr
    assert sbs.lv("fetch", "set.dvc", "scans.dvc").returncode == 0
    assert not (sbs.lv_root / "set").exists() and not (sbs.lv_root / "scans").exists()
    for key in ("raw/scans/a.bin", "raw/scans/b/c.bin"):
        s3_server.remove(bucket, key)
    assert sbs.lv("gc", "-w", "-f").returncode == 0  # fetched imports are kept
    for out in ("l.csv", "x.csv"):
        (sbs.lv_root / out).unlink()
    r = sbs.lv("checkout")
    assert r.returncode == 0, r.stderr
    assert _files(sbs.lv_root / "set") == {"a.txt": b"a\n", "sub/b.txt": b"b\n"}
    assert _files(sbs.lv_root / "scans") == {"a.bin": b"\x00" * 100, "b/c.bin": b"c"}
    assert (sbs.lv_root / "x.csv").read_bytes() == b"x,y\n1,2\n"
    (sbs.lv_root / "l.csv").write_text("my own edit\n")
    r = sbs.lv("checkout", "l.csv.dvc")
    assert r.returncode == 4 and "whose current content is not in the cache" in r.stderr, r.stderr
    assert (sbs.lv_root / "l.csv").read_text() == "my own edit\n"
    assert {p: (sbs.lv_root / p).read_bytes() for p in pointers} == before
