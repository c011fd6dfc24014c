"""Whether git ignores a path of the work tree: the ``.gitignore`` of each folder from the git root
down, ``info/exclude`` and the user's excludes file, by git's rules (the last matching pattern
decides; a pattern ending in ``/`` matches folders only). Read from the files, git's folder and
config included: walking a workspace starts no process.

DVC skips the ``dvc.yaml`` and ``.dvc`` files git ignores, even ones forced into git, and does not
look inside a folder git ignores; ``index.find_control_files`` does the same with this."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from labvault.workspace.ignore import _pattern_kind

# (folder the patterns are relative to, "" for the git root; compiled pattern; True to ignore)
_Rule = tuple[str, "re.Pattern[str]", bool]


def _read_patterns(path: Path, base: str) -> list[_Rule]:
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except (OSError, ValueError):
        return []
    kind: Any = _pattern_kind()
    if isinstance(kind, str):  # pathspec before 1.0: the class by its registered name
        from pathspec.util import lookup_pattern

        kind = lookup_pattern(kind)
    rules: list[_Rule] = []
    for line in text.splitlines():
        if not line.endswith("\\ "):
            line = line.rstrip(" \t")  # trailing blanks do not count unless escaped, as git reads them
        if not line or line.startswith("#"):
            continue
        regex, include = kind.pattern_to_regex(line)
        if regex is not None and include is not None:
            rules.append((base, re.compile(regex), bool(include)))
    return rules


class GitIgnore:
    """The ignore rules of the git work tree at ``git_root``, read lazily per folder."""

    def __init__(self, git_root: Path, global_files: list[Path]) -> None:
        self.root = git_root
        self._global: list[_Rule] = []
        for f in global_files:
            self._global += _read_patterns(f, "")
        self._own: dict[str, list[_Rule]] = {}
        self._chain: dict[str, list[_Rule]] = {}

    def _own_rules(self, folder: str) -> list[_Rule]:
        if folder not in self._own:
            f = self.root / folder / ".gitignore" if folder else self.root / ".gitignore"
            self._own[folder] = _read_patterns(f, folder)
        return self._own[folder]

    def _rules_for(self, folder: str) -> list[_Rule]:
        """Every rule applying to the entries of ``folder``, lowest priority first."""
        chain = self._chain.get(folder)
        if chain is None:
            parent = self._global if not folder else self._rules_for(folder.rpartition("/")[0])
            own = self._own_rules(folder)
            chain = parent + own if own else parent
            self._chain[folder] = chain
        return chain

    def ignored(self, rel: str, is_dir: bool) -> bool:
        """Whether git ignores ``rel`` (POSIX, relative to the git root), its folders being not
        ignored (a walk never enters an ignored folder)."""
        folder = rel.rpartition("/")[0]
        for base, regex, ignore in reversed(self._rules_for(folder)):
            sub = rel[len(base) + 1 :] if base else rel
            if regex.match(sub + "/" if is_dir else sub):
                return ignore
        return False


def find_git_root(start: Path) -> Path | None:
    """The work tree holding ``start``: the nearest folder at or above it with a ``.git`` entry."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _git_dir(git_root: Path) -> Path:
    """The repository's common git folder (``.git``, or for a worktree or submodule the folder
    its ``.git`` file names, up to its ``commondir``)."""
    dot_git = git_root / ".git"
    if dot_git.is_dir():
        return dot_git
    try:
        line = dot_git.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return dot_git
    if not line.startswith("gitdir:"):
        return dot_git
    gitdir = Path(line[len("gitdir:") :].strip())
    gitdir = gitdir if gitdir.is_absolute() else git_root / gitdir
    try:
        common = (gitdir / "commondir").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return gitdir
    return Path(common) if os.path.isabs(common) else gitdir / common


def _excludes_file(git_dir: Path) -> Path:
    """``core.excludesFile`` from git's config files (system, global, the repository's; the last
    one set wins), else ``$XDG_CONFIG_HOME/git/ignore``. Read from the files: no git process."""
    home = os.path.expanduser("~")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    files = [] if os.environ.get("GIT_CONFIG_NOSYSTEM") else [Path("/etc/gitconfig")]
    glob_cfg = os.environ.get("GIT_CONFIG_GLOBAL")
    files += [Path(glob_cfg)] if glob_cfg else [Path(xdg) / "git" / "config", Path(home) / ".gitconfig"]
    files.append(git_dir / "config")
    found = ""
    for f in files:
        try:
            text = f.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        section = ""
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("["):
                section = line[1 : line.find("]")].strip().lower() if "]" in line else ""
                continue
            if section == "core" and "=" in line:
                name, _, value = line.partition("=")
                if name.strip().lower() == "excludesfile":
                    found = value.split(" #")[0].split(" ;")[0].strip().strip('"')
    if found:
        return Path(os.path.expanduser(found))
    return Path(xdg) / "git" / "ignore"


def git_ignore(git_root: Path) -> GitIgnore:
    """The rules of the work tree at ``git_root``, with ``info/exclude`` of its git folder and the
    user's excludes file."""
    git_dir = _git_dir(git_root)
    return GitIgnore(git_root, [git_dir / "info" / "exclude", _excludes_file(git_dir)])
