"""Remotes shared with the real dvc (and dvc-s3): what ``labvault push`` sends, ``dvc pull`` gets, and
what ``dvc push`` sends, ``labvault pull`` gets; on a local folder and on moto's S3 server. Both tools
read the same ``.dvc/config``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.interop._support import DIR_TREE, big_blob, commit_all, under, workspace
from tests.remote_support import RemoteTarget, make_target

pytestmark = pytest.mark.interop

KINDS = ["local", "s3"]


def _files() -> dict[str, bytes | str]:
    return {**under("data", DIR_TREE), "model.bin": big_blob(6 * 1024 * 1024 + 9), "notes.txt": "notes\n"}


def _configure(tool: Runner, target: RemoteTarget) -> None:
    tool("remote", "add", "-d", "r", target.url)
    for option, value in target.cli_options:
        tool("remote", "modify", "r", option, value)


@pytest.fixture(params=KINDS)
def target(request: pytest.FixtureRequest, tmp_path: Path, env: dict[str, str]) -> RemoteTarget:
    t = make_target(request.param, request, tmp_path)
    env.update(t.env)
    return t


def test_dvc_pulls_what_labvault_pushed(
    target: RemoteTarget, git_repo: Path, git: Runner, lv: Runner, dvc: Runner, make_tree, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    make_tree(git_repo, _files())
    lv("init")
    lv("add", "data", "model.bin", "notes.txt")
    _configure(lv, target)
    commit_all(git, "data")
    lv("push")
    target.assert_objects_intact()

    clone = tmp_path / "clone"
    git("clone", "-q", str(git_repo), str(clone))
    status = json.loads(dvc("status", "--cloud", "--json", cwd=clone).stdout)
    assert status != {}, status  # the clone's cache is empty: dvc sees what to pull
    dvc("pull", cwd=clone)
    assert workspace(clone) == workspace(git_repo)
    assert json.loads(dvc("status", "--cloud", "--json", cwd=clone).stdout) == {}


def test_labvault_pulls_what_dvc_pushed(
    target: RemoteTarget, git_repo: Path, git: Runner, lv: Runner, dvc: Runner, make_tree, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    make_tree(git_repo, _files())
    dvc("init", "-q")
    dvc("add", "-q", "data", "model.bin", "notes.txt")
    _configure(dvc, target)
    commit_all(git, "data")
    dvc("push", "-q")
    target.assert_objects_intact()

    clone = tmp_path / "clone"
    git("clone", "-q", str(git_repo), str(clone))
    pulled = json.loads(lv("pull", "--json", cwd=clone).stdout)
    assert pulled["failed"] == [] and pulled["corrupt"] == [], pulled
    assert workspace(clone) == workspace(git_repo)
    # Nothing to send back: labvault finds every object dvc pushed.
    assert json.loads(lv("push", "--json", cwd=clone).stdout)["transferred"] == 0
    assert json.loads(lv("status", "--cloud", "--json", cwd=clone).stdout)["in_sync"] is True


def test_same_remote_both_ways(
    target: RemoteTarget, git_repo: Path, git: Runner, lv: Runner, dvc: Runner, make_tree, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """dvc pushes a first version, labvault adds and pushes a second; each pulls the other's."""
    make_tree(git_repo, {"data/a.txt": "one\n", "data/sub/b.txt": "two\n"})
    dvc("init", "-q")
    dvc("add", "-q", "data")
    _configure(dvc, target)
    commit_all(git, "v1")
    dvc("push", "-q")
    make_tree(git_repo, {"data/a.txt": "one, changed\n", "data/c.txt": "three\n"})
    lv("add", "data")
    commit_all(git, "v2")
    lv("push")
    target.assert_objects_intact()

    clone = tmp_path / "clone"
    git("clone", "-q", str(git_repo), str(clone))
    dvc("pull", cwd=clone)
    assert workspace(clone) == workspace(git_repo)
    git("checkout", "-q", "HEAD~1", cwd=clone)
    lv("pull", cwd=clone)
    assert (clone / "data" / "a.txt").read_text() == "one\n"
    assert not (clone / "data" / "c.txt").exists()


@pytest.mark.parametrize("url", ["~/store", "~/remotes/lab"])
def test_tilde_url_as_dvc(
    url: str, git_repo: Path, git: Runner, lv: Runner, dvc: Runner, env: dict[str, str], make_tree, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """A remote url starting with ``~``: stored as written in .dvc/config (dvc does not make it
    relative to .dvc/), expanded to $HOME when used; each tool reads what the other pushed there."""
    home = Path(env["HOME"])
    (home / url[2:]).parent.mkdir(parents=True, exist_ok=True)  # labvault creates the last folder only
    make_tree(git_repo, {"data/a.txt": "one\n", "data/sub/b.txt": "two\n", "model.bin": "weights\n"})
    dvc("init", "-q")
    dvc("remote", "add", "-d", "r", url)
    by_dvc = (git_repo / ".dvc" / "config").read_text()
    dvc("remote", "remove", "r")
    lv("remote", "add", "-d", "r", url)
    mine = (git_repo / ".dvc" / "config").read_text()
    assert f"url = {url}\n" in by_dvc and f"url = {url}\n" in mine, (by_dvc, mine)
    lv("add", "data", "model.bin")
    commit_all(git, "data")
    pushed = json.loads(lv("push", "--json").stdout)
    assert pushed["transferred"] == 4 and pushed["failed"] == [], pushed  # 3 files, 1 manifest
    store = home / url[2:]
    assert len([p for p in (store / "files" / "md5").rglob("*") if p.is_file()]) == 4
    assert not any(p.name == "~" for p in git_repo.rglob("~"))  # no literal '~' folder anywhere
    assert json.loads(dvc("status", "--cloud", "--json").stdout) == {}  # dvc finds it all there

    clone = tmp_path / "clone"
    git("clone", "-q", str(git_repo), str(clone))
    dvc("pull", cwd=clone)
    assert (clone / "data" / "sub" / "b.txt").read_text() == "two\n"
    (clone / "extra.txt").write_text("dvc adds this\n")
    dvc("add", "-q", "extra.txt", cwd=clone)
    dvc("push", "-q", cwd=clone)
    commit_all(git, "extra", cwd=clone)
    git("pull", "-q", str(clone), "main")
    got = json.loads(lv("pull", "--json").stdout)
    assert got["transferred"] == 1 and got["failed"] == [], got
    assert (git_repo / "extra.txt").read_text() == "dvc adds this\n"
    assert json.loads(lv("status", "--cloud", "--json").stdout)["in_sync"] is True
