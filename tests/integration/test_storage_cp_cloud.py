"""`labvault cp` / `ls` against real storage servers (moto S3, the GCS emulator, Azurite), started by
the fixtures of tests/services.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from labvault import api
from labvault.errors import PathError, RemoteError
from labvault.fsutil import TMP_SUFFIX
from tests.conftest import Runner, snapshot
from tests.services import unique_name

FILES = {"a.txt": b"hello\n", "sub/b.txt": b"bb\n", "sub/deep/c.bin": bytes(range(256)) * 40}
SCHEMES = {"s3": "s3", "gs": "gs", "azure": "azure"}


@dataclass
class Store:
    """One bucket (or container) on one server, and the environment that reaches it."""

    scheme: str
    bucket: str
    server: Any
    env: dict[str, str]

    def url(self, key: str = "") -> str:
        return f"{self.scheme}://{self.bucket}/{key}" if key else f"{self.scheme}://{self.bucket}"

    def keys(self, prefix: str = "") -> dict[str, bytes]:
        return {k: self.server.read(self.bucket, k) for k in self.server.keys(self.bucket, prefix)}

    def put(self, files: dict[str, bytes], prefix: str = "") -> None:
        for rel, content in files.items():
            self.server.write(self.bucket, f"{prefix}{rel}", content)


def _store(request: pytest.FixtureRequest, kind: str) -> Store:
    if kind == "s3":
        s3 = request.getfixturevalue("s3_server")
        env = dict(s3.env, AWS_ENDPOINT_URL_S3=s3.endpoint)
        return Store("s3", s3.make_bucket(), s3, env)
    if kind == "gs":
        gcs = request.getfixturevalue("gcs_server")
        return Store("gs", gcs.make_bucket(), gcs, dict(gcs.env))
    az = request.getfixturevalue("azurite_server")
    env = dict(az.env, AZURE_STORAGE_CONNECTION_STRING=az.connection_string)
    return Store("azure", az.make_container(), az, env)


@pytest.fixture(params=sorted(SCHEMES))
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A fresh bucket on each kind of server; the environment reaches it in this process too."""
    s = _store(request, request.param)
    for k, v in s.env.items():
        monkeypatch.setenv(k, v)
    yield s


@pytest.fixture
def lvs(lv: Runner, store: Store) -> Runner:
    """The CLI, with the store's credentials and endpoint in its environment."""
    lv.env.update(store.env)
    return lv


@pytest.fixture
def data(tmp_path: Path) -> Path:
    src = tmp_path / "data"
    for rel, content in FILES.items():
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    return src


def _no_temp_files(base: Path) -> None:
    assert not [p for p in base.rglob("*") if p.name.endswith(TMP_SUFFIX)]


# --- uploads -------------------------------------------------------------------------------------

def test_upload_file_to_bucket_prefix_and_name(store: Store, data: Path) -> None:
    api.cp(data / "a.txt", store.url())
    api.cp(data / "a.txt", store.url("runs/1/"))
    r = api.cp(data / "a.txt", store.url("named.txt"))
    assert store.keys() == {"a.txt": b"hello\n", "runs/1/a.txt": b"hello\n", "named.txt": b"hello\n"}
    assert r.destination == store.url("named.txt") and r.bytes == 6


def test_upload_file_onto_existing_prefix_goes_inside(store: Store, data: Path) -> None:
    store.put({"x.bin": b"x"}, "models/")
    api.cp(data / "a.txt", store.url("models"))
    assert set(store.keys("models/")) == {"models/x.bin", "models/a.txt"}


def test_upload_folder(store: Store, data: Path) -> None:
    r = api.cp(f"{data}/", store.url("tree/"), recursive=True, jobs=4)
    assert store.keys() == {f"tree/{k}": v for k, v in FILES.items()}
    assert r.files == 3 and r.ok
    api.cp(data, store.url("tree/"), recursive=True)  # no slash on the source: goes inside
    assert set(store.keys("tree/data/")) == {f"tree/data/{k}" for k in FILES}


def test_upload_folder_to_bucket_root(store: Store, data: Path) -> None:
    api.cp(f"{data}/", store.url(), recursive=True)
    assert store.keys() == FILES


# --- downloads -----------------------------------------------------------------------------------

def test_download_file(store: Store, tmp_path: Path) -> None:
    store.put(FILES, "p/")
    api.cp(store.url("p/sub/deep/c.bin"), tmp_path / "got.bin")
    assert (tmp_path / "got.bin").read_bytes() == FILES["sub/deep/c.bin"]
    (tmp_path / "folder").mkdir()
    api.cp(store.url("p/a.txt"), tmp_path / "folder")
    assert (tmp_path / "folder" / "a.txt").read_bytes() == b"hello\n"
    _no_temp_files(tmp_path)


