"""A real HTTP server (TCP on 127.0.0.1, in a thread of the test process) that serves a folder
as a DVC http remote, or files to import: ``GET`` and ``HEAD`` of files (with ``Range:
bytes=A-B``), ``PUT`` and ``POST`` store the request body (sized or chunked) under the path, whole
or not at all. Knobs for the tests: basic auth, no ``Content-Length`` on ``HEAD``, read-only, a
number of ``503`` answers to give before serving (retries), ``ETag`` and ``Last-Modified``
headers, and redirects.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import os
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Knobs:
    user: str | None = None  # with password: basic auth required on every request
    password: str | None = None
    head_length: bool = True  # False: HEAD answers without Content-Length
    read_only: bool = False  # PUT/POST answer 405
    unavailable: int = 0  # answer 503 to this many requests first
    etag: bool = False  # GET/HEAD send ETag: the quoted md5 of the file
    last_modified: bool = False  # GET/HEAD send the file's mtime as Last-Modified
    redirects: dict[str, str] = field(default_factory=dict)  # path -> where a 302 sends it
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every request


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return

    def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
                length: bool = True) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _allowed(self) -> bool:
        knobs = self.server.knobs
        with self.server.lock:
            knobs.requests.append((self.command, self.path))
            if knobs.unavailable > 0:
                knobs.unavailable -= 1
                self._drain()
                self._answer(503, b"busy\n")
                return False
        if knobs.user is not None:
            token = base64.b64encode(f"{knobs.user}:{knobs.password}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {token}":
                self._drain()
                self._answer(401, b"who are you\n", {"WWW-Authenticate": 'Basic realm="remote"'})
                return False
        return True

    def _local(self) -> Path | None:
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        parts = [p for p in rel.split("/") if p]
        if any(p in (".", "..") for p in parts):
            return None
        return self.server.root.joinpath(*parts)

    def _drain(self) -> None:
        """Read the request body the client sent, so that the connection stays usable."""
        if self.command not in ("PUT", "POST"):
            return
        for _ in self._body():
            pass

    def _body(self) -> Iterator[bytes]:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                yield self.rfile.read(size)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    raise ConnectionError("client went away")
                left -= len(chunk)
                yield chunk

    def do_HEAD(self) -> None:
        self._get()

    def do_GET(self) -> None:
        self._get()

    def _get(self) -> None:
        if not self._allowed():
            return
        moved = self.server.knobs.redirects.get(urllib.parse.urlsplit(self.path).path)
        if moved is not None:
            self._answer(302, b"", {"Location": moved})
            return
        path = self._local()
        if path is None or not path.is_file():
            self._answer(404, b"not found\n")
            return
        data = path.read_bytes()
        extra = {"Content-Type": "text/csv; charset=utf-8"} if path.suffix == ".csv" else {}
        if self.server.knobs.etag:
            extra["ETag"] = '"' + hashlib.md5(data).hexdigest() + '"'
        if self.server.knobs.last_modified:
            extra["Last-Modified"] = email.utils.formatdate(path.stat().st_mtime, usegmt=True)
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes=") and self.command == "GET":
            first, _, last = rng[6:].partition("-")
            start, end = int(first), min(int(last or len(data) - 1), len(data) - 1)
            if start >= len(data):
                self._answer(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                return
            self._answer(206, data[start : end + 1], {**extra, "Content-Range": f"bytes {start}-{end}/{len(data)}"})
            return
        if self.command == "HEAD" and not self.server.knobs.head_length:
            self.send_response(200)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            return
        self._answer(200, data, {"Content-Type": "application/octet-stream", **extra})

    def do_PUT(self) -> None:
        self._store(201)

    def do_POST(self) -> None:
        self._store(200)

    def _store(self, status: int) -> None:
        if not self._allowed():
            return
        path = self._local()
        if path is None or self.server.knobs.read_only:
            self._drain()
            self._answer(405 if path is not None else 403, b"no\n")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in self._body():
                    out.write(chunk)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        self._answer(status)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, knobs: Knobs) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.knobs = knobs
        self.lock = threading.Lock()


class HttpRemote:
    """A running server; ``url`` is its base, ``root`` the folder it serves."""

    def __init__(self, root: Path, knobs: Knobs | None = None) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.knobs = knobs or Knobs()
        self._server = _Server(root, self.knobs)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="test-http-remote", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/store"

    @property
    def folder(self) -> Path:
        """Where the objects under ``url`` live."""
        return self.root / "store"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
