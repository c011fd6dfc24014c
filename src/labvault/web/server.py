"""``labvault serve``: choose the settings (refusing what would be unsafe), then run uvicorn.

The rule: with no users in the catalog, the server lets anonymous visitors read, and only on a
loopback address; once any user exists, everyone signs in. A non-loopback address needs at least
one admin user (``labvault user add NAME --role admin``).
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from labvault.api.users import admin_exists, server_catalog_url, user_list
from labvault.errors import ConfigError, UsageError
from labvault.web.app import Settings, is_loopback

SETTINGS_ENV = "LABVAULT_SERVE_SETTINGS"


def read_secret(path: str | os.PathLike[str]) -> bytes:
    """The signing secret in ``path``, made (32 random bytes, hex, mode 0600, atomically) when absent."""
    p = Path(path).expanduser()
    if not p.exists():
        tmp = p.with_name(f".{p.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    text = p.read_text().strip()
    if len(text) < 32:
        raise ConfigError(f"the secret in {p} is shorter than 32 characters", "delete the file to make a new one")
    return text.encode()


def server_settings(
    host: str = "127.0.0.1", lab: str | None = None, catalog_url: str | None = None,
    repos: tuple[str, ...] = (), secret_file: str | None = None, secure_cookies: bool = False,
) -> Settings:
    """The settings ``labvault serve`` runs with; UsageError for a public address without an admin."""
    url = server_catalog_url(lab, catalog_url)
    for r in repos:
        if not Path(r).is_dir():
            raise UsageError(f"--repo {r}: no such folder", "pass the folder of a labvault/DVC repository")
    if not is_loopback(host) and not admin_exists(url):
        raise UsageError(f"refusing to serve on {host} without authentication",
                         "add an admin first (`labvault user add NAME --role admin`) or serve on 127.0.0.1")
    return Settings(
        catalog_url=url, lab=str(Path(lab).resolve()) if lab else None,
        repos=tuple(str(Path(r).resolve()) for r in repos),
        secret=read_secret(secret_file) if secret_file else secrets.token_bytes(32),
        auth_required=bool(user_list(url)) or not is_loopback(host), secure_cookies=secure_cookies,
    )


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8600, log_level: str = "info",
          workers: int = 1) -> None:
    """Run the dashboard with uvicorn until interrupted (the command line's job: it blocks).

    ``workers`` > 1: that many server processes on one socket (a request's work is Python, which one
    process runs one at a time). Each builds the app from the same settings, so a session signed
    by one is good in all; the settings (with the signing secret) reach them in a file only this
    user may read, named by ``LABVAULT_SERVE_SETTINGS`` and removed when the server stops. The
    login limit is shared out: each process allows ``login_attempts / workers`` (at least one)."""
    import uvicorn

    common: dict[str, Any] = {"host": host, "port": port, "log_level": log_level, "proxy_headers": False,
                              "server_header": False}
    if workers <= 1:
        from labvault.web.app import create_app

        uvicorn.run(create_app(settings), **common)
        return
    shared = replace(settings, login_attempts=max(1, settings.login_attempts // workers))
    fd, path = tempfile.mkstemp(prefix="labvault-serve-", suffix=".json")  # mode 0600
    before = os.environ.get(SETTINGS_ENV)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump({**asdict(shared), "secret": shared.secret.hex(), "repos": list(shared.repos)}, f)
        os.environ[SETTINGS_ENV] = path  # the worker processes inherit it, then drop it
        uvicorn.run("labvault.web.server:worker_app", factory=True, workers=workers, **common)
    finally:
        if before is None:
            os.environ.pop(SETTINGS_ENV, None)
        else:
            os.environ[SETTINGS_ENV] = before
        os.unlink(path)


def worker_app() -> Any:
    """The app of one worker process of ``serve(workers=N)``: the settings from the file the
    server wrote (the variable naming it is dropped, so nothing this process starts inherits it)."""
    from labvault.web.app import create_app

    path = os.environ.pop(SETTINGS_ENV, None)
    if path is None:
        raise ConfigError(f"{SETTINGS_ENV} is not set", "start the server with `labvault serve --workers N`")
    doc = json.loads(Path(path).read_text())
    doc["secret"] = bytes.fromhex(doc["secret"])
    doc["repos"] = tuple(doc["repos"])
    return create_app(Settings(**doc))
