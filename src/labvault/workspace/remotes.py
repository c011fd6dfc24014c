"""Named remotes in the config files: add, modify, remove, rename, list, default; and opening one."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from labvault.config import ConfigFile, level_file
from labvault.errors import ConfigError
from labvault.remotes.registry import open_backend, split_url
from labvault.remotes.store import RemoteStore
from labvault.workspace.repo import Repo

COMMON_OPTIONS = {"url", "jobs", "verify", "push"}
OPTIONS = {
    "file": {"type"},  # DVC's link types for a folder remote; labvault acts on "hardlink" only
    "s3": {
        "region", "profile", "credentialpath", "configpath", "endpointurl", "access_key_id",
        "secret_access_key", "session_token", "use_ssl", "ssl_verify", "listobjects", "sse",
        "sse_kms_key_id", "acl", "grant_read", "grant_full_control", "allow_anonymous_login",
        "read_timeout", "connect_timeout", "cloudfront",
    },
    "http": {  # dvc's http/https options (remotes/http.py says what each does here)
        "auth", "custom_auth_header", "user", "password", "ask_password", "ssl_verify", "method",
        "connect_timeout", "read_timeout",
    },
    "gs": {"projectname", "credentialpath", "endpointurl", "allow_anonymous_login"},
    "azure": {
        "account_name", "account_key", "connection_string", "sas_token", "tenant_id", "client_id",
        "client_secret", "allow_anonymous_login", "exclude_environment_credential",
    },
}


def _link_types_ok(value: str) -> bool:
    types = [t.strip() for t in value.split(",")]
    return all(t in ("reflink", "hardlink", "symlink", "copy") for t in types)


def _section(name: str) -> str:
    return f'remote "{name}"'


@dataclass(frozen=True)
class RemoteInfo:
    name: str
    url: str
    default: bool
    options: dict[str, str]


def _check_name(name: str) -> None:
    if not name or any(c in name for c in '"\'[]/\\ \t\n') or name.startswith("-"):
        raise ConfigError(f"bad remote name {name!r}", "use letters, digits, '-', '_' or '.'")


def _normalize_url(url: str, dvc_dir: Path) -> str:
    """Relative local paths are stored relative to the config file's folder, as DVC does; a path
    starting with ``~`` or ``~user`` (one that expands) is stored as written, as DVC does, and
    expanded each time it is used."""
    kind, _ = split_url(url, http=True)
    if kind == "file" and "://" not in url and not os.path.isabs(url) and os.path.expanduser(url) == url:
        return os.path.relpath(os.path.abspath(url), dvc_dir)
    return url


def _resolve_url(url: str, dvc_dir: Path) -> str:
    kind, _ = split_url(url, http=True)
    if kind == "file" and "://" not in url:
        expanded = os.path.expanduser(url)
        if os.path.isabs(expanded):
            return expanded
        return os.path.normpath(os.path.join(dvc_dir, url))
    return url


def _file(repo: Repo, level: str) -> ConfigFile:
    return ConfigFile.load(level_file(level, repo.dvc_dir, "core"))


def remote_add(repo: Repo, name: str, url: str, default: bool, level: str, force: bool) -> RemoteInfo:
    _check_name(name)
    split_url(url, http=True)
    f = _file(repo, level)
    if _section(name) in f.sections and not force:
        raise ConfigError(f"remote {name!r} already exists", "pick another name, or pass --force to replace it")
    stored = _normalize_url(url, repo.dvc_dir)
    f.sections[_section(name)] = {"url": stored}
    if default:
        f.sections.setdefault("core", {})["remote"] = name
    f.save()
    repo.__dict__.pop("config", None)
    return RemoteInfo(name, stored, default, {})


def _find_level(repo: Repo, name: str, level: str | None) -> tuple[str, ConfigFile]:
    levels = [level] if level else ["local", "repo", "global", "system"]
    for lv in levels:
        f = _file(repo, lv)
        if _section(name) in f.sections:
            return lv, f
    raise ConfigError(f"remote {name!r} not found", f"add it with `labvault remote add {name} URL`")


def remote_modify(repo: Repo, name: str, option: str, value: str | None, level: str | None, unset: bool) -> None:
    found_level, f = _find_level(repo, name, None)
    target = level or found_level
    tf = f if target == found_level else _file(repo, target)
    section = tf.sections.setdefault(_section(name), {})
    url = repo.config.values.get(_section(name), {}).get("url", "")  # the url may be set at another level
    kind, _ = split_url(url, http=True) if url else ("file", "")
    allowed = COMMON_OPTIONS | OPTIONS.get(kind, set())
    if option not in allowed:
        raise ConfigError(
            f"unknown option {option!r} for a {kind} remote", f"known options: {', '.join(sorted(allowed))}"
        )
    if unset:
        section.pop(option, None)
    else:
        if value is None:
            raise ConfigError(f"no value given for {option}", f"use `labvault remote modify {name} {option} VALUE`")
        if option == "url":
            split_url(value, http=True)
            value = _normalize_url(value, repo.dvc_dir)
        if option == "jobs" and not value.isdigit():
            raise ConfigError(f"jobs must be a whole number, not {value!r}")
        if option == "type" and not _link_types_ok(value):
            raise ConfigError(f"bad type {value!r}", "use a comma-separated list of reflink, hardlink, symlink, copy")
        section[option] = value
    tf.save()
    repo.__dict__.pop("config", None)


def remote_remove(repo: Repo, name: str, level: str | None) -> None:
    _, f = _find_level(repo, name, level)
    del f.sections[_section(name)]
    if f.sections.get("core", {}).get("remote") == name:
        del f.sections["core"]["remote"]
    f.save()
    repo.__dict__.pop("config", None)


def remote_rename(repo: Repo, old: str, new: str, level: str | None) -> None:
    _check_name(new)
    _, f = _find_level(repo, old, level)
    if _section(new) in f.sections:
        raise ConfigError(f"remote {new!r} already exists", "remove it first or pick another name")
    f.sections = {(_section(new) if k == _section(old) else k): v for k, v in f.sections.items()}
    if f.sections.get("core", {}).get("remote") == old:
        f.sections["core"]["remote"] = new
    f.save()
    repo.__dict__.pop("config", None)


def remote_default(repo: Repo, name: str | None, level: str, unset: bool) -> str | None:
    f = _file(repo, level)
    if unset:
        f.sections.get("core", {}).pop("remote", None)
        f.save()
        repo.__dict__.pop("config", None)
        return None
    if name is None:
        return repo.config.get("core", "remote")
    if name not in repo.config.remote_names():
        raise ConfigError(f"remote {name!r} not found", f"add it with `labvault remote add {name} URL`")
    f.sections.setdefault("core", {})["remote"] = name
    f.save()
    repo.__dict__.pop("config", None)
    return name


# Options whose values are secrets: listed as set, never shown (`remote list --json` ends up in logs).
SECRET_OPTIONS = frozenset({
    "password", "secret_access_key", "session_token", "account_key", "sas_token", "connection_string",
    "client_secret", "token",
})
HIDDEN = "******"


def remote_list(repo: Repo) -> list[RemoteInfo]:
    """Every remote with its options; the values of secret options are hidden."""
    cfg = repo.config
    default = cfg.get("core", "remote")
    out = []
    for name in cfg.remote_names():
        opts = {k: (HIDDEN if k in SECRET_OPTIONS and v else v) for k, v in cfg.values[_section(name)].items()}
        url = opts.pop("url", "")
        out.append(RemoteInfo(name, url, name == default, opts))
    return out


def remote_url(repo: Repo, name: str | None) -> tuple[str, str]:
    """(name, url) of a remote (the default one when ``name`` is None)."""
    cfg = repo.config
    name = name or cfg.get("core", "remote")
    if not name or _section(name) not in cfg.values:
        raise ConfigError(f"remote {name!r} not found", f"add it with `labvault remote add {name} URL`")
    return name, _resolve_url(cfg.values[_section(name)].get("url", ""), repo.dvc_dir)


def open_remote(repo: Repo, name: str | None, jobs: int | None = None) -> RemoteStore:
    cfg = repo.config
    if name is None:
        name = cfg.get("core", "remote")
        if not name:
            raise ConfigError(
                "no default remote", "set one with `labvault remote default NAME`, or pass -r NAME"
            )
    if _section(name) not in cfg.values:
        raise ConfigError(f"remote {name!r} not found", f"add it with `labvault remote add {name} URL`")
    options = dict(cfg.values[_section(name)])
    url = options.get("url")
    if not url:
        raise ConfigError(f"remote {name!r} has no url", f"set it with `labvault remote modify {name} url URL`")
    versioned = [o for o in ("version_aware", "worktree") if str(options.get(o, "")).strip().lower() in ("true", "1", "yes")]
    if versioned:
        # dvc keeps such a remote's data under the workspace's paths, with the storage's version
        # ids in the .dvc files; objects sent to files/md5/ there would be invisible to dvc
        raise ConfigError(f"remote {name!r} is cloud-versioned ({versioned[0]} = true), which labvault does not "
                          "read or write", "use another remote (-r NAME), or dvc for this one")
    backend = open_backend(_resolve_url(url, repo.dvc_dir), options)
    kind, _ = split_url(url, http=True)
    if jobs is None:
        jobs = int(options["jobs"]) if options.get("jobs", "").isdigit() else (4 if kind == "file" else 16)
    return RemoteStore(name, backend, jobs)
