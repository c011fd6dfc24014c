"""Starts gcp-storage-emulator with its reading of multipart uploads corrected.

The emulator parses a ``multipart/related`` upload body with the e-mail parser, which removes
every line-ending character before a delimiter: an object whose last byte is ``\\r`` is stored one
byte short (about one random file in 256). gcsfs frames its parts with ``\\n``, so exactly that one
``\\n`` belongs to the delimiter. This launcher reads such bodies by the framing the client used
(``\\r\\n`` or ``\\n``, seen on the first delimiter line) and leaves every other request to the
emulator. ``tests/integration/test_gcs_uploads.py`` shows the stock emulator's behaviour and that
labvault refuses to call such an upload saved.

Usage: ``python tests/gcs_emulator.py start --host H --port P --in-memory -q`` (the emulator's own
arguments).
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

from gcp_storage_emulator import server
from gcp_storage_emulator.__main__ import main

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')


def split_related(body: bytes, content_type: str) -> dict[str, Any]:
    """The metadata and content of a ``multipart/related`` upload body, byte for byte."""
    m = _BOUNDARY.search(content_type)
    if m is None:
        raise ValueError(f"no boundary in {content_type!r}")
    delim = b"--" + m.group(1).encode()
    if not body.startswith(delim):
        raise ValueError("the body does not start with its boundary")
    eol = b"\r\n" if body[len(delim) : len(delim) + 2] == b"\r\n" else b"\n"
    rest = body[len(delim) + len(eol) :]
    parts = []
    while True:
        end = rest.find(eol + delim)
        if end < 0:
            raise ValueError("a part is not closed by its boundary")
        parts.append(rest[:end])
        rest = rest[end + len(eol) + len(delim) :]
        if rest.startswith(b"--"):
            break
        rest = rest[len(eol) :]
    if len(parts) != 2:
        raise ValueError(f"expected 2 parts, got {len(parts)}")
    out: list[tuple[dict[str, str], bytes]] = []
    for part in parts:
        head, _, data = part.partition(eol + eol)
        headers = {}
        for line in head.split(eol):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        out.append((headers, data))
    (_meta_headers, meta), (media_headers, content) = out
    return {"meta": json.loads(meta), "content": content,
            "content-type": media_headers.get("content-type", "application/octet-stream").split(";")[0]}


_stock_read_data = server._read_data


def _read_data(request_handler: Any, query: Any) -> Any:
    content_type = request_handler.headers.get("Content-Type") or ""
    if not content_type.startswith("multipart/related"):
        return _stock_read_data(request_handler, query)
    raw = server._decode_raw_data(server._read_raw_data(request_handler), request_handler)
    return split_related(raw, content_type) if raw else None


server._read_data = _read_data

if __name__ == "__main__":
    main(sys.argv[1:])
