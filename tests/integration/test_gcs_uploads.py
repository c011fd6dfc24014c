"""An upload the storage stores with other bytes is never called saved.

gcp-storage-emulator as published ("stock") stores a multipart upload whose last byte is ``\\r``
one byte short: a real server that alters what it receives. gcsfs sends files under 5 MiB that
way. labvault asks gcsfs to compare the md5 the storage computed with the bytes sent, removes a
damaged object and fails the push. The other tests run the emulator through tests/gcs_emulator.py,
which reads those bodies correctly; its parser is checked here against both framings.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labvault.errors import RemoteError
from labvault.remotes.registry import open_backend
from tests.conftest import Runner
from tests.gcs_emulator import split_related
from tests.services import GcsServer, start_gcs

ENDINGS = (b"", b"\r", b"\r\r", b"\r\n", b"\n", b"\n\r", b"x")


@pytest.fixture(scope="module")
def stock_gcs() -> Iterator[GcsServer]:
    server = start_gcs(stock=True)
    try:
        yield server
    finally:
        server.process.stop()


def _put_unchecked(server: GcsServer, bucket: str, key: str, data: bytes, tmp_path: Path) -> None:
    import gcsfs  # type: ignore[import-untyped]

    local = tmp_path / "unchecked"
    local.write_bytes(data)
    fs = gcsfs.GCSFileSystem(token="anon", endpoint_url=server.endpoint, skip_instance_cache=True)
    fs.put_file(str(local), f"{bucket}/{key}")  # gcsfs's default: no comparison


def test_stock_emulator_drops_a_final_carriage_return(stock_gcs: GcsServer, tmp_path: Path) -> None:
    """The server really alters such uploads (else the next test would prove nothing)."""
    bucket = stock_gcs.make_bucket()
    _put_unchecked(stock_gcs, bucket, "a", b"abc\r", tmp_path)
    _put_unchecked(stock_gcs, bucket, "b", b"abc\n", tmp_path)
    assert stock_gcs.read(bucket, "a") == b"abc"
    assert stock_gcs.read(bucket, "b") == b"abc\n"


def test_push_refuses_an_upload_stored_with_other_bytes(
    stock_gcs: GcsServer, git_repo: Path, git: Runner, lv: Runner, env: dict[str, str],
) -> None:
    env.update(stock_gcs.env)
    bucket = stock_gcs.make_bucket()
    (git_repo / "data").mkdir()
    (git_repo / "data" / "good.txt").write_bytes(b"fine\n")
    (git_repo / "data" / "bad.bin").write_bytes(os.urandom(3000) + b"\r")
    bad = hashlib.md5((git_repo / "data" / "bad.bin").read_bytes(), usedforsecurity=False).hexdigest()
    lv("init")
    lv("add", "data")
    lv("remote", "add", "-d", "r", f"gs://{bucket}/store")
    lv("remote", "modify", "r", "endpointurl", stock_gcs.endpoint)
    git("add", "-A")
    git("commit", "-q", "-m", "data")

    proc = lv("push", check=False)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "arrived with other bytes" in lines[0] and bad[2:] in lines[0], proc.stderr
    keys = stock_gcs.keys(bucket, "store/")
    assert f"store/files/md5/{bad[:2]}/{bad[2:]}" not in keys  # the damaged object was removed
    for key in keys:  # whatever is there is intact
        data = stock_gcs.read(bucket, key)
        name = key.split("/")[-2] + key.split("/")[-1]
        assert hashlib.md5(data, usedforsecurity=False).hexdigest() in (name, name.removesuffix(".dir"))
    status = json.loads(lv("status", "--cloud", "--json").stdout)
    assert bad in status["to_push"] and status["in_sync"] is False


@pytest.mark.parametrize("ending", ENDINGS)
def test_every_final_byte_round_trips(gcs_server: GcsServer, ending: bytes, tmp_path: Path) -> None:
    """Through tests/gcs_emulator.py, and checked by the storage's md5 on upload."""
    bucket = gcs_server.make_bucket()
    backend = open_backend(f"gs://{bucket}/r", {"endpointurl": gcs_server.endpoint})
    data = b"payload" + ending
    (tmp_path / "f").write_bytes(data)
    backend.put_file(str(tmp_path / "f"), "k")
    assert gcs_server.read(bucket, "r/k") == data
    digest, size = backend.get_hashed("k", str(tmp_path / "back"))
    assert (digest, size) == (hashlib.md5(data, usedforsecurity=False).hexdigest(), len(data))


def test_damaged_upload_error_is_a_remote_error(stock_gcs: GcsServer, tmp_path: Path) -> None:
    bucket = stock_gcs.make_bucket()
    backend = open_backend(f"gs://{bucket}/r", {"endpointurl": stock_gcs.endpoint})
    (tmp_path / "f").write_bytes(b"abc\r")
    with pytest.raises(RemoteError, match="arrived with other bytes"):
        backend.put_file(str(tmp_path / "f"), "k")
    assert not backend.exists("k")


def _frame(meta: bytes, content: bytes, eol: bytes, boundary: bytes) -> bytes:
    d = b"--" + boundary
    return (d + eol + b"Content-Type: application/json" + eol + eol + meta + eol + d + eol
            + b"Content-Type: application/octet-stream" + eol + eol + content + eol + d + b"--")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64).filter(lambda b: b"--==0==" not in b), st.sampled_from([b"\n", b"\r\n"]),
       st.sampled_from(ENDINGS))
def test_split_related_keeps_content_byte_for_byte(content: bytes, eol: bytes, ending: bytes) -> None:
    body = _frame(b'{"name": "k"}', content + ending, eol, b"==0==")
    got = split_related(body, 'multipart/related; boundary="==0=="')
    assert got == {"meta": {"name": "k"}, "content": content + ending, "content-type": "application/octet-stream"}


def test_split_related_matches_what_gcsfs_sends(gcs_server: GcsServer, tmp_path: Path) -> None:
    """A 4 MiB object ending in CR LF CR: gcsfs's real framing, read back whole."""
    bucket = gcs_server.make_bucket()
    data = os.urandom(4 << 20) + b"\r\n\r"
    _put_unchecked(gcs_server, bucket, "big", data, tmp_path)
    assert gcs_server.read(bucket, "big") == data
