"""Retries with exponential backoff and jitter on transient storage errors (connection resets,
timeouts, HTTP 500/502/503/504, throttling). Anything else fails at once."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from typing import BinaryIO, TypeVar

from labvault.errors import LabvaultError, RemoteError
from labvault.remotes.base import Backend, ByteCallback, Entry

T = TypeVar("T")

_TRANSIENT_WORDS = (
    "internalerror", "serviceunavailable", "slowdown", "throttl", "requesttimeout", "timeout",
    "timed out", "connection", "reset by peer", "broken pipe", "serverdisconnected", "payload",
    "temporarily", "too many requests", "remote end closed", "incompleteread", "protocol error",
)
_AUTH_WORDS = (
    "invalidaccesskeyid", "signaturedoesnotmatch", "accessdenied", "access denied", "forbidden",
    "authorizationfailure", "authenticationfailed", "clientauthenticationerror", "invalid_grant",
    "unauthorized",
)
# Status codes only where an error states them (object names are hex and hold digits such as 403).
_STATUS = re.compile(r"(?:status(?:_code)?|http|code|error)\W{0,3}(\d{3})\b", re.IGNORECASE)


def _status_code(exc: BaseException) -> int | None:
    for attr in ("status_code", "status", "code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value <= 599:
            return value
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        meta = response.get("ResponseMetadata", {})
        if isinstance(meta, dict) and isinstance(meta.get("HTTPStatusCode"), int):
            return int(meta["HTTPStatusCode"])
    m = _STATUS.search(str(exc))
    return int(m.group(1)) if m else None


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return False
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    if is_auth_error(exc):
        return False
    code = _status_code(exc)
    if code is not None:
        return code in (408, 429, 500, 502, 503, 504)
    text = f"{type(exc).__name__} {exc}".lower()
    return any(w in text for w in _TRANSIENT_WORDS)


def is_auth_error(exc: BaseException) -> bool:
    if isinstance(exc, PermissionError):
        return True
    if isinstance(exc, (FileNotFoundError, IsADirectoryError, NotADirectoryError)):
        return False
    if _status_code(exc) in (401, 403):
        return True
    text = f"{type(exc).__name__} {exc}".lower()
    return any(w in text for w in _AUTH_WORDS)


class RetryingBackend(Backend):
    def __init__(self, inner: Backend, attempts: int = 8, base_delay: float = 0.05, max_delay: float = 4.0) -> None:
        super().__init__(inner.url)
        self.inner = inner
        self.scheme = inner.scheme
        self.cheap_lookups = inner.cheap_lookups
        self.listable = inner.listable
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.retried = 0

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        delay = self.base_delay
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except LabvaultError:
                raise  # already one clear line (an archived object: restore requested)
            except Exception as exc:
                if is_auth_error(exc):
                    raise RemoteError(f"access denied by {self.inner.describe()} while {what}",
                                      self.inner.credentials_hint) from None
                if attempt == self.attempts or not is_transient(exc):
                    raise
                self.retried += 1
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, self.max_delay)
                invalidate = getattr(self.inner, "invalidate", None)
                if invalidate:
                    invalidate()
        raise AssertionError("unreachable")  # pragma: no cover

    def attempt(self, what: str, fn: Callable[[], T]) -> T:
        """``fn`` (a call on the inner backend beyond the interface), with the same retries."""
        return self._call(what, fn)

    def exists(self, key: str) -> bool:
        return self._call("checking an object", lambda: self.inner.exists(key))

    def size(self, key: str) -> int:
        return self._call("reading an object's size", lambda: self.inner.size(key))

    def walk(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        return iter(self._call("listing", lambda: list(self.inner.walk(prefix))))

    def checksums(self, key: str) -> tuple[bool, list[tuple[str, int, str]]]:
        return self._call("listing", lambda: self.inner.checksums(key))

    def ls(self, prefix: str = "") -> list[Entry]:
        return self._call("listing", lambda: self.inner.ls(prefix))

    def put_file(self, local: str, key: str, callback: ByteCallback | None = None) -> None:
        self._call("uploading", lambda: self.inner.put_file(local, key, callback))

    def get_file(self, key: str, local: str, callback: ByteCallback | None = None) -> None:
        def attempt() -> None:
            import os

            try:
                os.unlink(local)
            except FileNotFoundError:
                pass
            self.inner.get_file(key, local, callback)

        self._call("downloading", attempt)

    def open_read(self, key: str) -> BinaryIO:
        return self._call("opening an object", lambda: self.inner.open_read(key))

    def object_url(self, key: str) -> str:
        return self.inner.object_url(key)

    def delete(self, key: str) -> None:
        self._call("deleting", lambda: self.inner.delete(key))

    def check_writable_root(self) -> None:
        self._call("checking the bucket", self.inner.check_writable_root)

    def check_readable_root(self) -> None:
        self._call("checking the bucket", self.inner.check_readable_root)

    def clean_leftovers(self, prefixes: list[str], now: float) -> int:
        return self._call("removing what killed uploads left", lambda: self.inner.clean_leftovers(prefixes, now))

    def sync(self) -> None:
        self.inner.sync()

    def close(self) -> None:
        self.inner.close()
