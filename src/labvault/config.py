"""Layered configuration in DVC's file format.

Levels, lowest first: system < global < repo (``.dvc/config``) < local (``.dvc/config.local``) <
environment < flags. The files are the INI dialect DVC writes (configobj): ``[core]`` sections,
``['remote "name"']`` sections, four-space indented ``key = value`` lines.

Keys DVC knows live in DVC's files, so that real ``dvc`` keeps reading them. Keys of labvault's own
(``labvault.*``) live beside them in ``labvault.conf`` (``labvault.local.conf`` for the local level),
because DVC rejects sections it does not know.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from labvault import environ
from labvault.errors import ConfigError

LEVELS = ("system", "global", "repo", "local")

# Sections and keys DVC 3.x accepts. Remote sections accept any key (each backend has its own).
KNOWN_KEYS: dict[str, set[str]] = {
    "core": {
        "remote", "interactive", "analytics", "no_scm", "autostage", "hardlink_lock",
        "check_update", "checksum_jobs", "site_cache_dir",
    },
    "cache": {
        "dir", "type", "protected", "shared", "slow_link_warning", "verify", "local", "s3",
        "gs", "hdfs", "webhdfs", "ssh", "azure",
    },
    "state": {"row_limit", "row_cleanup_quota", "dir"},
    "index": {"dir"},
    "hydra": {"enabled", "config_dir", "config_name", "plugins_path"},
    "plots": {"html_template", "out_dir", "auto_open"},
    "exp": {"code", "data", "models", "metrics", "params", "plots"},
    "parsing": {"bool", "list"},
    "labvault": {
        "lock_timeout", "jobs", "fsync", "catalog_url", "catalog_capture", "project", "spill_tiers", "spill_lab",
        "spill_catalog",
    },
}
LINK_TYPES = ("reflink", "hardlink", "symlink", "copy")

_SECTION_RE = re.compile(r"""^\s*\[\s*(?P<q>['"]?)(?P<name>.*?)(?P=q)\s*\]\s*$""")
_REMOTE_RE = re.compile(r"""^remote\s+"(?P<name>[^"]+)"$""")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    if " #" in value:
        value = value.split(" #", 1)[0].rstrip()
    return value


def _quote(value: str) -> str:
    if value == "" or value != value.strip() or "#" in value or "," in value:
        if "'" not in value:
            return f"'{value}'"
        return f'"{value}"'
    return value


@dataclass
class ConfigFile:
    """One INI file: an ordered mapping of section -> key -> raw string value."""

    path: Path
    sections: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> ConfigFile:
        cfg = cls(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cfg
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        current: dict[str, str] | None = None
        for lineno, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            m = _SECTION_RE.match(line)
            if m:
                current = cfg.sections.setdefault(m.group("name").strip(), {})
                continue
            if "=" not in line or current is None:
                raise ConfigError(
                    f"{path}:{lineno}: cannot parse line {raw.strip()!r}",
                    "fix or remove the line (expected `[section]` or `key = value`)",
                )
            key, value = line.split("=", 1)
            current[key.strip()] = _unquote(value)
        return cfg

    def render(self) -> str:
        out: list[str] = []
        for section, values in self.sections.items():
            if not values:
                continue
            header = f"['{section}']" if " " in section or '"' in section else f"[{section}]"
            out.append(header)
            out.extend(f"    {k} = {_quote(v)}" for k, v in values.items())
        return "\n".join(out) + ("\n" if out else "")

    def save(self) -> None:
        from labvault.fsutil import atomic_write_text

        atomic_write_text(self.path, self.render())


def split_key(key: str) -> tuple[str, str]:
    """``core.remote`` -> ("core", "remote"); ``remote.s3.url`` -> ('remote "s3"', "url")."""
    parts = key.split(".")
    if parts[0] == "remote":
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise ConfigError(f"bad config key {key!r}", "remote keys look like remote.NAME.OPTION")
        return f'remote "{parts[1]}"', parts[2]
    if len(parts) != 2 or not all(parts):
        raise ConfigError(f"bad config key {key!r}", "keys look like SECTION.OPTION, e.g. cache.type")
    section, option = parts
    if section not in KNOWN_KEYS:
        known = ", ".join(sorted([*KNOWN_KEYS, "remote"]))
        raise ConfigError(f"unknown config section {section!r}", f"known sections: {known}")
    if option not in KNOWN_KEYS[section]:
        known = ", ".join(sorted(KNOWN_KEYS[section]))
        raise ConfigError(f"unknown config key {key!r}", f"known keys in [{section}]: {known}")
    return section, option


def validate_value(section: str, option: str, value: str) -> None:
    if section == "cache" and option == "type":
        types = [t.strip() for t in value.split(",") if t.strip()]
        bad = [t for t in types if t not in LINK_TYPES]
        if not types or bad:
            raise ConfigError(
                f"bad cache.type {value!r}", f"use a comma-separated list of {', '.join(LINK_TYPES)}"
            )
    if section == "labvault" and option == "fsync" and value.strip().lower() not in (
        "auto", "always", "never", "true", "false", "1", "0", "yes", "no", "on", "off"
    ):
        raise ConfigError(f"bad labvault.fsync {value!r}", "use auto, always or never")
    if section == "labvault" and option in ("lock_timeout", "jobs"):
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"labvault.{option} must be a number, not {value!r}") from None
        if number < 0:
            raise ConfigError(f"labvault.{option} must not be negative")


def level_dir(level: str, dvc_dir: Path | None) -> Path:
    if level == "system":
        return Path(os.environ.get("LABVAULT_SYSTEM_CONFIG_DIR", "/etc/xdg/dvc"))
    if level == "global":
        if "LABVAULT_GLOBAL_CONFIG_DIR" in os.environ:
            return Path(os.environ["LABVAULT_GLOBAL_CONFIG_DIR"])
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        return Path(base) / "dvc"
    if dvc_dir is None:
        raise ConfigError(f"the {level} config level needs a repository", "run inside a labvault repo")
    return dvc_dir


def level_file(level: str, dvc_dir: Path | None, section: str) -> Path:
    """The file that holds ``section`` at ``level``."""
    base = level_dir(level, dvc_dir)
    if section == "labvault":
        return base / ("labvault.local.conf" if level == "local" else "labvault.conf")
    return base / ("config.local" if level == "local" else "config")


# Parsed config files kept per process, by path, with the file's identity (inode, size, mtime,
# ctime) when it was read, or None for an absent file. Saving a config writes a temp file and
# renames it (a new inode); any other write changes the ctime. A file whose mtime or ctime is
# within _RACY_NS of the moment it was read is not kept (a second write inside one timestamp tick
# could leave every field as it was), so it is read again next time. See docs/design.md,
# "Reading any version".
_PARSED: dict[str, tuple[tuple[int, int, int, int] | None, dict[str, dict[str, str]]]] = {}
_PARSED_LIMIT = 256
_RACY_NS = 2_000_000_000


def _identity(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return (-1, -1, -1, -1)  # unreadable: never matches, so ConfigFile.load reports it
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _level_files(dvc_dir: Path | None) -> list[tuple[str, str]]:
    """``(level, file)`` of every config file, in merge order (``level_file``, as plain strings)."""
    found: list[tuple[str, str]] = []
    for level in LEVELS:
        if level in ("repo", "local") and dvc_dir is None:
            continue
        base = os.fspath(level_dir(level, dvc_dir))
        local = level == "local"
        found.append((level, os.path.join(base, "config.local" if local else "config")))
        found.append((level, os.path.join(base, "labvault.local.conf" if local else "labvault.conf")))
    return found


def _steady(ident: tuple[int, int, int, int] | None) -> bool:
    """Whether a file with this identity may be kept: absent, or last changed more than
    ``_RACY_NS`` ago (a later write then necessarily changes its ctime)."""
    import time

    return ident is None or (ident[0] >= 0 and time.time_ns() - max(ident[2], ident[3]) > _RACY_NS)


def _parsed_sections(path: str) -> dict[str, dict[str, str]]:
    """``ConfigFile.load(path).sections``, kept while the file's identity is unchanged; the
    caller must not modify what it gets."""
    key = path
    ident = _identity(key)
    known = _PARSED.get(key)
    if known is not None and known[0] == ident and ident != (-1, -1, -1, -1):
        return known[1]
    sections = ConfigFile.load(Path(path)).sections if ident is not None else {}
    if _steady(ident):
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        _PARSED[key] = (ident, sections)
    return sections


def forget_parsed() -> None:
    """Drop the kept config files (tests compare against fresh reads)."""
    _PARSED.clear()
    _MERGED.clear()
    _FILES.clear()


_ENV_OVERRIDES = {
    ("labvault", "lock_timeout"): "LABVAULT_LOCK_TIMEOUT",
    ("labvault", "jobs"): "LABVAULT_JOBS",
    ("labvault", "fsync"): "LABVAULT_FSYNC",
    ("cache", "type"): "LABVAULT_CACHE_TYPE",
    ("labvault", "catalog_url"): "LABVAULT_CATALOG_URL",
    ("labvault", "catalog_capture"): "LABVAULT_CATALOG_CAPTURE",
}


# What Config.load depends on besides the files: the folders of the system and global levels,
# and the overrides. Merged configs are kept by (repository .dvc folder, those variables), with
# the identities of every file merged; the list of files by the same key.
_DIR_ENV = ("LABVAULT_SYSTEM_CONFIG_DIR", "LABVAULT_GLOBAL_CONFIG_DIR", "XDG_CONFIG_HOME", "HOME")
_ENV_KEYS = _DIR_ENV + tuple(_ENV_OVERRIDES.values())
_ENV_NAMES = environ.Names(*_ENV_KEYS)
_FILES: dict[tuple[str | None, tuple[str | None, ...]], list[tuple[str, str]]] = {}
_MERGED: dict[tuple[str | None, tuple[str | None, ...]], tuple[tuple[tuple[int, int, int, int] | None, ...], Config]] = {}


@dataclass(frozen=True)
class Config:
    """The merged view of every level, plus environment overrides."""

    values: Mapping[str, Mapping[str, str]]
    # (section, option) -> the level that set the value in force ("env" for an environment override)
    origins: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def load(cls, dvc_dir: str | os.PathLike[str] | None) -> Config:
        env = environ.get_many(_ENV_NAMES)
        key = (None if dvc_dir is None else os.fspath(dvc_dir), env)
        files = _FILES.get(key)
        if files is None:
            if len(_FILES) >= _PARSED_LIMIT:
                _FILES.clear()
            files = _FILES[key] = _level_files(None if dvc_dir is None else Path(dvc_dir))
        idents = tuple(map(_identity, [path for _, path in files]))
        known = _MERGED.get(key)
        if known is not None and known[0] == idents:
            return known[1]
        config = cls._merge(files, env)
        if all(_steady(ident) for ident in idents):
            if len(_MERGED) >= _PARSED_LIMIT:
                _MERGED.clear()
            _MERGED[key] = (idents, config)
        return config

    @classmethod
    def _merge(cls, files: list[tuple[str, str]], env: tuple[str | None, ...]) -> Config:
        merged: dict[str, dict[str, str]] = {}
        origins: dict[tuple[str, str], str] = {}
        for level, path in files:
            for section, values in _parsed_sections(path).items():
                merged.setdefault(section, {}).update(values)
                origins.update(((section, option), level) for option in values)
        overrides = env[len(_DIR_ENV):]
        for ((section, option), value) in zip(_ENV_OVERRIDES, overrides, strict=True):
            if value is not None:
                merged.setdefault(section, {})[option] = value
                origins[(section, option)] = "env"
        return cls(merged, origins)

    def origin(self, section: str, option: str) -> str | None:
        """The level whose value is in force: system, global, repo (the committed ``.dvc/config``,
        as cloned), local, env; None when unset."""
        return self.origins.get((section, option))

    def get(self, section: str, option: str, default: str | None = None) -> str | None:
        return self.values.get(section, {}).get(option, default)

    def get_bool(self, section: str, option: str, default: bool) -> bool:
        value = self.get(section, option)
        if value is None:
            return default
        return value.strip().lower() in ("1", "true", "yes", "on")

    def get_float(self, section: str, option: str, default: float) -> float:
        value = self.get(section, option)
        if value is None:
            return default
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{section}.{option} must be a number, not {value!r}") from None

    def remote_names(self) -> list[str]:
        names = []
        for section in self.values:
            m = _REMOTE_RE.match(section)
            if m:
                names.append(m.group("name"))
        return names
