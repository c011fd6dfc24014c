"""The target lock: one writer (``run``, ``forget``, ``prune``) at a time per backup target.

* A folder target: an exclusive ``flock`` on ``<target>/locks/lock``; the kernel drops it when the
  holder dies, however it dies.
* Object storage (no atomic create-if-absent everywhere): each contender writes its own lock
  object ``locks/<owner>.json`` (``{"owner", "host", "pid", "expires"}``), then lists ``locks/``;
  if another unexpired lock is there, it deletes its own, waits and tries again (so two
  contenders back off, and one wins after a random wait). A holder refreshes its lock every
  ``TTL/3``; a lock past ``expires`` is ignored (its holder died), and one written on this very
  machine by a process that is gone is ignored at once.

A second writer waits (saying who holds the lock) up to ``LABVAULT_LOCK_TIMEOUT`` seconds
(default 600), then fails with exit code 5. Readers (``list``, ``check``, ``restore``, ``drill``)
take no lock: snapshots appear whole (written last, atomically) and disappear whole.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from labvault.errors import LockTimeoutError, from_os_error
from labvault.progress import NULL_PROGRESS, Progress
from labvault.remotes.base import Backend
from labvault.remotes.leftovers import host_tag

TTL = 1800.0


def lock_timeout() -> float:
    try:
        return float(os.environ.get("LABVAULT_LOCK_TIMEOUT", "600"))
    except ValueError:
        return 600.0


class Held:
    """A held lock; ``refresh()`` keeps a cloud lock alive during a long run (cheap to call often)."""

    def __init__(self, backend: Backend | None, key: str, body: dict[str, object]) -> None:
        self.backend = backend
        self.key = key
        self.body = body
        self.written = time.time()

    def refresh(self) -> None:
        if self.backend is None or time.time() - self.written < TTL / 3:
            return
        self.body["expires"] = time.time() + TTL
        _put_json(self.backend, self.key, self.body)
        self.written = time.time()


@contextmanager
def target_lock(backend: Backend, local_root: str | None, what: str,
                progress: Progress = NULL_PROGRESS, timeout: float | None = None) -> Iterator[Held]:
    limit = lock_timeout() if timeout is None else timeout
    if local_root is not None:
        with _folder_lock(local_root, what, progress, limit) as held:
            yield held
    else:
        with _object_lock(backend, what, progress, limit) as held:
            yield held


@contextmanager
def _folder_lock(root: str, what: str, progress: Progress, limit: float) -> Iterator[Held]:
    folder = os.path.join(root, "locks")
    try:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(os.path.join(folder, "lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise from_os_error(exc, "opening the backup target's lock") from exc
    info = os.path.join(folder, "holder.json")
    try:
        deadline = time.monotonic() + limit
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read_holder(info)
                if not told:
                    progress.message(f"waiting for the backup target's lock, held by {holder}")
                    told = True
                if time.monotonic() >= deadline:
                    raise LockTimeoutError(f"the backup target {root} is still locked by {holder} after {limit:g}s",
                                           "wait for it to finish, or raise LABVAULT_LOCK_TIMEOUT") from None
                time.sleep(0.05)
        try:
            with open(info, "w") as f:
                json.dump(_body(what), f)
        except OSError:
            pass
        try:
            yield Held(None, "", {})
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(path: str) -> str:
    try:
        with open(path) as f:
            d = json.load(f)
        return f"{d.get('what', '?')} (pid {d.get('pid')} on {d.get('hostname')})"
    except (OSError, ValueError, AttributeError):
        return "another process"


def _body(what: str) -> dict[str, object]:
    return {"owner": f"{host_tag()}-{os.getpid()}-{os.urandom(4).hex()}", "host": host_tag(),
            "hostname": socket.gethostname(), "pid": os.getpid(), "what": what, "expires": time.time() + TTL}


def _put_json(backend: Backend, key: str, body: dict[str, object]) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(body, f)
        tmp = f.name
    try:
        backend.put_file(tmp, key)
    finally:
        os.unlink(tmp)


def _alive(d: dict[str, object], now: float) -> bool:
    expires = d.get("expires")
    if not isinstance(expires, (int, float)) or expires < now:
        return False
    if d.get("host") == host_tag() and isinstance(d.get("pid"), int):
        try:
            os.kill(int(d["pid"]), 0)  # type: ignore[call-overload]
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
    return True


def _others(backend: Backend, mine: str) -> list[dict[str, object]]:
    found = []
    for key, _size in backend.walk("locks"):
        if key == mine or not key.endswith(".json"):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "lock.json")
            try:
                backend.get_file(key, local)
                with open(local) as f:
                    d = json.load(f)
            except (OSError, ValueError):
                continue
        if isinstance(d, dict) and _alive(d, time.time()):
            found.append(d)
    return found


@contextmanager
def _object_lock(backend: Backend, what: str, progress: Progress, limit: float) -> Iterator[Held]:
    body = _body(what)
    key = f"locks/{body['owner']}.json"
    deadline = time.monotonic() + limit
    told = False
    while True:
        body["expires"] = time.time() + TTL
        _put_json(backend, key, body)
        others = _others(backend, key)
        if not others:
            break
        backend.delete(key)
        holder = f"{others[0].get('what')} (pid {others[0].get('pid')} on {others[0].get('hostname')})"
        if not told:
            progress.message(f"waiting for the backup target's lock, held by {holder}")
            told = True
        if time.monotonic() >= deadline:
            raise LockTimeoutError(f"the backup target {backend.url} is still locked by {holder} after {limit:g}s",
                                   "wait for it to finish, or raise LABVAULT_LOCK_TIMEOUT")
        time.sleep(0.2 + random.random())
    held = Held(backend, key, body)
    try:
        yield held
    finally:
        backend.delete(key)
