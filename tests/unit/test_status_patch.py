"""Status of a folder across many edits, checked against an independent reading of the manifest.

Status keeps what changed since the last full hash as a patch in the stat cache, so that it never
reads a million-entry manifest to say which files differ; these sequences make sure the patch
composes correctly (edit, revert, add then delete, delete then re-create, add, checkout).
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import random
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault import api
from labvault.workspace.repo import open_repo
from labvault.workspace.state import Snapshot


def _expected(root: Path) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    pointer = (root / "data.dvc").read_text()
    oid = pointer.split("md5: ")[1].split()[0]
    manifest = root / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]
    recorded = {e["relpath"]: e["md5"] for e in json.loads(manifest.read_bytes())}
    now = {
        p.relative_to(root / "data").as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
        for p in (root / "data").rglob("*")
        if p.is_file()
    }
    added = tuple(sorted(r for r in now if r not in recorded))
    deleted = tuple(sorted(r for r in recorded if r not in now))
    modified = tuple(sorted(r for r in now if r in recorded and recorded[r] != now[r]))
    return added, modified, deleted


def _status(root: Path) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    (out,) = api.status(repo=root).outputs
    if out.status == "clean":
        return (), (), ()
    assert out.status in ("modified", "not_in_cache")
    return tuple(f"{x[len('data/'):]}" if x.startswith("data/") else x for x in out.added), \
        tuple(x[len("data/"):] if x.startswith("data/") else x for x in out.modified), \
        tuple(x[len("data/"):] if x.startswith("data/") else x for x in out.deleted)


_clock = [1_700_000_000]


def _write(path: Path, text: str) -> None:
    """Write, then date the file in the past (a distinct second each time): outside the racy
    window, so the stat cache records it and the patch, not a re-hash, carries the change."""
    path.write_text(text)
    _clock[0] += 1
    os.utime(path, (_clock[0], _clock[0]))


@pytest.mark.parametrize(("seed", "width"), [(s, 12) for s in range(6)] + [(6, 300), (7, 300)])
def test_status_follows_random_edits(tmp_path: Path, seed: int, width: int) -> None:
    """width 300: past the size at which a status with few edits leaves the stat cache alone."""
    rnd = random.Random(seed)
    root = tmp_path / "repo"
    (root / "data" / "sub").mkdir(parents=True)
    names = [f"f{i}.txt" for i in range(width)] + [f"sub/g{i}.txt" for i in range(8)]
    for n in names:
        _write(root / "data" / n, f"v0 {n}\n")
    api.init(root, no_scm=True)
    api.add(["data"], repo=root)
    assert _status(root) == ((), (), ())
    originals = {n: f"v0 {n}\n" for n in names}
    for step in range(25):
        files = sorted(p.relative_to(root / "data").as_posix() for p in (root / "data").rglob("*") if p.is_file())
        action = rnd.choice(["edit", "revert", "delete", "create", "recreate", "status", "add", "checkout"])
        if action == "edit" and files:
            _write(root / "data" / rnd.choice(files), f"edit {step} {rnd.random()}\n")
        elif action == "revert" and files:
            n = rnd.choice(files)
            if n in originals:
                _write(root / "data" / n, originals[n])
        elif action == "delete" and files:
            (root / "data" / rnd.choice(files)).unlink()
        elif action == "create":
            _write(root / "data" / f"new{step}.txt", f"new {step}\n")
        elif action == "recreate":
            gone = [n for n in originals if not (root / "data" / n).exists()]
            if gone:
                n = rnd.choice(gone)
                _write(root / "data" / n, rnd.choice([originals[n], "different\n"]))
        elif action == "add":
            api.add(["data"], repo=root)
            originals = {
                p.relative_to(root / "data").as_posix(): p.read_text() for p in (root / "data").rglob("*") if p.is_file()
            }
        elif action == "checkout":
            api.checkout(force=True, repo=root)
        assert _status(root) == _expected(root), f"seed {seed} step {step} after {action}"
        # twice: the second run reads the patch the first one left
        assert _status(root) == _expected(root), f"seed {seed} step {step} after {action} (again)"


def test_checkout_over_a_file_never_recorded_keeps_status_right(tmp_path: Path) -> None:
    """A file left alone by checkout (it matched) but missing from the stat cache (too recent when
    last read: here dated in the future, so always too recent) must not turn up as added when
    checkout records the tree it restored."""
    root = tmp_path / "repo"
    (root / "data").mkdir(parents=True)
    for i in range(6):
        _write(root / "data" / f"f{i}.txt", f"v0 {i}\n")
    api.init(root, no_scm=True)
    api.add(["data"], repo=root)
    future = int(time.time()) + 3600
    os.utime(root / "data" / "f1.txt", (future, future))
    api.add(["data"], repo=root)  # f1 read again, too recent to record
    _write(root / "data" / "extra.txt", "not tracked\n")
    api.checkout(force=True, repo=root)  # removes extra.txt, leaves f1 alone
    assert not (root / "data" / "extra.txt").exists()
    assert _status(root) == _expected(root) == ((), (), ())
    assert _status(root) == ((), (), ())


def test_first_format_snapshots_are_read(tmp_path: Path) -> None:
    """A stat cache written by an earlier labvault (one dict) is converted, not re-hashed."""
    root = tmp_path / "repo"
    (root / "data").mkdir(parents=True)
    for i in range(5):
        f = root / "data" / f"{i}.bin"
        f.write_bytes(bytes([i]) * 100)
        os.utime(f, (1_700_000_000, 1_700_000_000))  # older than the racy window: recorded
    api.init(root, no_scm=True)
    api.add(["data"], repo=root)
    repo = open_repo(root)
    snap = repo.state.get("data")
    old = {n: snap.entry(n) for n in snap.names}
    db = root / ".dvc" / "tmp" / "labvault" / "state.sqlite"
    repo.state.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE snapshots SET blob = ? WHERE path = 'data'", (marshal.dumps(old),))
    converted = open_repo(root).state.get("data")
    assert {n: converted.entry(n) for n in converted.names} == old
    assert isinstance(converted, Snapshot) and len(converted) == 5
    assert api.status(repo=root).clean
    again = open_repo(root).state.get("data")
    assert {n: again.entry(n) for n in again.names} == old  # not re-hashed: same entries


# --- a Hypothesis model: status (patch against the last tree, stat cache, cache checks) against a
# full comparison of the recorded manifest with the files on disk, after any sequence of steps.

_ACTIONS = ("edit", "revert", "delete", "create", "recreate", "status", "add", "checkout", "drop_object", "touch")


Full = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _model(root: Path, manifests: dict[str, bytes]) -> Full:
    """(status, added, modified, deleted, missing), computed from scratch: the pointer's manifest
    (kept aside when it was written), every file's md5, and the objects in the cache."""
    oid = (root / "data.dvc").read_text().split("md5: ")[1].split()[0]
    recorded = {e["relpath"]: e["md5"] for e in json.loads(manifests[oid])}
    now = {
        p.relative_to(root / "data").as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
        for p in (root / "data").rglob("*")
        if p.is_file()
    }
    added = tuple(sorted(r for r in now if r not in recorded))
    deleted = tuple(sorted(r for r in recorded if r not in now))
    modified = tuple(sorted(r for r in now if r in recorded and recorded[r] != now[r]))
    cache = root / ".dvc" / "cache" / "files" / "md5"
    missing = tuple(sorted(r for r, o in recorded.items() if not (cache / o[:2] / o[2:]).exists()))
    if missing or not (cache / oid[:2] / oid[2:]).exists():  # as dvc: before "modified"
        return "not_in_cache", added, modified, deleted, missing
    if added or modified or deleted:
        return "modified", added, modified, deleted, ()
    return "clean", (), (), (), ()


