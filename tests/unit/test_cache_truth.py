"""The cache is never trusted beyond what was checked: an object deleted outside labvault (by a
person, a shared-cache cleanup, ``dvc gc`` in a clone sharing the cache) is stored again by the
next ``add``/``commit`` and reported by ``status`` as "not in cache", as dvc does."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from labvault import api
from tests.conftest import Runner

PAST = 1_600_000_000


def _cache(root: Path) -> Path:
    return root / ".dvc" / "cache" / "files" / "md5"


def _obj(cache: Path, oid: str) -> Path:
    return cache / oid[:2] / oid[2:]


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _write(path: Path, text: str, when: int) -> None:
    """Write and date the file in the past, so that the stat cache records it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (when, when))


def _named_objects(root: Path, pointer: str, cache: Path) -> dict[str, str]:
    """Every object a pointer names (the manifest and each file in it), read independently."""
    oid = (root / pointer).read_text().split("md5: ")[1].split()[0]
    named = {"<manifest>": oid}
    if oid.endswith(".dir"):
        for e in json.loads(_obj(cache, oid).read_bytes()):
            named[e["relpath"]] = e["md5"]
    return named


def _all_present(root: Path, pointer: str, cache: Path | None = None) -> None:
    cache = cache or _cache(root)
    for rel, oid in _named_objects(root, pointer, cache).items():
        assert _obj(cache, oid).is_file(), f"object of {rel} ({oid}) missing after add"


def _folder(root: Path) -> None:
    for i in range(1, 5):
        _write(root / "d" / f"f{i}", f"content {i}\n", PAST + i)


def _settle() -> None:
    """Past the racy window of the fan-out stamps: the stat cache vouches for its flags."""
    time.sleep(0.12)


def test_add_stores_again_an_object_deleted_outside(tmp_path: Path) -> None:
    api.init(tmp_path, no_scm=True)
    _folder(tmp_path)
    api.add(["d"], repo=tmp_path)
    _settle()
    api.add(["d"], repo=tmp_path)  # a no-op re-add: its flags and stamps are now trusted
    f1 = _md5(b"content 1\n")
    _obj(_cache(tmp_path), f1).unlink()
    _write(tmp_path / "d" / "f2", "edited 2\n", PAST + 20)
    (rec,) = api.add(["d"], repo=tmp_path)
    assert rec.changed
    assert _obj(_cache(tmp_path), f1).is_file()
    _all_present(tmp_path, "d.dvc")
    assert api.status(repo=tmp_path).clean


def test_unchanged_re_add_stores_again_a_deleted_object(tmp_path: Path) -> None:
    """No file changed: the fast path (recorded tree stands) checks the objects too."""
    api.init(tmp_path, no_scm=True)
    _folder(tmp_path)
    _write(tmp_path / "single.txt", "one file\n", PAST)
    api.add(["d", "single.txt"], repo=tmp_path)
    _settle()
    api.add(["d", "single.txt"], repo=tmp_path)
    _settle()
    for name in ("content 3\n", "one file\n"):
        _obj(_cache(tmp_path), _md5(name.encode())).unlink()
    dir_oid = _named_objects(tmp_path, "d.dvc", _cache(tmp_path))["<manifest>"]
    _obj(_cache(tmp_path), dir_oid).unlink()
    recs = api.add(["d", "single.txt"], repo=tmp_path)
    assert not any(r.changed for r in recs)
    _all_present(tmp_path, "d.dvc")
    _all_present(tmp_path, "single.txt.dvc")
    # and commit, the same way
    _settle()
    _obj(_cache(tmp_path), _md5(b"content 4\n")).unlink()
    api.commit(None, repo=tmp_path)
    _all_present(tmp_path, "d.dvc")


def test_status_reports_objects_deleted_after_it_trusted_them(tmp_path: Path) -> None:
    api.init(tmp_path, no_scm=True)
    _folder(tmp_path)
    api.add(["d"], repo=tmp_path)
    _settle()
    assert api.status(repo=tmp_path).clean
    _settle()
    assert api.status(repo=tmp_path).clean  # stamps confirmed: this one only compares them
    _obj(_cache(tmp_path), _md5(b"content 1\n")).unlink()
    (out,) = api.status(repo=tmp_path).outputs
    assert (out.status, out.missing) == ("not_in_cache", ("f1",))
    (out,) = api.status(repo=tmp_path).outputs  # and again: nothing was recorded as present
    assert (out.status, out.missing) == ("not_in_cache", ("f1",))
    api.add(["d"], repo=tmp_path)
    assert api.status(repo=tmp_path).clean


