"""``Target.store_small``, the one-read path of a backup to a folder target: whatever size the walk
saw (the file may have grown or shrunk since), the object holds exactly the bytes read, is named by
their md5, and the stat returned is the file's after the read."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from labvault.backup.target import Stored, Target


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=20_000), hint=st.integers(min_value=0, max_value=25_000))
def test_stored_object_is_the_bytes_read_whatever_the_size_hint(tmp_path_factory: object, data: bytes,
                                                                 hint: int) -> None:
    base = tmp_path_factory.mktemp("s")  # type: ignore[attr-defined]
    src = base / "f.bin"
    src.write_bytes(data)
    target = Target(str(base / "target"))
    try:
        got = target.store_small(str(src), hint)
        again = target.store_small(str(src), len(data))
    finally:
        target.close()
    digest = hashlib.md5(data).hexdigest()
    assert (got.md5, got.size, got.written) == (digest, len(data), True)
    assert (again.md5, again.written) == (digest, False)  # there already: not written twice
    obj = base / "target" / "files" / "md5" / digest[:2] / digest[2:]
    assert obj.read_bytes() == data
    assert (got.stat.st_ino, got.stat.st_size) == (src.stat().st_ino, len(data))
    leftovers = [p for p in (base / "target").rglob("*") if p.name.endswith(".lvtmp")]
    assert not leftovers


def test_a_file_rewritten_between_walk_and_read_is_stored_as_read(tmp_path: Path) -> None:
    src = tmp_path / "f.bin"
    src.write_bytes(b"old")
    seen = os.stat(src).st_size
    src.write_bytes(b"new and longer content")
    target = Target(str(tmp_path / "target"))
    try:
        got = target.store_small(str(src), seen)
    finally:
        target.close()
    assert got.md5 == hashlib.md5(b"new and longer content").hexdigest() and got.size == 22


def test_new_fan_out_folders_skip_the_stat_but_never_a_write(tmp_path: Path) -> None:
    """In a folder it made under the lock, a Target trusts what it wrote: duplicates are written
    once, and an object deleted since (prune, or another process between two locks) is written again."""
    import time

    from labvault.backup.engine import OwnEngine

    src = tmp_path / "src"
    src.mkdir()
    for i in range(40):
        (src / f"f{i}").write_bytes(b"same" if i % 2 else os.urandom(100 + i))
    time.sleep(0.1)  # past the stat cache's racy window
    engine = OwnEngine(str(tmp_path / "t"), cache_dir=tmp_path / "cache", jobs=2)
    first = engine.run("p", [str(src)])
    assert first.objects_added == 21 + 1  # 20 distinct random files, one "same", the manifest
    objects = {p.parent.name + p.name: p for p in (tmp_path / "t" / "files" / "md5").glob("??/*")}
    assert len(objects) == 22 and engine.check(read_data=True).ok
    same = hashlib.md5(b"same").hexdigest()
    objects[same].unlink()  # deleted by someone else while the lock was not held
    (src / "f1").write_bytes(b"same")  # the stat cache no longer vouches for it: stored again
    engine.run("p", [str(src)])
    assert (tmp_path / "t" / "files" / "md5" / same[:2] / same[2:]).read_bytes() == b"same"
    assert engine.check(read_data=True).ok
    engine.close()


def test_the_same_content_on_many_threads_at_once_is_written_and_counted_once(tmp_path: Path) -> None:
    """Two threads storing one content at the same moment (a first backup of duplicates with
    jobs > 1): exactly one reports it added, so objects_added and bytes_added count it once."""
    import threading

    src = tmp_path / "src"
    src.mkdir()
    paths = []
    for i in range(16):
        (src / f"f{i}").write_bytes(b"twin content")
        paths.append(str(src / f"f{i}"))
    for round_ in range(20):
        target = Target(str(tmp_path / f"target{round_}"))
        results: list[Stored] = []
        start = threading.Barrier(len(paths))

        def store(path: str, target: Target = target, results: list[Stored] = results,
                  start: threading.Barrier = start) -> None:
            start.wait()
            results.append(target.store_small(path))

        with target.lock("backup"):
            threads = [threading.Thread(target=store, args=(p,)) for p in paths]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        target.close()
        assert sum(r.written for r in results) == 1
        assert {r.md5 for r in results} == {hashlib.md5(b"twin content").hexdigest()}
