"""``labvault serve``: choose the settings (refusing what would be unsafe), then run uvicorn.

The rule: with no users in the catalog, the server lets anonymous visitors read, and only on a
loopback address; once any user exists, everyone signs in. A non-loopback address needs at least
one admin user (``labvault user add NAME --role admin``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from labvault.api.users import admin_exists, server_catalog_url, user_list
from labvault.errors import ConfigError, UsageError
from labvault.web.app import Settings, is_loopback


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


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8600, log_level: str = "info") -> None:
    """Run the dashboard with uvicorn until interrupted (the command line's job: it blocks)."""
    import uvicorn

    from labvault.web.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, proxy_headers=False,
                server_header=False)