def test_status_text_and_json_match_dvc(git_repo: Path, lv: Runner, dvc: Runner) -> None:
    lv("init")
    _folder(git_repo)
    _write(git_repo / "s.txt", "single\n", PAST)
    lv("add", "d", "s.txt")
    _obj(_cache(git_repo), _md5(b"content 1\n")).unlink()
    _obj(_cache(git_repo), _md5(b"single\n")).unlink()
    theirs = json.loads(dvc("status", "--json").stdout)
    assert theirs == {
        "d.dvc": [{"changed outs": {"d": "not in cache"}}],
        "s.txt.dvc": [{"changed outs": {"s.txt": "not in cache"}}],
    }
    ours = json.loads(lv("status", "--json").stdout)
    assert not ours["clean"]
    by_path = {o["path"]: o for o in ours["outputs"]}
    assert {p: o["status"] for p, o in by_path.items()} == {"d": "not_in_cache", "s.txt": "not_in_cache"}
    assert by_path["d"]["missing"] == ["f1"] and by_path["s.txt"]["missing"] == []
    text = lv("status").stdout
    assert "d: not in cache  (d.dvc)" in text and "not in cache: d/f1" in text
    assert "s.txt: not in cache  (s.txt.dvc)" in text
    lv("add", "d", "s.txt")
    assert json.loads(lv("status", "--json").stdout)["clean"]
    assert dvc("status", "--json").stdout.strip() == "{}"


def test_dvc_gc_in_a_clone_sharing_the_cache(tmp_path: Path, git_repo: Path, git: Runner, lv: Runner, dvc: Runner) -> None:
    """A second clone sharing ``cache.dir`` re-adds d with another f1 and runs ``dvc gc -w``:
    the first clone's f1 object and manifest are gone; labvault notices and stores them again."""
    shared = tmp_path / "shared-cache"
    shared.mkdir()  # a cache.dir outside the repo, set in .dvc/config, must exist
    lv("init")
    lv("config", "cache.dir", str(shared))
    _folder(git_repo)
    lv("add", "d")
    _settle()
    lv("add", "d")
    assert json.loads(lv("status", "--json").stdout)["clean"]
    git("add", "-A")
    git("commit", "-qm", "d")
    clone = tmp_path / "clone"
    git("clone", "-q", str(git_repo), str(clone))
    dvc("checkout", cwd=clone)
    f1 = clone / "d" / "f1"
    os.chmod(f1, 0o644)
    f1.unlink()
    f1.write_text("the clone's own f1\n")
    dvc("add", "d", cwd=clone)
    dvc("gc", "-w", "-f", cwd=clone)
    cache = shared / "files" / "md5"
    assert not _obj(cache, _md5(b"content 1\n")).exists()
    assert _obj(cache, _md5(b"content 2\n")).exists()

    ours = json.loads(lv("status", "--json").stdout)
    assert [o["status"] for o in ours["outputs"]] == ["not_in_cache"]
    assert json.loads(dvc("status", "--json").stdout) == {"d.dvc": [{"changed outs": {"d": "not in cache"}}]}
    _write(git_repo / "d" / "f2", "edited 2\n", PAST + 20)
    lv("add", "d")
    _all_present(git_repo, "d.dvc", cache)
    assert _obj(cache, _md5(b"content 1\n")).is_file()
    assert json.loads(lv("status", "--json").stdout)["clean"]
    assert dvc("status", "--json").stdout.strip() == "{}"


def test_a_modified_output_with_missing_objects_is_not_in_cache(git_repo: Path, lv: Runner, dvc: Runner) -> None:
    """dvc reports "not in cache" before "modified"; labvault too, still listing what changed."""
    lv("init")
    _folder(git_repo)
    _write(git_repo / "s.txt", "single\n", PAST)
    lv("add", "d", "s.txt")
    _obj(_cache(git_repo), _md5(b"content 1\n")).unlink()
    _obj(_cache(git_repo), _md5(b"content 3\n")).unlink()
    _obj(_cache(git_repo), _md5(b"single\n")).unlink()
    _write(git_repo / "d" / "f2", "edited 2\n", PAST + 20)
    _write(git_repo / "d" / "f3", "edited 3\n", PAST + 21)
    _write(git_repo / "s.txt", "SINGLE\n", PAST + 22)
    assert json.loads(dvc("status", "--json").stdout) == {
        "d.dvc": [{"changed outs": {"d": "not in cache"}}],
        "s.txt.dvc": [{"changed outs": {"s.txt": "not in cache"}}],
    }
    for _ in range(2):  # the second one reads the patch the first left
        by_path = {o["path"]: o for o in json.loads(lv("status", "--json").stdout)["outputs"]}
        assert by_path["d"]["status"] == "not_in_cache"
        assert (by_path["d"]["modified"], by_path["d"]["missing"]) == (["f2", "f3"], ["f1", "f3"])
        assert by_path["s.txt"]["status"] == "not_in_cache"
    lv("add", "d", "s.txt")
    assert json.loads(lv("status", "--json").stdout)["clean"]
