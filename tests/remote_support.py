"""One description of a remote for every storage kind the tests run against: its URL, the options
``open_backend`` and ``labvault remote modify`` take, the environment a subprocess needs, and raw
access to the stored objects (through the server's own API, not through labvault)."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

KINDS = ("local", "s3", "azure", "gs")


@dataclass
class RemoteTarget:
    kind: str
    url: str  # the remote's root URL (a bucket/container plus a prefix, or a folder)
    options: dict[str, str]  # for open_backend
    env: dict[str, str]  # for subprocesses (credentials, emulator host)
    missing_url: str  # same kind, on a bucket/container/folder that does not exist
    _server: Any = field(default=None, repr=False)
    _bucket: str = ""
    _prefix: str = ""
    _root: Path | None = None

    @property
    def cli_options(self) -> list[tuple[str, str]]:
        """``labvault remote modify r OPTION VALUE`` pairs that point a remote at the server."""
        if self.kind in ("s3", "gs"):
            return [("endpointurl", self.options["endpointurl"])]
        if self.kind == "azure":
            return [("connection_string", self.options["connection_string"])]
        return []

    def _full(self, key: str) -> str:
        return f"{self._prefix}/{key}" if self._prefix else key

    def listing(self, prefix: str = "") -> dict[str, int]:
        """key (relative to the remote's root) -> size, for every stored object under ``prefix``."""
        if self._root is not None:
            out: dict[str, int] = {}
            base = self._root / prefix if prefix else self._root
            for dirpath, _dirs, files in os.walk(base):
                for name in files:
                    p = Path(dirpath) / name
                    out[p.relative_to(self._root).as_posix()] = p.stat().st_size
            return out
        full = self._full(prefix)
        cut = len(self._prefix) + 1 if self._prefix else 0
        return {k[cut:]: v for k, v in self._server.keys(self._bucket, full).items()}

    def read(self, key: str) -> bytes:
        if self._root is not None:
            return (self._root / key).read_bytes()
        return bytes(self._server.read(self._bucket, self._full(key)))

    def write(self, key: str, data: bytes) -> None:
        if self._root is not None:
            p = self._root / key
            p.parent.mkdir(parents=True, exist_ok=True)
            if p.exists():
                p.chmod(stat.S_IRUSR | stat.S_IWUSR)
            p.write_bytes(data)
            return
        self._server.write(self._bucket, self._full(key), data)

    def remove(self, key: str) -> None:
        if self._root is not None:
            (self._root / key).unlink()
            return
        self._server.remove(self._bucket, self._full(key))

    def object_keys(self) -> dict[str, int]:
        """The DVC 3.x objects (``files/md5/XX/YYYY``) on the remote."""
        return self.listing("files/md5")

    def assert_objects_intact(self) -> None:
        """Every object's content hashes to its name (manifests included)."""
        for key in self.object_keys():
            parts = key.split("/")
            name = parts[2] + parts[3]
            digest = hashlib.md5(self.read(key), usedforsecurity=False).hexdigest()
            assert name == digest or name == digest + ".dir", f"{key}: content md5 is {digest}"


def make_target(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> RemoteTarget:
    """A fresh, empty remote of ``kind``; the servers start on first use (session scope)."""
    if kind == "local":
        root = tmp_path / "remote-store"
        root.mkdir()
        return RemoteTarget(
            kind, str(root), {}, {}, str(tmp_path / "no-such-parent" / "store"), _root=root
        )
    if kind == "s3":
        s3 = request.getfixturevalue("s3_server")
        bucket = s3.make_bucket()
        return RemoteTarget(
            kind, f"s3://{bucket}/store", s3.options, s3.env, f"s3://{bucket}-missing/store",
            _server=s3, _bucket=bucket, _prefix="store",
        )  # fmt: skip
    if kind == "azure":
        az = request.getfixturevalue("azurite_server")
        container = az.make_container()
        return RemoteTarget(
            kind, f"azure://{container}/store", az.options, az.env, f"azure://{container}-missing/store",
            _server=az, _bucket=container, _prefix="store",
        )  # fmt: skip
    if kind == "gs":
        gcs = request.getfixturevalue("gcs_server")
        bucket = gcs.make_bucket()
        return RemoteTarget(
            kind, f"gs://{bucket}/store", gcs.options, gcs.env, f"gs://{bucket}-missing/store",
            _server=gcs, _bucket=bucket, _prefix="store",
        )  # fmt: skip
    raise ValueError(kind)


@pytest.fixture(params=KINDS)
def remote_target(request: pytest.FixtureRequest, tmp_path: Path) -> RemoteTarget:
    return make_target(request.param, request, tmp_path)
