"""labvault names a file exactly as dvc_data does, for md5 (3.x) and legacy md5-dos2unix (2.x)."""

from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import HealthCheck, example, given, settings
from name_strategies import CHUNK, boundary_content, small_content

from labvault.core.hashing import md5_file

pytestmark = pytest.mark.interop


def _check(dvc_oids, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "f")
        with open(path, "wb") as f:
            f.write(content)
        for legacy in (False, True):
            want = dvc_oids.file_md5(path, legacy=legacy)
            assert md5_file(path, legacy=legacy) == want, f"legacy={legacy} size={len(content)}"
            # build() (what `dvc add` runs) agrees with file_md5 for a single file
            assert dvc_oids.build(path, legacy=legacy)["oid"] == want


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_content)
@example(b"")
@example(b"a\r\nb\r\n")
@example(b"\r\n" * 300 + b"\x00")
@example(b"\x00" + b"\r\n" * 300)
@example(b"\r")
def test_small_file_oids_match_dvc(dvc_oids, content):
    _check(dvc_oids, content)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(boundary_content)
@example(b"x" * (CHUNK - 1) + b"\r\n" + b"y\r\n" * 10)
@example(b"a\r\n" * (CHUNK // 3 + 1) + b"\x00" * 600 + b"\r\n")
@example(b"\x80" * 600 + b"\r\n" * CHUNK)
def test_chunk_boundary_oids_match_dvc(dvc_oids, content):
    _check(dvc_oids, content)
