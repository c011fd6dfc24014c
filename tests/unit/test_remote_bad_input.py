"""Bad input to the remote commands: an unknown remote, a malformed url, a bucket that does not
exist, wrong credentials, no default remote. Each: one line on stderr starting with ``error: ``, a
non-zero exit, and nothing changed (workspace, cache, config, and the remote)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Runner, snapshot
from tests.services import AzuriteServer, S3Server

TRANSFERS = (["push"], ["fetch"], ["pull"], ["status", "--cloud"])


def _state(repo: Path) -> dict[str, bytes]:
    return snapshot(repo, skip=(".git", "tmp"))


def _needs_fetch(repo: Path) -> None:
    """model.bin gone from the workspace and the cache: fetch and pull have something to get."""
    oid = hashlib.md5(b"weights\n", usedforsecurity=False).hexdigest()
    (repo / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]).unlink()
    (repo / "model.bin").unlink()


def _one_error_line(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode != 0, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: "), lines[0]
    for w in words:
        assert w.lower() in lines[0].lower(), (w, lines[0])


@pytest.fixture
def repo(git_repo: Path, git: Runner, lv: Runner, make_tree) -> Path:  # type: ignore[no-untyped-def]
    lv("init")
    make_tree(git_repo, {"data/a.txt": "a\n", "data/sub/b.txt": "b\n", "model.bin": "weights\n"})
    lv("add", "data", "model.bin")
    git("add", "-A")
    git("commit", "-q", "-m", "data")
    return git_repo


@pytest.fixture
def pushed_local(repo: Path, lv: Runner, tmp_path: Path) -> Path:
    """A local default remote holding everything, and a workspace without its data (to pull)."""
    store = tmp_path / "store"
    lv("remote", "add", "-d", "r", str(store))
    lv("push")
    return store


@pytest.mark.parametrize("cmd", [*TRANSFERS, ["remote", "modify", "nope", "jobs", "4"],
                                 ["remote", "remove", "nope"], ["remote", "rename", "nope", "other"],
                                 ["remote", "default", "nope"]])  # fmt: skip
def test_unknown_remote_name(repo: Path, lv: Runner, pushed_local: Path, cmd: list[str]) -> None:
    args = [*cmd, "-r", "nope"] if cmd[0] != "remote" else cmd
    before, remote_before = _state(repo), snapshot(pushed_local)
    _one_error_line(lv(*args, check=False), "nope", "not found")
    assert _state(repo) == before
    assert snapshot(pushed_local) == remote_before


@pytest.mark.parametrize(
    "url", ["s3://", "s3:///path", "gs://", "azure://", "s3://a/x", "ftp://host/path", "s3://bad bucket/x"]
)
def test_malformed_url_add(repo: Path, lv: Runner, url: str) -> None:
    before = _state(repo)
    _one_error_line(lv("remote", "add", "r", url, check=False))
    assert _state(repo) == before


def test_malformed_url_modify(repo: Path, lv: Runner, pushed_local: Path) -> None:
    before = _state(repo)
    _one_error_line(lv("remote", "modify", "r", "url", "s3:///nobucket", check=False))
    assert _state(repo) == before


def test_empty_url(repo: Path, lv: Runner) -> None:
    before = _state(repo)
    _one_error_line(lv("remote", "add", "r", "", check=False))
    assert _state(repo) == before


@pytest.mark.parametrize("cmd", TRANSFERS)
def test_bucket_does_not_exist(
    repo: Path, lv: Runner, env: dict[str, str], s3_server: S3Server, cmd: list[str]
) -> None:
    env.update(s3_server.env)
    lv("remote", "add", "-d", "r", "s3://lv-no-such-bucket-here/store")
    lv("remote", "modify", "r", "endpointurl", s3_server.endpoint)
    _needs_fetch(repo)
    before = _state(repo)
    _one_error_line(lv(*cmd, check=False), "lv-no-such-bucket-here")
    assert _state(repo) == before
    assert not any(b["Name"] == "lv-no-such-bucket-here" for b in s3_server.client().list_buckets()["Buckets"])


def test_local_remote_parent_missing(repo: Path, lv: Runner, tmp_path: Path) -> None:
    lv("remote", "add", "-d", "r", str(tmp_path / "no" / "such" / "store"))
    before = _state(repo)
    _one_error_line(lv("push", check=False), "does not exist")
    assert _state(repo) == before
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("cmd", TRANSFERS)
@pytest.mark.parametrize("where", ["/dev/null", "a-file", "a-file/store"])
def test_local_remote_url_names_a_file(repo: Path, lv: Runner, tmp_path: Path, cmd: list[str], where: str) -> None:
    """A folder remote whose url is an existing file (or lies below one): exit 8, one line, nothing
    changed (no traceback from trying to create the folder)."""
    (tmp_path / "a-file").write_bytes(b"not a folder\n")
    url = where if where.startswith("/") else str(tmp_path / where)
    lv("remote", "add", "-d", "r", url)
    _needs_fetch(repo)
    before = _state(repo)
    proc = lv(*cmd, check=False)
    _one_error_line(proc, "file")
    assert proc.returncode == 8, proc.stderr
    assert _state(repo) == before
    assert (tmp_path / "a-file").read_bytes() == b"not a folder\n"


WRONG_KEY = "V3Jvbmcga2V5IGZvciB0ZXN0cywgbm90IHRoZSBkZXZlbG9wbWVudCBrZXkgb2YgQXp1cml0ZSE="


@pytest.mark.parametrize("cmd", TRANSFERS)
def test_wrong_credentials_azure(
    repo: Path, lv: Runner, env: dict[str, str], azurite_server: AzuriteServer, cmd: list[str]
) -> None:
    container = azurite_server.make_container()
    env.update(azurite_server.env)
    good = azurite_server.connection_string
    bad = good.replace(good.split("AccountKey=")[1].split(";")[0], WRONG_KEY)
    lv("remote", "add", "-d", "r", f"azure://{container}/store")
    lv("remote", "modify", "r", "connection_string", bad)
    _needs_fetch(repo)
    before = _state(repo)
    _one_error_line(lv(*cmd, check=False), "credentials")
    assert _state(repo) == before
    assert azurite_server.keys(container) == {}


@pytest.mark.parametrize("cmd", TRANSFERS)
def test_wrong_credentials_s3(
    repo: Path, lv: Runner, env: dict[str, str], s3_auth_server: S3Server, cmd: list[str]
) -> None:
    bucket = s3_auth_server.make_bucket()
    env.update(s3_auth_server.env)
    env["AWS_SECRET_ACCESS_KEY"] = "not-the-right-secret"
    lv("remote", "add", "-d", "r", f"s3://{bucket}/store")
    lv("remote", "modify", "r", "endpointurl", s3_auth_server.endpoint)
    _needs_fetch(repo)
    before = _state(repo)
    _one_error_line(lv(*cmd, check=False), "credentials")
    assert _state(repo) == before
    assert s3_auth_server.keys(bucket) == {}


@pytest.mark.parametrize("cmd", [*TRANSFERS, ["data", "status", "--not-in-remote"]])
def test_no_default_remote(repo: Path, lv: Runner, tmp_path: Path, cmd: list[str]) -> None:
    lv("remote", "add", "r", str(tmp_path / "store"))  # a remote, but not the default
    before = _state(repo)
    _one_error_line(lv(*cmd, check=False), "no default remote")
    assert _state(repo) == before
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("cmd", [*TRANSFERS, ["data", "status", "--not-in-remote"]])
def test_no_remote_at_all(repo: Path, lv: Runner, cmd: list[str]) -> None:
    before = _state(repo)
    _one_error_line(lv(*cmd, check=False), "no default remote")
    assert _state(repo) == before


def test_remote_add_existing_name(repo: Path, lv: Runner, pushed_local: Path, tmp_path: Path) -> None:
    before = _state(repo)
    _one_error_line(lv("remote", "add", "r", str(tmp_path / "other"), check=False), "already exists")
    assert _state(repo) == before


def test_remote_modify_unknown_option(repo: Path, lv: Runner, pushed_local: Path) -> None:
    before = _state(repo)
    _one_error_line(lv("remote", "modify", "r", "endpointurl", "http://x", check=False), "endpointurl")
    assert _state(repo) == before


@pytest.mark.parametrize("option", ["version_aware", "worktree"])
@pytest.mark.parametrize("cmd", TRANSFERS)
def test_cloud_versioned_remote_is_refused(repo: Path, lv: Runner, tmp_path: Path, cmd: list[str],
                                            option: str) -> None:
    """A remote dvc keeps as a copy of the workspace with version ids (a cloned repository's
    config may say so): labvault would write a layout dvc does not read there, so it refuses."""
    store = tmp_path / "store"
    config = repo / ".dvc" / "config"
    config.write_text(config.read_text() + f"[core]\n    remote = v\n['remote \"v\"']\n    url = {store}\n"
                      f"    {option} = true\n")
    before = _state(repo)
    _one_error_line(lv(*cmd, check=False), "cloud-versioned", option)
    assert _state(repo) == before
    assert not store.exists()


@pytest.mark.parametrize(("options", "words"), [
    ({"auth": "digest", "user": "u", "password": "p"}, ["digest"]),
    ({"auth": "basic", "user": "u"}, ["user and password"]),
    ({"auth": "custom", "password": "p"}, ["custom_auth_header"]),
    ({"auth": "basic", "user": "u", "ask_password": "true"}, ["prompt"]),
    ({"method": "PATCH"}, ["method"]),
    ({"read_timeout": "soon"}, ["read_timeout"]),
])
@pytest.mark.parametrize("cmd", TRANSFERS)
def test_bad_http_remote_options(repo: Path, lv: Runner, cmd: list[str], options: dict[str, str],
                                 words: list[str]) -> None:
    """An http remote whose options cannot work: one line naming the option, before any request
    (nothing listens at the url)."""
    lines = "".join(f"    {k} = {v}\n" for k, v in options.items())
    config = repo / ".dvc" / "config"
    config.write_text(config.read_text() + "[core]\n    remote = w\n['remote \"w\"']\n    url = http://127.0.0.1:9/s\n"
                      + lines)
    before = _state(repo)
    _one_error_line(lv(*cmd, check=False), *words)
    assert _state(repo) == before


def test_http_remote_urls(repo: Path, lv: Runner) -> None:
    """http(s) urls are taken as remotes (and their options), refused with credentials in them, and
    refused where only storage urls serve (`cp`)."""
    lv("remote", "add", "web", "https://data.example.org/store")
    lv("remote", "modify", "web", "method", "PUT")
    lv("remote", "modify", "--local", "web", "auth", "basic")
    before = _state(repo)
    _one_error_line(lv("remote", "add", "w2", "https://ada:s3cret@data.example.org/store", check=False),
                    "credentials")
    _one_error_line(lv("remote", "modify", "web", "region", "x", check=False), "region")
    _one_error_line(lv("cp", "https://data.example.org/x.csv", "x.csv", check=False), "remote")
    assert _state(repo) == before


def test_remote_list_hides_secrets(repo: Path, lv: Runner) -> None:
    import json

    lv("remote", "add", "web", "https://data.example.org/store")
    lv("remote", "modify", "--local", "web", "user", "ada")
    lv("remote", "modify", "--local", "web", "password", "s3cret")
    lv("remote", "add", "s3r", "s3://bucket/path")
    lv("remote", "modify", "--local", "s3r", "secret_access_key", "AKIAsecretvalue")
    out = lv("remote", "list", "--json").stdout
    assert "s3cret" not in out and "AKIAsecretvalue" not in out, out
    listed = {r["name"]: r for r in json.loads(out)}
    assert listed["web"]["options"] == {"user": "ada", "password": "******"}
    assert listed["s3r"]["options"]["secret_access_key"] == "******"
