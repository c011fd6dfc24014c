"""Which names ``names check`` looks at, and as which kind; then the check itself.

The auto rules, on paths relative to the project root (the folder holding ``.dvc/``):

* ``data/``: every file, at any depth, is a dataset;
* ``models/``: every file, at any depth, is a model;
* ``experiments/``: every folder directly inside is an experiment (its content is not checked);
* ``outputs/``: every folder directly inside is an experiment, except the layout folders ``logs/``,
  ``metrics/`` and ``visualizations/``, whose own subfolders are experiments;
* anything else (``src/``, ``notebooks/``, files at the root, ...) is not checked.

Never checked: hidden files and folders, ``README*``, ``LICENSE*``, ``*.dvc`` pointers, checksum
files (``*.md5``, ``*.sha1``, ``*.sha256``), ``dvc.yaml``, ``dvc.lock``, ``params.yaml``, labvault temp
files; and the content of a dataset or model *folder* (one holding a provenance card, or tracked as
a whole by a ``NAME.dvc`` beside it), whose files keep the names their publisher gave them. The
layout folders (``raw``, ``processed``, ``interim``, ``external``, ``train``, ``val``, ``test``,
``checkpoints``, ``final``, ``pretrained``) are never dataset or model folders.

A path given explicitly is always looked at, even inside a dataset folder; a file no rule covers
is reported as skipped. With an explicit kind, every file below the given paths is checked as a
dataset or model, and for ``experiment`` the given folders themselves are checked.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from labvault.data.naming import KINDS, SPLITS, Conventions, Violation, check_name
from labvault.errors import PathError, UsageError

LAYOUT_FOLDERS = frozenset(
    {"raw", "processed", "interim", "external", "train", "val", "test", "checkpoints", "final", "pretrained"}
)
OUTPUT_LAYOUT = frozenset({"logs", "metrics", "visualizations"})
_HOUSEKEEPING_NAMES = frozenset({"dvc.yaml", "dvc.lock", "params.yaml"})
_HOUSEKEEPING_SUFFIXES = (".dvc", ".md5", ".sha1", ".sha256", ".lvtmp")


@dataclass(frozen=True)
class NamesReport:
    """The outcome of a check: how many names were looked at, which break the conventions, and the
    explicitly given paths that no rule covers."""

    checked: int
    violations: tuple[Violation, ...]
    skipped: tuple[str, ...]
    config: str | None

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class _Target:
    path: Path
    shown: str
    kind: str


def is_housekeeping(name: str) -> bool:
    """Files every folder may hold whatever the conventions: hidden files, READMEs, pointers."""
    upper = name.upper()
    return (
        name.startswith(".")
        or upper.startswith(("README", "LICENSE"))
        or name in _HOUSEKEEPING_NAMES
        or name.endswith(_HOUSEKEEPING_SUFFIXES)
    )


def _is_unit_folder(path: Path) -> bool:
    """A dataset or model folder: it has a provenance card, or a ``NAME.dvc`` tracks it whole."""
    if path.name in LAYOUT_FOLDERS:
        return False
    if path.with_name(path.name + ".dvc").is_file():
        return True
    try:
        with open(path / "README.md", "rb") as f:
            return f.readline().rstrip() == b"---"
    except OSError:
        return False


def _classify(parts: tuple[str, ...], is_dir: bool) -> tuple[str | None, bool]:
    """(kind or None, whether to look inside) for a path relative to the project root."""
    if not parts:
        return None, True
    if any(p.startswith(".") for p in parts):
        return None, False
    top, depth = parts[0], len(parts)
    if top in ("data", "models"):
        if is_dir:
            return None, True
        return (None if is_housekeeping(parts[-1]) else ("dataset" if top == "data" else "model")), False
    if not is_dir:
        return None, False
    if top == "experiments":
        return ("experiment", False) if depth == 2 else (None, depth == 1)
    if top == "outputs":
        if depth == 1:
            return None, True
        if depth == 2:
            return (None, True) if parts[1] in OUTPUT_LAYOUT else ("experiment", False)
        if depth == 3 and parts[1] in OUTPUT_LAYOUT:
            return "experiment", False
    return None, False


def _shown(root: Path, path: Path, is_dir: bool) -> str:
    try:
        text = path.relative_to(root).as_posix()
    except ValueError:
        text = str(path)
    return text + "/" if is_dir and text != "." else text


def _children(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError:
        return []


def _walk_files(folder: Path) -> Iterator[Path]:
    """Files below ``folder`` that any convention could apply to (not inside unit folders)."""
    for entry in _children(folder):
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            if not _is_unit_folder(path):
                yield from _walk_files(path)
        elif not is_housekeeping(entry.name):
            yield path


def _auto_targets(root: Path, start: Path, skipped: list[str]) -> Iterator[_Target]:
    is_dir = start.is_dir() and not start.is_symlink()
    try:
        parts = start.relative_to(root).parts
    except ValueError:
        skipped.append(f"{start}: outside the project (pass --kind to check it anyway)")
        return
    kind, descend = _classify(parts, is_dir)
    if kind is not None:
        yield _Target(start, _shown(root, start, is_dir), kind)
        return
    if not is_dir:
        if not is_housekeeping(start.name):
            skipped.append(f"{_shown(root, start, False)}: not under data/, models/, experiments/ or outputs/ "
                           "(pass --kind to check it anyway)")
        return
    if not descend:
        return
    stack = [start]
    while stack:
        folder = stack.pop()
        for entry in reversed(_children(folder)):
            path = Path(entry.path)
            child_dir = entry.is_dir(follow_symlinks=False)
            child_parts = path.relative_to(root).parts
            kind, descend = _classify(child_parts, child_dir)
            if kind is not None:
                yield _Target(path, _shown(root, path, child_dir), kind)
            elif child_dir and descend and not (child_parts[0] in ("data", "models") and _is_unit_folder(path)):
                stack.append(path)


def _targets(root: Path, start: Path, kind: str, skipped: list[str]) -> Iterator[_Target]:
    if kind == "auto":
        yield from _auto_targets(root, start, skipped)
    elif kind == "experiment":
        if not start.is_dir():
            raise PathError(f"{start} is not a folder", "experiments are folders: name them, not their files")
        yield _Target(start, _shown(root, start, True), kind)
    elif start.is_dir():
        for path in _walk_files(start):
            yield _Target(path, _shown(root, path, False), kind)
    else:
        yield _Target(start, _shown(root, start, False), kind)


def check_paths(root: Path, paths: list[Path], kind: str, conventions: Conventions) -> NamesReport:
    """Check the names at and below ``paths`` (absolute) against ``conventions``; ``kind`` is
    ``auto`` (the rules above) or one of :data:`KINDS`."""
    if kind != "auto" and kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}", f"use auto, {', '.join(KINDS)}")
    for p in paths:
        if not os.path.lexists(p):
            raise PathError(f"{p} does not exist", "check the path")
    checked = 0
    violations: list[Violation] = []
    skipped: list[str] = []
    seen: set[Path] = set()
    for start in paths or [root]:
        for t in _targets(root, start, kind, skipped):
            if t.path in seen:
                continue
            seen.add(t.path)
            checked += 1
            split_hint = t.path.parent.name if t.kind == "dataset" and t.path.parent.name in SPLITS else None
            try:
                file_date: dt.date | None = dt.date.fromtimestamp(t.path.lstat().st_mtime)
            except OSError:
                file_date = None
            v = check_name(t.kind, t.path.name, conventions, t.shown, split_hint, file_date)
            if v is not None:
                violations.append(v)
    violations.sort(key=lambda v: v.path)
    return NamesReport(checked, tuple(violations), tuple(skipped), conventions.source)
