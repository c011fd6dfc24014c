"""A cloned repository is untrusted input: pointers, dvc.yaml outputs and .dir manifests naming
git's or labvault's own files, and symlinks committed in git, must never make a command write
or delete outside the repository's data. Each attack: one error line, its exit code, and the
trees outside the repo, in .git and in .dvc (its tmp/ aside) byte for byte as before."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Runner, snapshot

PAYLOAD = b"#!/bin/sh\necho pwned > /tmp/labvault-pwned\n"
OID = hashlib.md5(PAYLOAD).hexdigest()


def _one_error_line(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in proc.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


def _tree_digest(base: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """relpath -> md5 (or link target) of everything under ``base``, symlinks not followed."""
    out: dict[str, str] = {}
    for root, dirs, files in os.walk(base):
        rel_root = os.path.relpath(root, base)
        dirs[:] = [d for d in dirs if os.path.normpath(os.path.join(rel_root, d)) not in skip]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            p = os.path.join(root, name)
            rel = os.path.normpath(os.path.join(rel_root, name))
            if os.path.islink(p):
                out[rel] = "-> " + os.readlink(p)
            else:
                with open(p, "rb") as f:
                    out[rel] = hashlib.md5(f.read()).hexdigest() + f" {oct(os.stat(p).st_mode)}"
        out[rel_root + "/"] = "dir"
    return out


class World:
    """A repo with the payload in its cache, a victim folder beside it, and the snapshots."""

    def __init__(self, repo: Path, victim: Path, lv: Runner, git: Runner) -> None:
        self.repo, self.victim, self.lv, self.git = repo, victim, lv, git

    def protected(self) -> dict[str, dict[str, str]]:
        return {
            "victim": _tree_digest(self.victim),
            ".git": _tree_digest(self.repo / ".git", skip=("index",)),
            ".dvc": _tree_digest(self.repo / ".dvc", skip=("tmp",)),
        }

    def pointer(self, name: str, path: str, oid: str = OID, size: int | None = None, extra: str = "") -> None:
        size = len(PAYLOAD) if size is None else size
        text = f"outs:\n- md5: {oid}\n  size: {size}\n  hash: md5\n{extra}  path: {path}\n"
        target = self.repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def refused(self, args: list[str], code: int, *words: str) -> None:
        before = self.protected()
        workspace = snapshot(self.repo, skip=(".git", ".dvc"))
        _one_error_line(self.lv(*args, check=False), code, *words)
        assert self.protected() == before, args
        assert snapshot(self.repo, skip=(".git", ".dvc")) == workspace, args
        assert not Path("/tmp/labvault-pwned").exists()


@pytest.fixture
def world(git_repo: Path, lv: Runner, git: Runner, tmp_path: Path) -> World:
    lv("init")
    (git_repo / "payload").write_bytes(PAYLOAD)
    lv("add", "payload")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "f").write_text("keep me\n")
    (victim / "out.txt").write_text("the victim's own file\n")
    git("add", "-A")
    git("commit", "-qm", "start")
    return World(git_repo, victim, lv, git)


CONTROL_PATHS = [
    ".git/hooks/pre-commit",
    ".git/config",
    ".git",
    ".dvc/config",
    ".dvc/cache/files/md5/00/0000000000000000000000000000000",
    ".gitignore",
    ".dvcignore",
    ".gitattributes",
    ".gitmodules",
    "dvc.yaml",
    "dvc.lock",
    "other.dvc",
    "sub/.git",
    "sub/.git/hooks/post-checkout",
    "sub/.dvc/config",
    "sub/.gitignore",
]


@pytest.mark.parametrize("path", CONTROL_PATHS)
def test_pointer_naming_a_control_path_is_refused(world: World, path: str) -> None:
    world.pointer("evil.dvc", path, extra="  isexec: true\n")
    for args in (["checkout"], ["checkout", "--force"], ["checkout", "evil.dvc"], ["status"], ["commit", "-f"]):
        world.refused(args, 2, path)
    assert not (world.repo / ".git" / "hooks" / "pre-commit").exists()


def test_pointer_in_a_subfolder_reaching_a_control_file_is_refused(world: World) -> None:
    world.pointer("sub/evil.dvc", "../.gitignore")
    world.refused(["checkout", "--force"], 2, ".gitignore")


def test_output_inside_a_cache_dir_kept_in_the_repo_is_refused(world: World) -> None:
    world.lv("config", "cache.dir", "../store")
    world.lv("add", "payload")  # the payload again, in the new cache
    world.pointer("evil.dvc", f"store/files/md5/{OID[:2]}/{OID[2:]}x")
    world.refused(["checkout", "--force"], 2, "store")


@pytest.mark.parametrize("where", ["missing", "home-like"])
def test_committed_cache_dir_outside_the_repo_must_already_be_a_cache(world: World, where: str) -> None:
    """A clone's .dvc/config may point cache.dir at a lab's shared cache, but not make labvault
    create folders (or a files/ tree) anywhere it likes."""
    target = world.victim / "nowhere" if where == "missing" else world.victim
    config = world.repo / ".dvc" / "config"
    config.write_text(config.read_text() + f"[cache]\n    dir = {target}\n")
    (world.repo / "more").write_bytes(b"more data\n")
    for args in (["add", "more"], ["checkout", "--force"], ["status"], ["gc", "-w", "-f"]):
        world.refused(args, 2, "cache.dir", "outside the repository")
    assert not (world.victim / "nowhere").exists() and not (world.victim / "files").exists()
    # the same folder set in config.local (not committed) is the user's own choice
    config.write_text(config.read_text().replace(f"[cache]\n    dir = {target}\n", ""))
    (world.repo / ".dvc" / "config.local").write_text(f"[cache]\n    dir = {target}\n")
    world.lv("add", "more")
    assert (target / "files" / "md5").is_dir()


def test_committed_cache_dir_naming_an_existing_shared_cache_is_used(world: World, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()  # an empty folder made for the purpose
    world.lv("config", "cache.dir", str(shared))
    (world.repo / "more").write_bytes(b"more data\n")
    world.lv("add", "more")
    assert (shared / "files" / "md5").is_dir()
    world.lv("add", "more")  # now it holds a cache: still used


@pytest.mark.parametrize("relpath", [".git/hooks/pre-commit", "a/.git/config", ".dvc/config", ".git", "x/.dvcignore"])
def test_manifest_naming_a_control_path_is_refused(world: World, relpath: str) -> None:
    manifest = json.dumps([{"md5": OID, "relpath": relpath}], sort_keys=True).encode()
    moid = hashlib.md5(manifest).hexdigest() + ".dir"
    fan = world.repo / ".dvc" / "cache" / "files" / "md5" / moid[:2]
    fan.mkdir(parents=True, exist_ok=True)
    (fan / moid[2:]).write_bytes(manifest)
    world.pointer("evil.dvc", "evil", oid=moid, extra="  nfiles: 1\n")
    world.refused(["checkout", "--force", "evil.dvc"], 3, relpath)


def test_dvc_yaml_output_naming_a_control_path_is_refused(world: World) -> None:
    (world.repo / "dvc.yaml").write_text(
        "stages:\n  s:\n    cmd: cp payload .git/hooks/pre-commit\n    deps: [payload]\n    outs: [.git/hooks/pre-commit]\n"
    )
    for args in (["repro"], ["checkout", "--force"], ["status"]):
        world.refused(args, 2, ".git")


# --- symlinks committed in git ----------------------------------------------------------------


def _link(world: World, name: str, target: Path | str) -> None:
    os.symlink(target, world.repo / name)
    world.git("add", name)
    world.git("commit", "-qm", f"link {name}")


def test_checkout_through_a_symlinked_folder_is_refused(world: World) -> None:
    _link(world, "lnk", world.victim)
    world.pointer("esc.dvc", "lnk/new")  # would create a file outside
    world.refused(["checkout"], 2, "lnk", "outside the repository")
    world.refused(["checkout", "--force"], 2, "lnk")
    world.pointer("esc.dvc", "lnk/f")  # would overwrite one (--force)
    world.refused(["checkout", "--force"], 2, "lnk")


def test_checkout_into_a_folder_output_that_is_a_symlink_is_refused(world: World) -> None:
    _link(world, "lnk", world.victim)
    manifest = json.dumps([{"md5": OID, "relpath": "f"}, {"md5": OID, "relpath": "new"}], sort_keys=True).encode()
    moid = hashlib.md5(manifest).hexdigest() + ".dir"
    fan = world.repo / ".dvc" / "cache" / "files" / "md5" / moid[:2]
    fan.mkdir(parents=True, exist_ok=True)
    (fan / moid[2:]).write_bytes(manifest)
    world.pointer("lnk.dvc", "lnk", oid=moid, extra="  nfiles: 2\n")
    world.refused(["checkout", "--force"], 2, "lnk")
    world.refused(["unprotect", "lnk"], 2, "lnk")
    world.refused(["commit", "-f"], 2, "lnk")
    world.refused(["remove", "--outs", "--force", "lnk.dvc"], 2, "lnk")


def test_a_folder_output_whose_subfolder_is_a_symlink_gets_no_file_through_it(world: World) -> None:
    data = world.repo / "data"
    data.mkdir()
    (data / "a.txt").write_text("a\n")
    world.lv("add", "data")
    (data / "sub").symlink_to(world.victim)
    pairs = [{"md5": hashlib.md5(b"a\n").hexdigest(), "relpath": "a.txt"}, {"md5": OID, "relpath": "sub/f"}]
    manifest = json.dumps(pairs, sort_keys=True).encode()
    moid = hashlib.md5(manifest).hexdigest() + ".dir"
    fan = world.repo / ".dvc" / "cache" / "files" / "md5" / moid[:2]
    fan.mkdir(parents=True, exist_ok=True)
    (fan / moid[2:]).write_bytes(manifest)
    world.pointer("data.dvc", "data", oid=moid, extra="  nfiles: 2\n")
    world.refused(["checkout"], 2, "data/sub")
    world.refused(["checkout", "--force"], 2, "data/sub")


def test_symlink_into_git_dir_is_refused(world: World) -> None:
    _link(world, "hooks", ".git/hooks")
    world.pointer("esc.dvc", "hooks/pre-commit", extra="  isexec: true\n")
    world.refused(["checkout", "--force"], 2, "hooks")
    assert not (world.repo / ".git" / "hooks" / "pre-commit").exists()


def test_writers_refuse_an_output_behind_a_symlink(world: World) -> None:
    _link(world, "lnk", world.victim)
    world.pointer("esc.dvc", "lnk/f")
    world.refused(["remove", "--outs", "esc.dvc"], 2, "lnk")
    world.refused(["remove", "--outs", "--force", "esc.dvc"], 2, "lnk")
    world.refused(["remove", "esc.dvc"], 2, "lnk")  # would rewrite lnk/.gitignore
    world.refused(["commit", "-f"], 2, "lnk")
    world.refused(["unprotect", "lnk/f"], 2, "outside")  # the path itself leaves the repo
    world.refused(["unprotect", "esc.dvc"], 2, "lnk")
    world.refused(["move", "esc.dvc", "moved"], 2, "lnk")
    (world.repo / "esc.dvc").unlink()
    world.refused(["add", "lnk"], 2, "lnk")
    world.refused(["add", "lnk/f"], 2, "outside the repository")
    world.refused(["move", "payload", "lnk/payload"], 2, "outside")
    world.refused(["move", "payload.dvc", "lnk"], 2, "exists")
    before = world.protected()
    world.lv("gc", "-f")  # reads the workspace, deletes cache objects only
    assert world.protected()["victim"] == before["victim"]


def test_repro_never_deletes_or_restores_through_a_symlink(world: World) -> None:
    _link(world, "lnk", world.victim)
    (world.repo / "dvc.yaml").write_text(
        "stages:\n  s:\n    cmd: echo hi > lnk/out.txt\n    deps: [payload]\n    outs: [lnk/out.txt]\n"
    )
    world.refused(["repro"], 2, "lnk")
    world.refused(["repro", "--force"], 2, "lnk")
    lock = f"schema: '2.0'\nstages:\n  s:\n    cmd: echo hi > lnk/out.txt\n    outs:\n    - path: lnk/out.txt\n      hash: md5\n      md5: {OID}\n      size: {len(PAYLOAD)}\n"
    (world.repo / "dvc.lock").write_text(lock)
    world.refused(["checkout", "--force"], 2, "lnk")


def test_pull_from_a_remote_refuses_the_hostile_clone(world: World, git: Runner, lv: Runner, tmp_path: Path, env: dict[str, str]) -> None:
    """The attacker's repo is pushed to a folder remote and cloned; pull fetches, then refuses."""
    remote = tmp_path / "remote"
    world.lv("remote", "add", "-d", "store", str(remote))
    world.lv("push")
    _link(world, "lnk", world.victim)
    world.pointer("esc.dvc", "lnk/f")
    world.pointer("hook.dvc", ".git/hooks/pre-commit", extra="  isexec: true\n")
    world.git("add", "-A")
    world.git("commit", "-qm", "attack")
    clone = tmp_path / "clone"
    git("clone", "-q", str(world.repo), str(clone))
    cl = World(clone, world.victim, Runner(lv.argv0, clone, env), Runner(git.argv0, clone, env))
    cl.refused(["pull"], 2, ".git")
    (clone / "hook.dvc").unlink()
    for args in (["pull"], ["pull", "--force"]):
        before = _tree_digest(world.victim)
        _one_error_line(cl.lv(*args, check=False), 2, "lnk")
        assert _tree_digest(world.victim) == before
    assert (world.victim / "f").read_text() == "keep me\n"


