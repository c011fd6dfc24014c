"""Real storage servers for the remote tests, started by the test setup on 127.0.0.1.

Each server is a separate process on a free port, started once per pytest worker (session scope):

* ``s3_server``: moto's S3 server (``moto_server``, PyPI ``moto[server]``);
* ``azurite_server``: Azurite's blob service (npm ``azurite``, from ``node_modules``: ``make services``);
* ``gcs_server``: gcp-storage-emulator (PyPI), in memory, started through tests/gcs_emulator.py,
  which corrects how the emulator reads multipart uploads (it drops an object's final ``\\r``).

Nothing is created on a server by its fixture: tests make their own uniquely named bucket or
container with the helpers (``make_bucket`` / ``make_container``, or the ``s3_bucket``,
``azure_container`` and ``gcs_bucket`` fixtures). When a server cannot start, the tests using it
are skipped, except in CI (``CI=true``) where that is a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# gcsfs 2026.x waits on a 60 s timeout per call against the emulator unless this is off; it must be
# set before gcsfs is first imported (here, and in every subprocess through the env fixture).
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"

S3_KEY = "testing"
S3_SECRET = "testing"
AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's published development key (the same for every Azurite install; not a secret).
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
START_TIMEOUT = 30.0


def unavailable(message: str) -> NoReturn:
    """A server the tests need is missing: a failure in CI, a skip elsewhere."""
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique_name(prefix: str = "lv") -> str:
    """A bucket/container name valid on S3, GCS and Azure: lowercase, digits, hyphens, 3-63 chars."""
    # Letters only: a name never carries digit runs such as "403" or "500" into error messages.
    letters = uuid.uuid4().hex[:20].translate(str.maketrans("0123456789", "qrstuvwxyz"))
    return f"{prefix}-{letters}"


def _die_with_parent() -> None:
    """In the child: receive SIGTERM when the pytest worker dies, even by kill -9 (Linux only)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass


