"""Bad input: one clear line on stderr, a non-zero exit, and nothing changed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI, Runner, snapshot


def _state(repo: Path) -> dict[str, bytes]:
    """Everything a command could have changed: workspace files and the cache, not tmp/."""
    snap = snapshot(repo, skip=(".git", "tmp"))
    return snap


def _one_error_line(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.fixture
def repo(git_repo: Path, lv: Runner, make_tree) -> Path:  # type: ignore[no-untyped-def]
    lv("init")
    make_tree(git_repo, {"data/a.txt": "a\n", "data/sub/b.txt": "b\n", "other.csv": "x,y\n"})
    lv("add", "data")
    return git_repo


def test_missing_path(repo: Path, lv: Runner) -> None:
    before = _state(repo)
    _one_error_line(lv("add", "nope.csv", check=False), 2, "nope.csv", "does not exist")
    assert _state(repo) == before


def test_path_outside_repo(repo: Path, lv: Runner, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    before = _state(repo)
    _one_error_line(lv("add", str(outside), check=False), 2, "outside the repository")
    assert _state(repo) == before


def test_path_inside_dvc_dir(repo: Path, lv: Runner) -> None:
    before = _state(repo)
    _one_error_line(lv("add", ".dvc/config", check=False), 2, ".dvc/")
    assert _state(repo) == before


def test_output_inside_tracked_dir(repo: Path, lv: Runner) -> None:
    before = _state(repo)
    _one_error_line(lv("add", "data/sub", check=False), 2, "inside data")
    assert _state(repo) == before


def test_dir_containing_tracked_output(repo: Path, lv: Runner, make_tree) -> None:  # type: ignore[no-untyped-def]
    make_tree(repo, {"big/inner/x.bin": b"\x00\x01"})
    lv("add", "big/inner")
    before = _state(repo)
    _one_error_line(lv("add", "big", check=False), 2, "contains big/inner")
    assert _state(repo) == before


def test_malformed_pointer(repo: Path, lv: Runner) -> None:
    (repo / "data.dvc").write_text("outs:\n- md5: [unclosed\n")
    before = _state(repo)
    for cmd in (["status"], ["checkout"], ["commit"]):
        _one_error_line(lv(*cmd, check=False), 2, "data.dvc")
    assert _state(repo) == before


def test_pointer_without_outs(repo: Path, lv: Runner) -> None:
    (repo / "data.dvc").write_text("foo: bar\n")
    _one_error_line(lv("status", check=False), 2, "no `outs`")


def test_manifest_escaping_directory_is_never_checked_out(repo: Path, lv: Runner, tmp_path: Path) -> None:
    """A hostile .dir manifest with ../ relpaths: checkout refuses, writes nothing outside."""
    import hashlib
    import json

    victim = repo.parent / "victim.txt"
    payload = b"owned\n"
    oid = hashlib.md5(payload).hexdigest()
    cache = repo / ".dvc" / "cache" / "files" / "md5"
    (cache / oid[:2]).mkdir(parents=True, exist_ok=True)
    obj = cache / oid[:2] / oid[2:]
    if not obj.exists():
        obj.write_bytes(payload)
    for bad in ("../../victim.txt", "/tmp/abs-victim.txt", "a/../../victim.txt"):
        manifest = json.dumps([{"md5": oid, "relpath": bad}], sort_keys=True).encode()
        moid = hashlib.md5(manifest).hexdigest() + ".dir"
        (cache / moid[:2]).mkdir(exist_ok=True)
        (cache / moid[:2] / moid[2:]).write_bytes(manifest)
        (repo / "evil.dvc").write_text(f"outs:\n- md5: {moid}\n  size: 6\n  nfiles: 1\n  hash: md5\n  path: evil\n")
        before = _state(repo)
        _one_error_line(lv("checkout", "evil.dvc", check=False), 3, "escapes" if ".." in bad else "absolute")
        assert not victim.exists()
        assert not Path("/tmp/abs-victim.txt").exists()
        assert _state(repo) == before


def test_permission_denied(repo: Path, lv: Runner) -> None:
    """The cache folder the object must go to refuses writes (immutable: even root is refused)."""
    import hashlib

    payload = b"top secret"
    (repo / "secret.bin").write_bytes(payload)
    oid = hashlib.md5(payload).hexdigest()
    fan = repo / ".dvc" / "cache" / "files" / "md5" / oid[:2]
    fan.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["chattr", "+i", str(fan)], capture_output=True)
    if proc.returncode != 0:
        if IN_CI:
            pytest.fail(f"chattr failed: {proc.stderr!r}")
        pytest.skip("chattr +i is not available here")
    try:
        before = _state(repo)
        _one_error_line(lv("add", "secret.bin", check=False), 6, "permission denied")
        assert not (repo / "secret.bin.dvc").exists()
        assert _state(repo) == before
    finally:
        subprocess.run(["chattr", "-i", str(fan)], check=False)


def test_disk_full(git_repo: Path, lv: Runner, tmp_path: Path) -> None:
    """The cache on a tiny file system: add fails with one line; no pointer, no partial object."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True)
    if proc.returncode != 0:
        if IN_CI:
            pytest.fail(f"cannot mount a tmpfs to test a full disk: {proc.stderr!r}")
        pytest.skip("needs root to mount a small tmpfs")
    try:
        lv("init")
        (mnt / "cache").mkdir()  # a cache.dir outside the repo, set in .dvc/config, must exist
        lv("config", "cache.dir", str(mnt / "cache"))
        (git_repo / "big.bin").write_bytes(os.urandom(1 << 20))
        before = _state(git_repo)
        _one_error_line(lv("add", "big.bin", check=False), 6, "disk full")
        assert not (git_repo / "big.bin.dvc").exists()
        assert _state(git_repo) == before
        leftovers = [p for p in (mnt / "cache").rglob("*") if p.is_file()]
        assert leftovers == []
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_not_a_repo(tmp_path: Path, env: dict[str, str]) -> None:
    d = tmp_path / "plain"
    d.mkdir()
    runner = Runner(["labvault"], d, env)
    from tests.conftest import _labvault_cmd

    runner.argv0 = _labvault_cmd()
    _one_error_line(runner("status", check=False), 2, "labvault init")


def test_unknown_config_key(repo: Path, lv: Runner) -> None:
    before = (repo / ".dvc" / "config").read_bytes()
    _one_error_line(lv("config", "core.colour", "blue", check=False), 2, "unknown config key")
    _one_error_line(lv("config", "cache.type", "teleport", check=False), 2, "cache.type")
    assert (repo / ".dvc" / "config").read_bytes() == before


def test_unknown_revision(repo: Path, lv: Runner, git: Runner) -> None:
    git("add", "-A")
    git("commit", "-qm", "v1")
    _one_error_line(lv("diff", "no-such-tag", check=False), 7, "no-such-tag")


def test_checkout_refuses_to_destroy_uncached_data(repo: Path, lv: Runner) -> None:
    (repo / "data" / "a.txt").write_text("precious edit, never committed\n")
    before = _state(repo)
    _one_error_line(lv("checkout", check=False), 4, "data/a.txt", "--force")
    assert _state(repo) == before
    lv("checkout", "--force")
    assert (repo / "data" / "a.txt").read_text() == "a\n"
