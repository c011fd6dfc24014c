"""Reading and writing configuration at one level (system, global, repo, local)."""

from __future__ import annotations

import os
from pathlib import Path

from labvault.config import Config, ConfigFile, level_file, split_key, validate_value
from labvault.errors import ConfigError
from labvault.workspace.repo import find_root

PathLike = str | os.PathLike[str]


def _dvc_dir(level: str, repo: PathLike | None) -> Path | None:
    if level in ("repo", "local"):
        return find_root(Path(repo) if repo else None) / ".dvc"
    try:
        return find_root(Path(repo) if repo else None) / ".dvc"
    except ConfigError:
        return None
    except Exception:
        return None


def config_get(key: str, level: str | None = None, repo: PathLike | None = None) -> str | None:
    """The value of ``key`` at ``level``, or merged over all levels when ``level`` is None."""
    section, option = split_key(key)
    if level is None:
        return Config.load(_dvc_dir("merged", repo)).get(section, option)
    f = ConfigFile.load(level_file(level, _dvc_dir(level, repo), section))
    return f.sections.get(section, {}).get(option)


def config_set(key: str, value: str, level: str = "repo", repo: PathLike | None = None) -> Path:
    section, option = split_key(key)
    validate_value(section, option, value)
    path = level_file(level, _dvc_dir(level, repo), section)
    f = ConfigFile.load(path)
    f.sections.setdefault(section, {})[option] = value
    f.save()
    return path


def config_unset(key: str, level: str = "repo", repo: PathLike | None = None) -> Path:
    section, option = split_key(key)
    path = level_file(level, _dvc_dir(level, repo), section)
    f = ConfigFile.load(path)
    if option not in f.sections.get(section, {}):
        raise ConfigError(f"{key} is not set at the {level} level", "nothing to unset")
    del f.sections[section][option]
    f.save()
    return path


def config_list(level: str | None = None, repo: PathLike | None = None) -> dict[str, str]:
    values: dict[str, dict[str, str]] = {}
    if level is None:
        values = {s: dict(v) for s, v in Config.load(_dvc_dir("merged", repo)).values.items()}
    else:
        dvc_dir = _dvc_dir(level, repo)
        for section in ("core", "labvault"):
            for s, v in ConfigFile.load(level_file(level, dvc_dir, section)).sections.items():
                values.setdefault(s, {}).update(v)
    flat: dict[str, str] = {}
    for section, opts in values.items():
        prefix = section
        if section.startswith('remote "'):
            prefix = "remote." + section[len('remote "') : -1]
        for opt, val in opts.items():
            flat[f"{prefix}.{opt}"] = val
    return flat


def cache_dir(value: str | None = None, level: str = "repo", unset: bool = False,
              repo: PathLike | None = None) -> str:
    """``cache dir``, as ``dvc cache dir``: without ``value``, the cache folder in use (absolute);
    with it, sets ``cache.dir`` at ``level``: a relative ``value`` is taken from the current
    folder and written relative to ``.dvc/`` for the repo and local levels (where a relative
    ``cache.dir`` is read from, so that the file names the same place from any clone's folder),
    absolute for the user's and the machine's files; ``unset`` removes the setting. Returns the
    folder then in use (the repository is not opened: a committed ``cache.dir`` that names a
    missing folder outside it is refused by the commands that use the cache, not here)."""
    if unset:
        config_unset("cache.dir", level, repo)
    elif value is not None:
        stored = os.path.abspath(os.path.expanduser(value))
        if not os.path.isabs(os.path.expanduser(value)) and level in ("repo", "local"):
            stored = os.path.relpath(stored, level_file(level, _dvc_dir(level, repo), "cache").parent)
        config_set("cache.dir", stored.replace(os.sep, "/"), level, repo)
    from labvault.core.odb import cache_dir_for

    dvc_dir = find_root(Path(repo) if repo else None) / ".dvc"
    return str(cache_dir_for(dvc_dir, Config.load(dvc_dir).get("cache", "dir")))