class ServerProcess:
    """A server command line run in the background, its output kept in a log file."""

    def __init__(
        self, name: str, argv: list[str], port: int, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        self.name = name
        self.port = port
        self.log_path = Path(tempfile.mkstemp(prefix=f"labvault-{name}-", suffix=".log")[1])
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(cwd or ROOT),
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )

    def log_tail(self, limit: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def wait_ready(self, probe_path: str | None, timeout: float = START_TIMEOUT) -> None:
        """Wait until the port accepts connections (and, with ``probe_path``, answers HTTP)."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                if probe_path is None:
                    return
                req = urllib.request.Request(f"http://127.0.0.1:{self.port}{probe_path}")
                try:
                    with _opener.open(req, timeout=5):
                        return
                except urllib.error.HTTPError as exc:  # any HTTP answer means it is up
                    if exc.code < 500:
                        return
                    last = f"HTTP {exc.code}"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} not ready on port {self.port} after {timeout:.0f}s ({last}):\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
        try:
            self.log_path.unlink()
        except OSError:
            pass


# Never send loopback requests through a proxy configured in the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with _opener.open(req, timeout=30) as resp:
        return bytes(resp.read())


def _start(
    name: str,
    argv: list[str],
    port: int,
    probe_path: str | None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> ServerProcess:
    try:
        server = ServerProcess(name, argv, port, env, cwd)
    except OSError as exc:
        unavailable(f"cannot start {name} ({argv[0]}): {exc}")
    try:
        server.wait_ready(probe_path)
    except RuntimeError as exc:
        unavailable(str(exc))
    return server


def _venv_tool(name: str) -> str | None:
    """A console script of this interpreter's environment, else one on PATH."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    return shutil.which(name)


# --------------------------------------------------------------------------------------- S3 (moto)


@dataclass
class S3Server:
    endpoint: str
    port: int
    process: ServerProcess = field(repr=False)
    key: str = S3_KEY
    secret: str = S3_SECRET

    @property
    def env(self) -> dict[str, str]:
        """Variables for a subprocess to reach this server with the test credentials."""
        return {
            "AWS_ACCESS_KEY_ID": self.key,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }

    @property
    def options(self) -> dict[str, str]:
        """Remote options for ``open_backend`` (no environment needed)."""
        return {"endpointurl": self.endpoint, "access_key_id": self.key, "secret_access_key": self.secret}

    def client(self, endpoint: str | None = None) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=endpoint or self.endpoint,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )

    def make_bucket(self, prefix: str = "lv") -> str:
        name = unique_name(prefix)
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> dict[str, int]:
        """key -> size of every object under ``prefix``."""
        out: dict[str, int] = {}
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                out[obj["Key"]] = int(obj["Size"])
        return out

    def read(self, bucket: str, key: str) -> bytes:
        return bytes(self.client().get_object(Bucket=bucket, Key=key)["Body"].read())

    def write(self, bucket: str, key: str, data: bytes) -> None:
        self.client().put_object(Bucket=bucket, Key=key, Body=data)

    def remove(self, bucket: str, key: str) -> None:
        self.client().delete_object(Bucket=bucket, Key=key)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    exe = _venv_tool("moto_server")
    if exe is None:
        unavailable("moto_server not found: install the dev extra (`make venv`, moto[server])")
    port = free_port()
    env = dict(os.environ)
    env.pop("AWS_ENDPOINT_URL", None)
    env.pop("AWS_ENDPOINT_URL_S3", None)
    server = _start("moto", [exe, "-H", "127.0.0.1", "-p", str(port)], port, "/moto-api/", env)
    try:
        yield S3Server(f"http://127.0.0.1:{port}", port, server)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_auth_server() -> Iterator[S3Server]:
    """A second moto server that checks credentials (for wrong-credential tests): its first three
    requests, unauthenticated, make a user with full S3 rights and its access key."""
    exe = _venv_tool("moto_server")
    if exe is None:
        unavailable("moto_server not found: install the dev extra (`make venv`, moto[server])")
    port = free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
    env.pop("AWS_ENDPOINT_URL", None)
    env.pop("AWS_ENDPOINT_URL_S3", None)
    server = _start("moto-auth", [exe, "-H", "127.0.0.1", "-p", str(port)], port, None, env)
    try:
        import boto3

        endpoint = f"http://127.0.0.1:{port}"
        iam = boto3.client(
            "iam", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET,
        )  # fmt: skip
        iam.create_user(UserName="tester")
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="tester", PolicyName="s3", PolicyDocument=json.dumps(policy))
        made = iam.create_access_key(UserName="tester")["AccessKey"]
    except Exception as exc:
        server.stop()
        unavailable(f"cannot set up credentials on moto-auth: {exc}")
    try:
        yield S3Server(endpoint, port, server, made["AccessKeyId"], made["SecretAccessKey"])
    finally:
        server.stop()


