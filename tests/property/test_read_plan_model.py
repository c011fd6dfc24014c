"""Kept read plans (api/read_plan.py) against the full path with every per-process memo empty, over
random sequences of tag moves, branch moves, config changes (cache folder, global level, variables),
deleted, restored and corrupted cache objects, a repository moved away, and the path the repository is
named by pointing elsewhere."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.integration.test_read_any_version import write

import labvault
from labvault import api, config
from labvault.api import read_plan
from labvault.errors import LabvaultError
from labvault.remotes import reading
from labvault.workspace import revmemo

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1"}
# weighted towards one path at one revision, so that reads repeat across changes
PATHS = ["a.bin", "a.bin", "a.bin", "d/x", "nope.bin"]
REVS = ["t", "t", "t", "main", "HEAD~1"]

# each step makes one change (or none), then reads one path at one revision twice
changes = st.one_of(
    st.just(("none", "")),
    st.tuples(st.just("tag"), st.sampled_from(["one", "two"])),
    st.tuples(st.just("branch"), st.sampled_from(["one", "two"])),
    st.tuples(st.just("cache"), st.sampled_from(["default", "alt", "empty"])),
    st.tuples(st.just("global"), st.sampled_from(["none", "alt", "empty"])),
    st.tuples(st.just("object"), st.sampled_from(["delete", "restore", "corrupt"])),
    st.tuples(st.just("repo"), st.sampled_from(["away", "back"])),
    st.tuples(st.just("link"), st.sampled_from(["a", "b"])),
)
ops = st.lists(st.tuples(changes, st.sampled_from(PATHS), st.sampled_from(REVS)), min_size=2, max_size=10)


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def _build(root: Path, salt: bytes) -> None:
    """Two commits (branch ``main`` and ``two`` at the second, ``one`` at the first), tag ``t`` at
    the first; a file and a folder changing between them."""
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    api.init(root)
    for i, step in enumerate((b"one", b"two")):
        write(root, {"a.bin": salt + step * 50, "d/x": salt + step, "d/y": b"same" + salt})
        api.add(["a.bin", "d"], repo=root)
        _git(root, "add", "-A")
        _git(root, "commit", "-qm", f"c{i}")
        _git(root, "branch", "-f", "one" if i == 0 else "two")
        if i == 0:
            _git(root, "tag", "t")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("plans-pristine")
    _build(base / "a", b"A")
    _build(base / "b", b"B")
    return base


_MEMOS: list[dict[Any, Any]] = [read_plan._PLANS, config._PARSED, config._MERGED, config._FILES, revmemo._revs,
                                 revmemo._outputs, revmemo._contents, reading._VERIFIED]


@contextlib.contextmanager
def _no_memos() -> Iterator[None]:
    """Every per-process memo of the read path empty for the duration, then put back as it was."""
    saved = [dict(m) for m in _MEMOS]
    for m in _MEMOS:
        m.clear()
    try:
        yield
    finally:
        for m, s in zip(_MEMOS, saved, strict=True):
            m.clear()
            m.update(s)


def _outcome(spec: str, path: str, rev: str) -> tuple[str, Any]:
    try:
        with labvault.open(path, repo=spec, rev=rev) as f:
            return "ok", f.read()
    except LabvaultError as exc:
        return type(exc).__name__, exc.line()


def _object(repo: Path) -> Path:
    """The cache object of ``a.bin`` at tag ``t``."""
    text = _git(repo, "show", "t:a.bin.dvc")
    md5 = next(line.split(":", 1)[1].strip() for line in text.splitlines() if "md5:" in line)
    return repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=ops)
def test_kept_plans_read_what_the_full_path_reads(tmp_path_factory: pytest.TempPathFactory, pristine: Path,
                                                  monkeypatch: pytest.MonkeyPatch, sequence: list[Step]) -> None:
    _run(tmp_path_factory, pristine, monkeypatch, sequence)


EVERY_CHANGE = [("tag", "two"), ("branch", "one"), ("cache", "alt"), ("cache", "empty"), ("global", "alt"),
                ("global", "empty"), ("object", "delete"), ("object", "corrupt"), ("repo", "away"), ("link", "b")]


@pytest.mark.parametrize(("change", "path", "rev"), [(c, p, r) for c in EVERY_CHANGE for p, r in (("a.bin", "t"), ("d/x", "main"))])
def test_each_change_after_a_planned_read(tmp_path_factory: pytest.TempPathFactory, pristine: Path,
                                          monkeypatch: pytest.MonkeyPatch, change: tuple[str, str], path: str, rev: str) -> None:
    """Every kind of change, right after a read that made a plan, for a file and a file in a folder."""
    _run(tmp_path_factory, pristine, monkeypatch, [(("none", ""), path, rev), (change, path, rev)])


Step = tuple[tuple[str, str], str, str]


def _run(tmp_path_factory: pytest.TempPathFactory, pristine: Path, monkeypatch: pytest.MonkeyPatch,
         sequence: list[Step]) -> None:
    base = tmp_path_factory.mktemp("plans")
    shutil.copytree(pristine, base / "repos", symlinks=True)
    a, b = base / "repos" / "a", base / "repos" / "b"
    alt = base / "alt-cache"
    shutil.copytree(a / ".dvc" / "cache", alt)
    shutil.copytree(b / ".dvc" / "cache", alt, dirs_exist_ok=True)
    (base / "empty-cache").mkdir()
    for name in ("alt", "empty"):
        (base / f"global-{name}").mkdir()
        cache = alt if name == "alt" else base / "empty-cache"
        (base / f"global-{name}" / "config").write_text(f"[cache]\n    dir = {cache}\n")
    link = base / "link"
    link.symlink_to(a)
    spec = str(link)
    obj = _object(a)
    rel = obj.relative_to(a)

    def home() -> Path:
        return a if a.exists() else base / "moved"
    kept = obj.read_bytes()
    # keep files however recently they changed (each step waits for the clock to tick instead),
    # so that plans are made and used inside one short example
    monkeypatch.setattr(config, "_RACY_NS", 0)
    monkeypatch.setenv("LABVAULT_SYSTEM_CONFIG_DIR", str(base / "system"))
    monkeypatch.setenv("LABVAULT_GLOBAL_CONFIG_DIR", str(base / "global-none"))
    used = []
    real_planned = read_plan.planned

    def spy(key: Any) -> Any:
        got = real_planned(key)
        used.append(got is not None)
        return got

    monkeypatch.setattr(read_plan, "planned", spy)
    for (kind, arg), path, rev in sequence:
        time.sleep(0.02)  # past the file system's timestamp tick
        if kind == "none":
            pass
        elif kind == "tag":
            _git(home(), "tag", "-f", "t", arg)
        elif kind == "branch":  # the checked-out branch moves (as a reset would)
            _git(home(), "update-ref", "refs/heads/main", f"refs/heads/{arg}")
        elif kind == "cache":
            local = home() / ".dvc" / "config.local"
            if arg == "default":
                local.unlink(missing_ok=True)
            else:
                local.write_text(f"[cache]\n    dir = {alt if arg == 'alt' else base / 'empty-cache'}\n")
        elif kind == "global":
            monkeypatch.setenv("LABVAULT_GLOBAL_CONFIG_DIR", str(base / f"global-{arg}"))
        elif kind == "object":
            obj = home() / rel
            if arg == "delete":
                obj.unlink(missing_ok=True)
            elif arg == "restore" or not obj.exists():
                obj.unlink(missing_ok=True)
                obj.write_bytes(kept)
            else:  # same size, other bytes, written in place
                obj.chmod(0o644)
                with open(obj, "r+b") as f:
                    f.write(bytes([kept[0] ^ 0xFF]))
        elif kind == "repo":
            if arg == "away" and a.exists():
                a.rename(base / "moved")
            elif arg == "back" and (base / "moved").exists():
                (base / "moved").rename(a)
        else:
            link.unlink()
            link.symlink_to(a if arg == "a" else b)
        first: tuple[str, Any] = ("", None)
        for i in range(2):
            n = len(used)
            got = _outcome(spec, path, rev)
            with _no_memos():
                expected = _outcome(spec, path, rev)
            assert got == expected, (kind, arg, path, rev, got, expected)
            if i == 0:
                first = got
            elif first[0] == "ok":
                # nothing changed since a read served from the cache: its plan is used
                assert used[n], (kind, arg, path, rev)


def test_a_repeated_read_uses_the_plan_and_a_moved_tag_does_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "_RACY_NS", 0)
    monkeypatch.setenv("LABVAULT_SYSTEM_CONFIG_DIR", str(tmp_path / "system"))
    monkeypatch.setenv("LABVAULT_GLOBAL_CONFIG_DIR", str(tmp_path / "global"))
    repo = tmp_path / "r"
    _build(repo, b"R")
    time.sleep(0.02)
    first = labvault.read("a.bin", repo=str(repo), rev="t")
    kept = read_plan.planned(read_plan.key_of(str(repo), "t", "a.bin", None))
    assert kept is not None
    kept[1].close()
    with labvault.open("a.bin", repo=str(repo), rev="t") as f:
        assert f.read() == first == b"R" + b"one" * 50
    _git(repo, "tag", "-f", "t", "two")
    assert read_plan.planned(read_plan.key_of(str(repo), "t", "a.bin", None)) is None
    assert labvault.read("a.bin", repo=str(repo), rev="t") == b"R" + b"two" * 50
