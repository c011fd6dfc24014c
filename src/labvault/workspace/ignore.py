"""``.dvcignore`` (gitignore patterns, one file per folder) and the ``.gitignore`` entries of outputs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pathspec

from labvault.fsutil import atomic_write_text

DVCIGNORE = ".dvcignore"
ALWAYS_IGNORED = frozenset({".git", ".hg", ".dvc"})


class IgnoreRules:
    """Patterns from every ``.dvcignore`` in the repo, each applying below its own folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._specs: dict[str, pathspec.PathSpec | None] = {}  # type: ignore[type-arg]

    def _spec_for(self, rel_dir: str) -> pathspec.PathSpec | None:  # type: ignore[type-arg]
        if rel_dir not in self._specs:
            f = self.root / rel_dir / DVCIGNORE if rel_dir else self.root / DVCIGNORE
            try:
                lines = f.read_text(encoding="utf-8").splitlines()
            except (FileNotFoundError, NotADirectoryError):
                self._specs[rel_dir] = None
            else:
                lines = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
                if lines:
                    import pathspec

                    self._specs[rel_dir] = pathspec.PathSpec.from_lines(_pattern_kind(), lines)
                else:
                    self._specs[rel_dir] = None
        return self._specs[rel_dir]

    def is_ignored(self, relpath: str, is_dir: bool) -> bool:
        """``relpath`` is relative to the repo root, POSIX style."""
        parts = relpath.split("/")
        if ALWAYS_IGNORED.intersection(parts[:-1]) or (is_dir and parts[-1] in ALWAYS_IGNORED):
            return True
        for i in range(len(parts)):
            base = "/".join(parts[:i])
            spec = self._spec_for(base)
            if spec is None:
                continue
            sub = "/".join(parts[i:])
            if spec.match_file(sub + ("/" if is_dir else "")):
                return True
        return False

    def has_any(self) -> bool:
        return self._spec_for("") is not None

    def checker_for(self, out_rel: str) -> IgnoreChecker:
        return IgnoreChecker(self, out_rel)


class IgnoreChecker:
    """Fast path for scanning one output: only consult patterns when some exist."""

    def __init__(self, rules: IgnoreRules, out_rel: str) -> None:
        self.rules = rules
        self.out_rel = out_rel
        parts = out_rel.split("/")
        self.active = any(rules._spec_for("/".join(parts[:i])) is not None for i in range(len(parts)))

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
