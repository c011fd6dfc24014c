"""HTTP(S) remotes, as dvc's ``http``/``https`` remotes: the objects in DVC's layout under a base
URL, read with ``GET`` and ``HEAD``, written with ``POST`` (dvc's default) or ``PUT`` (the remote's
``method`` option), the file's bytes as the request body.

Why urllib3 and not fsspec's HTTP file system (aiohttp), as the object stores use: fsspec's runs
its requests on an event loop in a thread of its own that outlives the call, where urllib3's
connection pool is plain blocking sockets, safe to share between the caller's download threads
and gone with the backend (principle 6). It is the HTTP client botocore and requests are built on.

What an HTTP server can and cannot do, and what labvault makes of it:

* No listing: what the remote holds is asked one object at a time (``HEAD``: its
  ``Content-Length``; without one, a one-byte ranged ``GET`` and its ``Content-Range``). Commands
  that need a listing (``gc -c``, ``verify --remote``) refuse such a remote with one line.
* No deletion (as dvc's): ``delete`` refuses.
* Whether a half-received upload can appear under its name is the server's business; every
  download is hashed before it enters the cache (as from any remote), so a damaged object is
  refused, never trusted.
* Redirects are followed for reads (servers hand out signed object-store URLs); the credentials
  are not sent on to another host. An upload is never redirected.
* Errors: 404/410 is "no such object"; 401/403 an access error (not retried); other statuses and
  network failures become ``ConnectionError`` so that the retrying wrapper retries the transient
  ones (5xx, timeouts, resets).
* Proxies come from the environment (``https_proxy``, ``http_proxy``, ``no_proxy``), as dvc's.

Options (dvc's names): ``auth`` (``basic`` with ``user`` and ``password``, or ``custom``: the
``password`` sent as the header named by ``custom_auth_header``; ``digest`` is refused, as dvc
refuses it), ``ssl_verify`` (true, false, or a CA bundle's path), ``method``, ``connect_timeout``
and ``read_timeout`` (seconds, default 60). ``ask_password`` is refused: a library call never
prompts; the password goes in ``.dvc/config.local``.
"""

from __future__ import annotations

import hashlib
import io
import os
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from labvault.errors import ConfigError, MissingBackendError, RemoteError
from labvault.remotes.base import Backend, ByteCallback, Entry

BLOCK = 1 << 20
DEFAULT_TIMEOUT = 60.0
_IDENTITY = {"Accept-Encoding": "identity"}  # sizes and md5s are of the stored bytes, not a re-encoding


class HttpStatusError(ConnectionError):
    """A status the remote answered that is neither success nor "no such object"."""

    def __init__(self, status: int, url: str, method: str) -> None:
        self.status_code = status
        super().__init__(f"HTTP {status} for {method} {url}")


def _urllib3() -> Any:
    try:
        import urllib3
    except ImportError:
        raise MissingBackendError("http(s):// remotes need the urllib3 package",
                                  "install it with `pip install 'labvault[http]'`") from None
    return urllib3


def _flag(options: Mapping[str, str], name: str) -> bool | None:
    value = options.get(name)
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    return None


def _seconds(options: Mapping[str, str], name: str) -> float:
    value = options.get(name)
    if value is None or str(value).strip() == "":
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise ConfigError(f"remote option {name} = {value!r} is not a number of seconds",
                          f"set it with `labvault remote modify NAME {name} 60`")
    return seconds