@contextlib.contextmanager
def restore_delayed(s3: S3Server, times: int) -> Iterator[int]:
    """moto answers ``ongoing-request="true"`` for an archive restore once ``times`` reads of its key
    have gone by, for ``times`` reads (before that it says ``"false"``); the setting is read live."""
    def post(path: str, body: dict[str, object]) -> None:
        req = urllib.request.Request(f"{s3.endpoint}/moto-api/state-manager/{path}",
                                     data=json.dumps(body).encode(), method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    post("set-transition", {"model_name": "s3::keyrestore", "transition": {"progression": "manual", "times": times}})
    try:
        yield times
    finally:
        post("unset-transition", {"model_name": "s3::keyrestore"})


@pytest.fixture
def restore_delay(s3_server: S3Server) -> Iterator[int]:
    """moto answers ``ongoing-request="true"`` for the first 6 status reads of an archive restore."""
    with restore_delayed(s3_server, 6) as times:
        yield times


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A new, empty bucket on the S3 server for this test."""
    return s3_server.make_bucket()


# ---------------------------------------------------------------------------------- Azure (Azurite)


@dataclass
class AzuriteServer:
    connection_string: str
    endpoint: str
    port: int
    process: ServerProcess = field(repr=False)

    @property
    def env(self) -> dict[str, str]:
        return {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}

    @property
    def options(self) -> dict[str, str]:
        return {"connection_string": self.connection_string}

    def service(self) -> Any:
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.connection_string)

    def make_container(self, prefix: str = "lv") -> str:
        name = unique_name(prefix)
        self.service().create_container(name)
        return name

    def keys(self, container: str, prefix: str = "") -> dict[str, int]:
        cc = self.service().get_container_client(container)
        return {b.name: int(b.size) for b in cc.list_blobs(name_starts_with=prefix or None)}

    def read(self, container: str, key: str) -> bytes:
        return bytes(self.service().get_blob_client(container, key).download_blob().readall())

    def write(self, container: str, key: str, data: bytes) -> None:
        self.service().get_blob_client(container, key).upload_blob(data, overwrite=True)

    def remove(self, container: str, key: str) -> None:
        self.service().get_blob_client(container, key).delete_blob()


@pytest.fixture(scope="session")
def azurite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteServer]:
    exe = ROOT / "node_modules" / ".bin" / "azurite-blob"
    if not exe.exists():
        unavailable(f"Azurite not installed at {exe}: run `make services` (npm ci)")
    if shutil.which("node") is None:
        unavailable("node is not on PATH: Azurite needs Node.js 20")
    port = free_port()
    workspace = tmp_path_factory.mktemp("azurite")
    argv = [
        str(exe),
        "--blobHost", "127.0.0.1",
        "--blobPort", str(port),
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--disableTelemetry",
        "--silent",
    ]  # fmt: skip
    server = _start("azurite", argv, port, None, cwd=workspace)  # any stray file lands there
    endpoint = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={endpoint};"
    )
    try:
        yield AzuriteServer(conn, endpoint, port, server)
    finally:
        server.stop()


@pytest.fixture
def azure_container(azurite_server: AzuriteServer) -> str:
    """A new, empty container on Azurite for this test."""
    return azurite_server.make_container()


# ------------------------------------------------------------------------------ GCS (emulator)


@dataclass
class GcsServer:
    endpoint: str
    port: int
    process: ServerProcess = field(repr=False)

    @property
    def env(self) -> dict[str, str]:
        return {
            "STORAGE_EMULATOR_HOST": self.endpoint,
            "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }

    @property
    def options(self) -> dict[str, str]:
        return {"endpointurl": self.endpoint}

    def make_bucket(self, prefix: str = "lv") -> str:
        name = unique_name(prefix)
        body = json.dumps({"name": name}).encode()
        _http("POST", f"{self.endpoint}/storage/v1/b?project=test", body, {"Content-Type": "application/json"})
        return name

    def keys(self, bucket: str, prefix: str = "") -> dict[str, int]:
        out: dict[str, int] = {}
        token = ""
        while True:
            q = urllib.parse.urlencode({"prefix": prefix, **({"pageToken": token} if token else {})})
            page = json.loads(_http("GET", f"{self.endpoint}/storage/v1/b/{bucket}/o?{q}"))
            for item in page.get("items", []):
                out[item["name"]] = int(item["size"])
            token = page.get("nextPageToken", "")
            if not token:
                return out

    def read(self, bucket: str, key: str) -> bytes:
        q = urllib.parse.quote(key, safe="")
        return _http("GET", f"{self.endpoint}/download/storage/v1/b/{bucket}/o/{q}?alt=media")

    def write(self, bucket: str, key: str, data: bytes) -> None:
        q = urllib.parse.urlencode({"uploadType": "media", "name": key})
        _http("POST", f"{self.endpoint}/upload/storage/v1/b/{bucket}/o?{q}", data,
              {"Content-Type": "application/octet-stream"})  # fmt: skip

    def remove(self, bucket: str, key: str) -> None:
        q = urllib.parse.quote(key, safe="")
        _http("DELETE", f"{self.endpoint}/storage/v1/b/{bucket}/o/{q}")


def start_gcs(stock: bool = False) -> GcsServer:
    """gcp-storage-emulator on a free port, through tests/gcs_emulator.py (which corrects how it
    reads multipart uploads; see there) unless ``stock``."""
    exe = _venv_tool("gcp-storage-emulator")
    if exe is None:
        unavailable("gcp-storage-emulator not found: install the dev extra (`make venv`)")
    port = free_port()
    args = ["start", "--host", "127.0.0.1", "--port", str(port), "--in-memory", "-q"]
    argv = [exe, *args] if stock else [sys.executable, str(ROOT / "tests" / "gcs_emulator.py"), *args]
    server = _start("gcs-emulator", argv, port, "/storage/v1/b?project=test")
    return GcsServer(f"http://127.0.0.1:{port}", port, server)


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GcsServer]:
    server = start_gcs()
    try:
        yield server
    finally:
        server.process.stop()


@pytest.fixture
def gcs_bucket(gcs_server: GcsServer) -> str:
    """A new, empty bucket on the GCS emulator for this test."""
    return gcs_server.make_bucket()

