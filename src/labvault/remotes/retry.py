"""Retries with exponential backoff and jitter on transient storage errors (connection resets,
timeouts, HTTP 500/502/503/504, throttling). Anything else fails at once."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from labvault.errors import RemoteError
from labvault.remotes.base import Backend, ByteCallback, Entry

T = TypeVar("T")

_TRANSIENT_WORDS = (
    "500", "502", "503", "504", "internalerror", "serviceunavailable", "slowdown", "throttl",
    "requesttimeout", "timeout", "timed out", "connection", "reset by peer", "broken pipe",
    "serverdisconnected", "payload", "temporarily", "too many requests", "429", "remote end closed",
    "incompleteread", "protocol error",
)
_AUTH_WORDS = (
    "invalidaccesskeyid", "signaturedoesnotmatch", "accessdenied", "access denied", "forbidden", "403",
    "authorizationfailure", "authenticationfailed", "invalid_grant", "unauthorized", "401",
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return False
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    text = f"{type(exc).__name__} {exc}".lower()
    if any(w in text for w in _AUTH_WORDS):
        return False
    return any(w in text for w in _TRANSIENT_WORDS)


def is_auth_error(exc: BaseException) -> bool:
    if isinstance(exc, PermissionError):
        return True
    text = f"{type(exc).__name__} {exc}".lower()
    return any(w in text for w in _AUTH_WORDS)


class RetryingBackend(Backend):
    def __init__(self, inner: Backend, attempts: int = 8, base_delay: float = 0.05, max_delay: float = 4.0) -> None:
        super().__init__(inner.url)
        self.inner = inner
        self.scheme = inner.scheme
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.retried = 0

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        delay = self.base_delay
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except Exception as exc:
                if is_auth_error(exc):
                    raise RemoteError(
                        f"access denied by {self.inner.describe()} while {what}",
                        "check the credentials (labvault remote modify NAME access_key_id/profile/...)",
                    ) from None
                if attempt == self.attempts or not is_transient(exc):
                    raise
                self.retried += 1
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, self.max_delay)
                invalidate = getattr(self.inner, "invalidate", None)
                if invalidate:
                    invalidate()
        raise AssertionError("unreachable")  # pragma: no cover

    def exists(self, key: str) -> bool:
        return self._call("checking an object", lambda: self.inner.exists(key))

    def size(self, key: str) -> int:
        return self._call("reading an object's size", lambda: self.inner.size(key))

    def walk(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        return iter(self._call("listing", lambda: list(self.inner.walk(prefix))))

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

    def delete(self, key: str) -> None:
        self._call("deleting", lambda: self.inner.delete(key))

    def check_writable_root(self) -> None:
        self._call("checking the bucket", self.inner.check_writable_root)

    def close(self) -> None:
        self.inner.close()