def test_download_prefix_and_bucket(store: Store, tmp_path: Path) -> None:
    store.put(FILES, "p/")
    store.put({"sibling.txt": b"s"}, "p2/")  # shares the prefix "p" but is not below "p/"
    r = api.cp(store.url("p/"), tmp_path / "contents", recursive=True)
    assert snapshot(tmp_path / "contents") == FILES
    assert r.files == 3 and r.bytes == sum(len(v) for v in FILES.values())
    (tmp_path / "into").mkdir()
    api.cp(store.url("p"), tmp_path / "into", recursive=True)
    assert snapshot(tmp_path / "into") == {f"p/{k}": v for k, v in FILES.items()}
    api.cp(store.url(), tmp_path / "whole", recursive=True)
    assert snapshot(tmp_path / "whole") == {**{f"p/{k}": v for k, v in FILES.items()}, "p2/sibling.txt": b"s"}
    _no_temp_files(tmp_path)


def test_download_overwrites_atomically(store: Store, tmp_path: Path) -> None:
    store.put({"a.txt": b"new\n"})
    dst = tmp_path / "a.txt"
    dst.write_bytes(b"old and longer\n")
    inode = dst.stat().st_ino
    api.cp(store.url("a.txt"), dst)
    assert dst.read_bytes() == b"new\n" and dst.stat().st_ino != inode
    _no_temp_files(tmp_path)


# --- remote to remote ----------------------------------------------------------------------------

def test_remote_to_remote_same_bucket(store: Store) -> None:
    store.put(FILES, "src/")
    r = api.cp(store.url("src/"), store.url("dst/"), recursive=True)
    assert store.keys("dst/") == {f"dst/{k}": v for k, v in FILES.items()}
    assert r.files == 3
    api.cp(store.url("src/a.txt"), store.url("single.txt"))
    assert store.keys("single.txt") == {"single.txt": b"hello\n"}


def test_remote_to_remote_across_kinds(store: Store, request: pytest.FixtureRequest,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    other_kind = {"s3": "gs", "gs": "azure", "azure": "s3"}[store.scheme]
    other = _store(request, other_kind)
    for k, v in other.env.items():
        monkeypatch.setenv(k, v)
    store.put(FILES, "m/")
    api.cp(store.url("m"), other.url("copy/"), recursive=True, jobs=2)
    assert other.keys() == {f"copy/m/{k}": v for k, v in FILES.items()}
    api.cp(other.url("copy/m/a.txt"), store.url("back/"))
    assert store.keys("back/") == {"back/a.txt": b"hello\n"}


# --- ls --------------------------------------------------------------------------------------------

def test_ls(store: Store) -> None:
    store.put(FILES, "p/")
    store.put({"top.txt": b"t", "p2/x": b"x"})
    root = [(e.name, e.is_dir) for e in api.ls(store.url())]
    assert root == [("p", True), ("p2", True), ("top.txt", False)]
    inside = {e.name: (e.size, e.is_dir) for e in api.ls(store.url("p/"))}
    assert inside == {"a.txt": (6, False), "sub": (0, True)}
    assert [(e.name, e.size) for e in api.ls(store.url("p/a.txt"))] == [("a.txt", 6)]
    rec = {e.name: e.size for e in api.ls(store.url("p"), recursive=True)}
    assert rec == {k: len(v) for k, v in FILES.items()}


# --- errors ----------------------------------------------------------------------------------------

def test_errors(store: Store, data: Path, tmp_path: Path) -> None:
    store.put(FILES, "p/")
    with pytest.raises(PathError, match="does not exist"):
        api.cp(store.url("p/nope.txt"), tmp_path / "x")
    with pytest.raises(PathError, match="is a folder"):
        api.cp(store.url("p"), tmp_path / "x")
    missing = f"{store.scheme}://{unique_name('nobucket')}"
    with pytest.raises(RemoteError, match="does not exist"):
        api.cp(f"{missing}/a.txt", tmp_path / "x")
    with pytest.raises(RemoteError, match="does not exist"):
        api.cp(data / "a.txt", f"{missing}/a.txt")
    with pytest.raises(RemoteError, match="does not exist"):
        api.ls(missing)
    with pytest.raises(PathError, match="does not exist"):
        api.ls(store.url("nope/"))
    assert not (tmp_path / "x").exists()
    assert set(store.keys()) == {f"p/{k}" for k in FILES}


# --- the command line ------------------------------------------------------------------------------

def test_cli_round_trip(store: Store, lvs: Runner, data: Path, tmp_path: Path) -> None:
    out = json.loads(lvs("cp", "-r", f"{data}/", store.url("cli/"), "--json").stdout)
    assert out["files"] == 3 and out["failed"] == []
    listed = json.loads(lvs("ls", store.url("cli/"), "--json").stdout)
    assert listed == [{"name": "a.txt", "size": 6, "is_dir": False}, {"name": "sub", "size": 0, "is_dir": True}]
    text = lvs("ls", "-R", store.url("cli")).stdout
    assert "sub/deep/c.bin" in text and "10.0 KiB" in text
    lvs("cp", "-r", store.url("cli/"), str(tmp_path / "back"))
    assert snapshot(tmp_path / "back") == FILES
    proc = lvs("cp", store.url("cli"), str(tmp_path / "y"), check=False)
    assert proc.returncode == 2 and "is a folder" in proc.stderr
    proc = lvs("ls", f"{store.scheme}://{unique_name('nobucket')}/x", check=False)
    assert proc.returncode == 8 and "bucket" in proc.stderr