def auth_headers(options: Mapping[str, str]) -> tuple[dict[str, str], set[str]]:
    """(headers to send, header names never to send on to another host) for the ``auth`` option."""
    method = str(options.get("auth") or "").strip().lower()
    if not method:
        return {}, set()
    password = options.get("password")
    if password is None and _flag(options, "ask_password"):
        raise ConfigError("remote option ask_password: labvault does not prompt for passwords",
                          "store it with `labvault remote modify --local NAME password ...` "
                          "(.dvc/config.local, which git ignores)")
    if method == "basic":
        user = options.get("user")
        if user is None or password is None:
            raise ConfigError("HTTP basic authentication needs both user and password",
                              "set them with `labvault remote modify --local NAME user ...` and `... password ...`")
        import base64

        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}, {"Authorization"}
    if method == "custom":
        header = options.get("custom_auth_header")
        if not header or password is None:
            raise ConfigError("HTTP custom authentication needs both custom_auth_header and password",
                              "set them with `labvault remote modify --local NAME custom_auth_header ...` "
                              "and `... password ...`")
        return {header: password}, {header}
    if method == "digest":
        raise ConfigError("HTTP digest authentication is not supported (dvc does not support it either)",
                          "use auth basic or custom")
    raise ConfigError(f"unknown HTTP auth method {method!r}", "use basic or custom")


def check_url(url: str, resource: bool = False) -> urllib.parse.SplitResult:
    """A remote's base URL (``resource``: a file's URL, which may have a query), parsed; refused
    with one line when it cannot serve as one."""
    try:
        parsed = urllib.parse.urlsplit(url)
        parsed.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        parsed = None  # type: ignore[assignment]
    if parsed is None or parsed.scheme.lower() not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"malformed url {url!r}", "use http://HOST[:PORT]/PATH or https://...")
    if parsed.username is not None or parsed.password is not None:
        raise ConfigError("a remote's http(s) url must not hold credentials (they would be shown in messages)",
                          "set them with `labvault remote modify --local NAME auth basic`, then user and password")
    if parsed.fragment or (parsed.query and not resource):
        raise ConfigError(f"url {url!r} has a query or fragment, which a remote's base URL cannot",
                          "give the folder's URL alone; credentials go in the auth options")
    return parsed