def _full_status(root: Path) -> Full:
    (out,) = api.status(repo=root).outputs
    return out.status, out.added, out.modified, out.deleted, out.missing


def _keep_manifest(root: Path, manifests: dict[str, bytes]) -> None:
    oid = (root / "data.dvc").read_text().split("md5: ")[1].split()[0]
    manifests[oid] = (root / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]).read_bytes()


step_strategy = st.tuples(st.sampled_from(_ACTIONS), st.integers(0, 10_000), st.booleans())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step_strategy, min_size=1, max_size=12), width=st.sampled_from([6, 300]))
def test_status_model(steps: list[tuple[str, int, bool]], width: int) -> None:
    """``dated``: the write is dated in the past (the stat cache records it and the patch carries
    the change); otherwise it is left at now, inside the racy window (read again every time)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        (root / "data" / "sub").mkdir(parents=True)
        names = [f"f{i}.txt" for i in range(width)] + ["sub/g0.txt", "sub/g1.txt"]
        for n in names:
            _write(root / "data" / n, f"v0 {n}\n")
        api.init(root, no_scm=True)
        api.add(["data"], repo=root)
        manifests: dict[str, bytes] = {}
        _keep_manifest(root, manifests)
        originals = {n: f"v0 {n}\n" for n in names}
        for k, (action, pick, dated) in enumerate(steps):
            data = root / "data"
            files = sorted(p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file())

            def put(rel: str, text: str, data: Path = data, dated: bool = dated) -> None:
                if dated:
                    _write(data / rel, text)
                else:
                    (data / rel).parent.mkdir(parents=True, exist_ok=True)
                    (data / rel).write_text(text)

            if action == "edit" and files:
                put(files[pick % len(files)], f"edit {k} {pick}\n")
            elif action == "revert" and files:
                n = files[pick % len(files)]
                if n in originals:
                    put(n, originals[n])
            elif action == "delete" and files:
                (data / files[pick % len(files)]).unlink()
            elif action == "create":
                put(f"new{k}.txt", f"new {k}\n")
            elif action == "recreate":
                gone = [n for n in originals if not (data / n).exists()]
                if gone:
                    n = gone[pick % len(gone)]
                    put(n, originals[n] if pick % 2 else "different\n")
            elif action == "touch" and files:
                p = data / files[pick % len(files)]
                os.utime(p, (1_600_000_000 + pick, 1_600_000_000 + pick))
            elif action == "add":
                api.add(["data"], repo=root)
                _keep_manifest(root, manifests)
                originals = {p.relative_to(data).as_posix(): p.read_text() for p in data.rglob("*") if p.is_file()}
            elif action == "checkout":
                api.checkout(force=True, repo=root)
            elif action == "drop_object" and originals:
                text = sorted(originals.values())[pick % len(originals)]
                o = hashlib.md5(text.encode()).hexdigest()
                (root / ".dvc" / "cache" / "files" / "md5" / o[:2] / o[2:]).unlink(missing_ok=True)
            expected = _model(root, manifests)
            assert _full_status(root) == expected, (k, action)
            assert _full_status(root) == expected, (k, action, "again")
