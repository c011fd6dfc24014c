"""An HTTP/1.1 proxy (a thread on 127.0.0.1) in front of a storage server that misbehaves on a seeded
fraction of requests: it closes the connection without answering (before or after passing the request
on), answers 500 or 503, or cuts a response body short. On request (``corrupt_upload``, not among
the default faults) it flips one bit in the middle of an upload's body (PUT or POST of 1 KiB or
more), as a faulty proxy or NIC would. Everything else is passed on unchanged, one upstream
connection per request."""

from __future__ import annotations

import http.client
import random
import socket
import threading
from collections import Counter
from urllib.parse import urlsplit

FAULTS = ("drop_before", "drop_after", "http_500", "http_503", "truncate")
HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


class _Closed(Exception):
    pass


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> None:
        data = self.sock.recv(262144)
        if not data:
            raise _Closed
        self.buf += data

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise _Closed
            self._fill()
        out, self.buf = self.buf.split(b"\r\n", 1)
        return out

    def exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


class FaultProxy:
    def __init__(self, upstream: str, fault_rate: float, seed: int, faults: tuple[str, ...] = FAULTS) -> None:
        parts = urlsplit(upstream)
        self.up_host = parts.hostname or "127.0.0.1"
        self.up_port = parts.port or 80
        self.fault_rate = fault_rate
        self.faults = faults
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = int(self.listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        try:
            self.listener.close()
        except OSError:
            pass
        self._thread.join(timeout=5)

    @property
    def injected(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "passed")

    def _choose(self) -> str:
        with self.lock:
            action = self.rng.choice(self.faults) if self.rng.random() < self.fault_rate else "passed"
            self.counts[action] += 1
            return action

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        reader = _Reader(client)
        try:
            while True:
                request_line = reader.line()
                if not request_line:
                    continue
                method, target, _version = request_line.decode("latin-1").split(" ", 2)
                headers: list[tuple[str, str]] = []
                while True:
                    raw = reader.line()
                    if not raw:
                        break
                    name, _, value = raw.decode("latin-1").partition(":")
                    headers.append((name.strip(), value.strip()))
                lower = {k.lower(): v for k, v in headers}
                if lower.get("expect", "").lower() == "100-continue":
                    client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                if "chunked" in lower.get("transfer-encoding", "").lower():
                    body = self._read_chunked(reader)
                else:
                    body = reader.exact(int(lower.get("content-length", "0") or 0))
                action = self._choose()
                if action == "corrupt_upload" and method in ("PUT", "POST") and len(body) >= 1024:
                    body = body[: len(body) // 2] + bytes([body[len(body) // 2] ^ 0x10]) + body[len(body) // 2 + 1 :]
                    with self.lock:
                        self.counts["corrupted"] += 1
                if action == "drop_before":
                    return
                if action in ("http_500", "http_503"):
                    code = 500 if action == "http_500" else 503
                    text = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>" + (
                        b"InternalError" if code == 500 else b"ServiceUnavailable"
                    ) + b"</Code><Message>injected fault</Message></Error>"
                    reason = "Internal Server Error" if code == 500 else "Service Unavailable"
                    client.sendall(
                        f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/xml\r\n"
                        f"Content-Length: {len(text)}\r\nConnection: close\r\n\r\n".encode() + text
                    )
                    return
                status, reason, resp_headers, payload = self._forward(method, target, headers, body)
                if action == "drop_after":
                    return
                head = [f"HTTP/1.1 {status} {reason}"]
                for k, v in resp_headers:
                    if k.lower() not in HOP_HEADERS and k.lower() != "content-length":
                        head.append(f"{k}: {v}")
                if method == "HEAD":
                    length = dict((k.lower(), v) for k, v in resp_headers).get("content-length", "0")
                    head.append(f"Content-Length: {length}")
                    payload = b""
                else:
                    head.append(f"Content-Length: {len(payload)}")
                if action == "truncate" and len(payload) > 1:
                    client.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload[: len(payload) // 2])
                    return
                client.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
                if lower.get("connection", "").lower() == "close":
                    return
        except (_Closed, OSError, ValueError):
            return
        finally:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            client.close()

    @staticmethod
    def _read_chunked(reader: _Reader) -> bytes:
        out = b""
        while True:
            size = int(reader.line().split(b";")[0], 16)
            if size == 0:
                while reader.line():
                    pass
                return out
            out += reader.exact(size)
            reader.exact(2)

    def _forward(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.up_host, self.up_port, timeout=60)
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                if k.lower() in HOP_HEADERS or k.lower() in ("content-length", "expect"):
                    continue
                conn.putheader(k, v)
            if body or method in ("PUT", "POST"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            resp = conn.getresponse()
            payload = resp.read()
            return resp.status, resp.reason, resp.getheaders(), payload
        finally:
            conn.close()