class HttpBackend(Backend):
    listable = False
    credentials_hint = ("check the credentials (labvault remote modify --local NAME auth basic, then user and "
                        "password)")

    def __init__(self, url: str, options: Mapping[str, str] | None = None, resource: bool = False) -> None:
        """``resource``: ``url`` is one file's (an import's source), read as the key ``""``."""
        options = options or {}
        jobs = str(options.get("jobs") or "")
        max_connections = max(16, int(jobs)) if jobs.isdigit() else 16  # one per thread a transfer may run
        parsed = check_url(url, resource)
        super().__init__(url)
        self.scheme = parsed.scheme.lower()
        method = str(options.get("method") or "POST").strip().upper()
        if method not in ("POST", "PUT"):
            raise ConfigError(f"remote option method = {options.get('method')!r}", "use POST or PUT")
        self.method = method
        headers, private = auth_headers(options)
        urllib3 = _urllib3()
        self._errors = urllib3.exceptions.HTTPError
        retry = urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=10,
                              raise_on_redirect=True, raise_on_status=False,
                              remove_headers_on_redirect=frozenset({"Cookie", "Authorization", "Proxy-Authorization"} | private))
        timeout = urllib3.Timeout(connect=_seconds(options, "connect_timeout"), read=_seconds(options, "read_timeout"))
        self._headers = headers  # sent with every request (urllib3 replaces a pool's default headers by a request's)
        kwargs: dict[str, Any] = {"num_pools": 4, "maxsize": max_connections, "block": False,
                                  "timeout": timeout, "retries": retry}
        if self.scheme == "https":
            verify = options.get("ssl_verify")
            flag = _flag(options, "ssl_verify")
            if flag is False:
                kwargs["cert_reqs"] = "CERT_NONE"  # urllib3 warns of it (the caller's warning filters decide)
            elif flag is None and verify:
                path = os.path.expanduser(str(verify))
                if not os.path.exists(path):
                    raise ConfigError(f"remote option ssl_verify = {verify!r}: no such CA bundle",
                                      "give true, false or the path of a PEM file of CA certificates")
                kwargs["ca_certs"] = path
        proxy = _proxy_for(parsed)
        self._pool = urllib3.ProxyManager(proxy, **kwargs) if proxy else urllib3.PoolManager(**kwargs)

    # ------------------------------------------------------------------ requests

    def _url(self, key: str) -> str:
        return f"{self.url}/{urllib.parse.quote(key, safe='/')}" if key else self.url

    def _request(self, method: str, key: str, headers: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
        url = self._url(key)
        try:
            return self._pool.request(method, url, preload_content=False, headers={**self._headers, **(headers or {})},
                                      **kwargs)
        except self._errors as exc:
            raise ConnectionError(f"{method} {url}: {_reason(exc)}") from None

    def _fail(self, resp: Any, method: str, key: str) -> None:
        """Raise for a response that is not a success (FileNotFoundError for 404/410)."""
        status = int(resp.status)
        if 200 <= status < 300:
            return
        resp.drain_conn()
        resp.release_conn()
        if status in (404, 410):
            raise FileNotFoundError(self._url(key))
        if status in (401, 403):
            raise PermissionError(f"HTTP {status} for {method} {self._url(key)}")
        raise HttpStatusError(status, self._url(key), method)

    # ------------------------------------------------------------------ Backend

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except FileNotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        resp = self._request("HEAD", key, headers=_IDENTITY)
        self._fail(resp, "HEAD", key)
        length = resp.headers.get("Content-Length")
        resp.drain_conn()  # a HEAD has no body, but the connection is reusable only once it is read as such
        resp.release_conn()
        if length is not None and length.strip().isdigit() and "Content-Encoding" not in resp.headers:
            return int(length)
        # No length on HEAD (a server that streams every answer): ask for the first byte
        resp = self._request("GET", key, headers={**_IDENTITY, "Range": "bytes=0-0"})
        if resp.status == 416:  # an empty object has no first byte
            resp.drain_conn()
            resp.release_conn()
            return 0
        self._fail(resp, "GET", key)
        total = (resp.headers.get("Content-Range") or "").rpartition("/")[2].strip()
        resp.drain_conn()
        resp.release_conn()
        if resp.status == 206 and total.isdigit():
            return int(total)
        raise RemoteError(f"{self._url(key)}: the server tells no size for it",
                          "serve the remote with a server that sends Content-Length (any static file server does)")

    def info(self, key: str = "") -> dict[str, Any]:
        """What fsspec's HTTP file system, which dvc reads sources with, reports of ``key``:
        ``size``, ``mimetype``, ``partial``, ``url`` (after redirects) and the checksum headers,
        in its order; from a ``HEAD``, and a ``GET`` (headers only) when that gives no size."""
        got = self._info_from("HEAD", key)
        if got.get("size") is None:
            got.update(self._info_from("GET", key))
        return got

    def _info_from(self, method: str, key: str) -> dict[str, Any]:
        resp = self._request(method, key, headers=_IDENTITY)
        self._fail(resp, method, key)
        try:
            h = resp.headers
            info: dict[str, Any] = {}
            if "Content-Length" in h:
                if h.get("Content-Encoding", "") in ("", "identity"):
                    info["size"] = int(h["Content-Length"])
            elif "Content-Range" in h:
                info["size"] = int(h["Content-Range"].split("/")[1])
            if "Content-Type" in h:
                info["mimetype"] = h["Content-Type"].partition(";")[0]
            if h.get("Accept-Ranges") == "none":
                info["partial"] = False
            url = self._url(key)
            for step in (resp.retries.history if resp.retries is not None else ()):
                if step.redirect_location:
                    url = urllib.parse.urljoin(url, step.redirect_location)
            info["url"] = url
            for field in ("ETag", "Content-MD5", "Digest", "Last-Modified"):
                if h.get(field):
                    info[field] = h[field]
            return info
        except ValueError:
            raise RemoteError(f"{self._url(key)}: the server sent a malformed size",
                              "check the URL, or download it another way") from None
        finally:
            if method == "HEAD":
                resp.drain_conn()
                resp.release_conn()
            else:
                resp.close()  # the body is not wanted: this connection goes

    def walk(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        raise self._no_listing()

    def ls(self, prefix: str = "") -> list[Entry]:
        raise self._no_listing()

    def _no_listing(self) -> RemoteError:
        return RemoteError(f"{self.url} is an HTTP remote, which cannot be listed",
                           "this needs a remote that lists (a folder, s3://, gs://, azure://); "
                           "push, pull, fetch and status -c work on HTTP")

    def put_file(self, local: str, key: str, callback: ByteCallback | None = None) -> None:
        size = os.path.getsize(local)
        with open(local, "rb") as f:
            body = _Counting(f, callback)
            resp = self._request(self.method, key, body=body, redirect=False,
                                 headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"})
        try:
            if 300 <= resp.status < 400:
                resp.drain_conn()
                raise RemoteError(f"{self.method} {self._url(key)} was redirected ({resp.status}); an upload is "
                                  "never sent on", "give the remote the URL that receives uploads")
            self._fail(resp, self.method, key)
            resp.drain_conn()
        finally:
            resp.release_conn()
        if callback is not None and body.sent < size:
            callback(size - body.sent)

    def get_file(self, key: str, local: str, callback: ByteCallback | None = None) -> None:
        resp = self._request("GET", key, headers=_IDENTITY)
        self._fail(resp, "GET", key)
        try:
            with open(local, "wb") as out:
                for chunk in resp.stream(BLOCK):
                    out.write(chunk)
                    if callback is not None:
                        callback(len(chunk))
        except self._errors as exc:
            raise ConnectionError(f"GET {self._url(key)}: {_reason(exc)}") from None
        finally:
            resp.release_conn()

    def open_read(self, key: str) -> BinaryIO:
        resp = self._request("GET", key, headers=_IDENTITY)
        self._fail(resp, "GET", key)
        return io.BufferedReader(_Body(resp, self._url(key), self._errors), BLOCK)  # type: ignore[return-value]

    def object_url(self, key: str) -> str:
        return self._url(key)

    def delete(self, key: str) -> None:
        raise RemoteError(f"{self.url} is an HTTP remote, from which labvault cannot delete",
                          "delete the objects on the server itself")

    def close(self) -> None:
        self._pool.clear()


class _Counting(io.RawIOBase):
    """The file as a request body, telling ``callback`` of the bytes read from it."""

    def __init__(self, f: BinaryIO, callback: ByteCallback | None) -> None:
        super().__init__()
        self._f = f
        self._callback = callback
        self.sent = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        data = self._f.read(n)
        if data:
            self.sent += len(data)
            if self._callback is not None:
                self._callback(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _Body(io.RawIOBase):
    """A response body as a raw stream; network errors become ``ConnectionError``; closing it
    gives the connection back to the pool."""

    def __init__(self, resp: Any, url: str, errors: Any) -> None:
        super().__init__()
        self._resp = resp
        self._url = url
        self._errors = errors

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._resp.read(len(buffer))
        except self._errors as exc:
            raise ConnectionError(f"GET {self._url}: {_reason(exc)}") from None
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._resp.release_conn()
        super().close()


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason).strip()
    return text.splitlines()[0] if text else type(reason).__name__


def _proxy_for(parsed: urllib.parse.SplitResult) -> str | None:
    """The proxy the environment names for this URL (``https_proxy``/``http_proxy``, minus the
    hosts of ``no_proxy``), as other HTTP clients read it."""
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parsed.scheme.lower())
    if not proxy:
        return None
    host = parsed.hostname or ""
    if urllib.request.proxy_bypass(f"{host}:{parsed.port}" if parsed.port else host):
        return None
    return proxy


def dvc_checksum(name: str, info: Mapping[str, Any]) -> str:
    """The checksum dvc records for an http(s) import (``checksum:`` in its ``deps``), from
    :meth:`HttpBackend.info` of the URL ``name``: the ``ETag`` header as sent, else
    ``Content-MD5``, else fsspec's token of the whole info (md5 of its text, as a decimal
    number; it changes with the size, type, final URL and ``Last-Modified``)."""
    for field in ("ETag", "Content-MD5"):
        if info.get(field):
            return str(info[field])
    whole = {"name": name, "size": None, **info, "type": "file"}
    return str(int(hashlib.md5(str((whole,)).encode(), usedforsecurity=False).hexdigest(), 16))
