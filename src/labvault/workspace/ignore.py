"""``.dvcignore`` (gitignore patterns, one file per folder) and the ``.gitignore`` entries of outputs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

from labvault.fsutil import atomic_write_text

DVCIGNORE = ".dvcignore"
ALWAYS_IGNORED = frozenset({".git", ".hg", ".dvc"})


@dataclass(frozen=True)
class IgnoreMatch:
    """The pattern that decides whether a path is ignored: the last one matching it, the deepest
    ``.dvcignore`` last (as git and DVC decide)."""

    source: str  # the .dvcignore holding it, relative to the repo root
    line: int  # 1-based, counting every line of the file
    pattern: str
    ignored: bool  # False for a negation (``!pattern``): the path is included again


class IgnoreRules:
    """Patterns from every ``.dvcignore`` in the repo, each applying below its own folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._numbered: dict[str, list[tuple[int, str, Any, bool, bool]]] = {}
        self._merged: dict[str, list[list[tuple[str, int, str, Any, bool, bool]]]] = {}

    def _lines_for(self, rel_dir: str) -> list[tuple[int, str, Any, bool, bool]]:
        """The patterns of ``rel_dir/.dvcignore`` as DVC reads them (each line stripped; blank
        lines and comments skipped): (line number, text, compiled regex, ignores, folders only)."""
        if rel_dir not in self._numbered:
            import re

            f = self.root / rel_dir / DVCIGNORE if rel_dir else self.root / DVCIGNORE
            try:
                lines = f.read_text(encoding="utf-8").splitlines()
            except (FileNotFoundError, NotADirectoryError):
                lines = []
            kind = _pattern_kind()
            if isinstance(kind, str):  # pathspec before 1.0: the class by its registered name
                from pathspec.util import lookup_pattern

                kind = lookup_pattern(kind)
            found = []
            for n, line in enumerate(lines, 1):
                text = line.strip()
                if not text or text.startswith("#"):
                    continue
                regex, include = kind.pattern_to_regex(text)
                if regex is not None and include is not None:
                    found.append((n, text, re.compile(regex), bool(include), text.endswith("/")))
            self._numbered[rel_dir] = found
        return self._numbered[rel_dir]

    def explain(self, relpath: str, is_dir: bool) -> IgnoreMatch | None:
        """The pattern ``dvc check-ignore`` names for ``relpath`` (POSIX, relative to the root),
        or None. DVC's rule, kept exactly: the patterns of the ``.dvcignore`` files from the root
        down to the path's folder, in that order, are cut into runs of consecutive patterns of one
        kind (ignoring or negating, folders only or not); runs are tried last to first, and in a
        run of ignoring patterns the *first* one matching is named. Each leading folder of the
        path is tried before the path itself; a folder that is ignored decides for everything
        below it."""
        parts = relpath.split("/")
        runs = self._runs("/".join(parts[:-1]))
        if not runs:
            return None
        found: IgnoreMatch | None = None
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            hit = self._first_match(runs, prefix, is_dir or i < len(parts))
            if hit is None or (i < len(parts) and not hit.ignored):
                continue
            found = hit
            if hit.ignored:
                break
        return found

    def _runs(self, folder: str) -> list[list[tuple[str, int, str, Any, bool, bool]]]:
        """The patterns that apply in ``folder`` (from the root's ``.dvcignore`` down to its own),
        cut into DVC's runs; remembered per folder."""
        got = self._merged.get(folder)
        if got is None:
            parts = folder.split("/") if folder else []
            bases = ["/".join(parts[:i]) for i in range(len(parts) + 1)]  # "", "a", "a/b"
            got = []
            for item in ((base, *pattern) for base in bases for pattern in self._lines_for(base)):
                if got and got[-1][-1][4:] == item[4:] and item[4]:
                    got[-1].append(item)
                else:
                    got.append([item])
            self._merged[folder] = got
        return got

    @staticmethod
    def _first_match(runs: list[list[tuple[str, int, str, Any, bool, bool]]], path: str,
                     is_dir: bool) -> IgnoreMatch | None:
        for run in reversed(runs):
            for base, n, text, regex, include, dir_only in run:
                if dir_only and not is_dir:
                    continue
                if base and not path.startswith(base + "/"):
                    continue
                sub = path[len(base) + 1:] if base else path
                if any(regex.match(p) for p in ((sub, sub + "/") if is_dir else (sub,))):
                    return IgnoreMatch(f"{base}/{DVCIGNORE}" if base else DVCIGNORE, n, text, include)
        return None

    def is_ignored(self, relpath: str, is_dir: bool) -> bool:
        """``relpath`` is relative to the repo root, POSIX style."""
        parts = relpath.split("/")
        if ALWAYS_IGNORED.intersection(parts[:-1]) or (is_dir and parts[-1] in ALWAYS_IGNORED):
            return True
        found = self.explain(relpath, is_dir)
        return found is not None and found.ignored

    def has_any(self) -> bool:
        return bool(self._lines_for(""))

    def checker_for(self, out_rel: str) -> IgnoreChecker:
        return IgnoreChecker(self, out_rel)


class IgnoreChecker:
    """Fast path for scanning one output: only consult patterns when some exist."""

    def __init__(self, rules: IgnoreRules, out_rel: str) -> None:
        self.rules = rules
        self.out_rel = out_rel
        parts = out_rel.split("/")
        self.active = any(rules._lines_for("/".join(parts[:i])) for i in range(len(parts)))

    def __call__(self, rel_in_out: str, is_dir: bool, folder_has_dvcignore: bool) -> bool:
        if not self.active and not folder_has_dvcignore:
            return is_dir and rel_in_out.rsplit("/", 1)[-1] in ALWAYS_IGNORED
        return self.rules.is_ignored(f"{self.out_rel}/{rel_in_out}", is_dir)


def gitignore_add(folder: Path, name: str) -> bool:
    """Add ``/name`` to ``folder/.gitignore`` unless it is there; True when the file changed."""
    f = folder / ".gitignore"
    entry = "/" + name
    try:
        text = f.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    lines = text.splitlines()
    if entry in (ln.strip() for ln in lines):
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    atomic_write_text(f, text + entry + "\n")
    return True


def gitignore_remove(folder: Path, name: str) -> bool:
    f = folder / ".gitignore"
    entry = "/" + name
    try:
        text = f.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    lines = text.splitlines()
    kept = [ln for ln in lines if ln.strip() != entry]
    if len(kept) == len(lines):
        return False
    if not kept:
        os.unlink(f)
        return True
    atomic_write_text(f, "\n".join(kept) + "\n")
    return True


def _pattern_kind() -> Any:
    """pathspec's git wildmatch patterns, as DVC uses them: named ``GitIgnoreSpecPattern`` since
    pathspec 1.0 (which deprecates the old name, an alias of it), ``"gitwildmatch"`` before."""
    try:
        from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern
    except ImportError:
        return "gitwildmatch"
    return GitIgnoreSpecPattern