# --- the checkout rule for every command that deletes ------------------------------------------


def test_remove_outs_refuses_to_delete_uncached_data(world: World) -> None:
    (world.repo / "payload").chmod(0o644)
    (world.repo / "payload").write_text("an edit never committed\n")
    world.refused(["remove", "--outs", "payload.dvc"], 4, "payload", "--force")
    world.refused(["remove", "--outs", "--dry-run", "payload.dvc"], 4, "payload", "--force")
    assert (world.repo / "payload.dvc").exists()
    world.lv("remove", "--outs", "--force", "payload.dvc")
    assert not (world.repo / "payload").exists()
    assert not (world.repo / "payload.dvc").exists()


def test_remove_outs_deletes_cached_data(world: World, make_tree: Callable[[Path, dict[str, bytes | str]], None]) -> None:
    make_tree(world.repo, {"d/a": "a\n", "d/b/c": "c\n"})
    world.lv("add", "d")
    (world.repo / "d" / "b" / "new").write_text("not in the cache\n")
    world.refused(["remove", "--outs", "d.dvc"], 4, "d/b/new")
    (world.repo / "d" / "b" / "new").unlink()
    before = (world.protected(), snapshot(world.repo, skip=(".git", ".dvc")))
    planned = json.loads(world.lv("remove", "--outs", "--dry-run", "--json", "d.dvc").stdout)
    assert [(r["pointer"], r["data_deleted"], r["dry_run"]) for r in planned] == [("d.dvc", True, True)]
    assert (world.protected(), snapshot(world.repo, skip=(".git", ".dvc"))) == before  # nothing changed
    world.lv("remove", "--outs", "d.dvc")
    assert not (world.repo / "d").exists()


def test_repro_saves_an_uncached_output_before_running(world: World) -> None:
    (world.repo / "dvc.yaml").write_text("stages:\n  s:\n    cmd: cp payload out.txt\n    deps: [payload]\n    outs: [out.txt]\n")
    world.lv("repro")
    out = world.repo / "out.txt"
    out.chmod(0o644)
    out.write_text("precious hand edit\n")
    proc = world.lv("repro")
    assert out.read_bytes() == PAYLOAD
    saved = hashlib.md5(b"precious hand edit\n").hexdigest()
    assert saved in proc.stderr
    obj = world.repo / ".dvc" / "cache" / "files" / "md5" / saved[:2] / saved[2:]
    assert obj.read_text() == "precious hand edit\n"
