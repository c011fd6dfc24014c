"""Which outputs a repo tracks: its pointer files, in the workspace or at a git revision."""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labvault.errors import OverlapError, PathError, PointerError
from labvault.workspace.gitignore import find_git_root, git_ignore
from labvault.workspace.pointer import POINTER_SUFFIX, Out, Pointer, load_pointer, parse_pointer
from labvault.workspace.repo import DVC_DIR, Repo
from labvault.workspace.safepath import output_problem


@dataclass(frozen=True)
class Tracked:
    """An output with the pointer that names it; ``rel`` and ``pointer_rel`` are repo-relative."""

    pointer: Pointer
    index: int
    rel: str
    pointer_rel: str

    @property
    def out(self) -> Out:
        return self.pointer.outs[self.index]


def outputs_of(pointer: Pointer, pointer_rel_dir: str) -> list[Tracked]:
    result = []
    for i, out in enumerate(pointer.outs):
        rel = posixpath.normpath(posixpath.join(pointer_rel_dir, out.path))
        if rel.startswith("../") or rel == ".." or rel == ".":
            raise PointerError(f"{pointer.file}: output path {out.path!r} leaves the repository",
                               "outputs must be inside the repo; fix or delete the pointer")
        why = output_problem(rel)
        if why is not None:
            raise PointerError(f"{pointer.file}: output {rel!r} {why}", "the pointer is corrupt or hostile; fix or delete it")
        prel = posixpath.join(pointer_rel_dir, pointer.file.name) if pointer_rel_dir else pointer.file.name
        result.append(Tracked(pointer, i, rel, prel))
    return result


def find_pointer_files(repo: Repo) -> list[Path]:
    return find_control_files(repo)[0]


def find_control_files(repo: Repo) -> tuple[list[Path], list[Path], list[Path]]:
    """Every ``*.dvc``, ``dvc.lock`` and ``dvc.yaml`` file in the workspace; never descends into
    tracked folders, .git or .dvc. In a git work tree, as DVC: a ``dvc.yaml`` or ``.dvc`` file git
    ignores is skipped (with the ``dvc.lock`` beside such a ``dvc.yaml``), even one forced into
    git, and a folder git ignores is not entered."""
    found: list[Path] = []
    locks: list[Path] = []
    pipelines: list[Path] = []
    ignore = repo.ignore
    root = str(repo.root)
    git_root = None if repo.config.get_bool("core", "no_scm", False) else find_git_root(repo.root)
    git = git_ignore(git_root) if git_root is not None else None
    prefix = ""
    if git_root is not None:
        under = os.path.relpath(root, git_root).replace(os.sep, "/")
        prefix = "" if under == "." else under + "/"

    def git_ignored(rel: str, is_dir: bool) -> bool:
        return git is not None and git.ignored(prefix + rel, is_dir)

    def walk(folder: str, rel: str) -> None:
        try:
            entries = list(os.scandir(folder))
        except (PermissionError, FileNotFoundError, NotADirectoryError):
            return
        names = {e.name for e in entries}
        # Without git, the `/name` entries of a folder's .gitignore stand for what git would ignore.
        ignored = _gitignored_names(folder) if git is None and ".gitignore" in names else set()
        lock: Path | None = None
        pipeline_ignored = False
        for e in entries:
            sub = f"{rel}/{e.name}" if rel else e.name
            if e.name.endswith(POINTER_SUFFIX) and e.is_file():
                if not git_ignored(sub, False):
                    found.append(Path(e.path))
            elif e.name == "dvc.lock" and e.is_file():
                lock = Path(e.path)
            elif e.name == "dvc.yaml" and e.is_file():
                if git_ignored(sub, False):
                    pipeline_ignored = True
                else:
                    pipelines.append(Path(e.path))
        if lock is not None and not pipeline_ignored:
            locks.append(lock)
        for e in entries:
            if not e.is_dir(follow_symlinks=False):
                continue
            name = e.name
            if name in (DVC_DIR, ".git", ".hg") or name + POINTER_SUFFIX in names or name in ignored:
                continue  # tracked data (by a pointer, or a stage output git ignores) holds no control files
            sub = f"{rel}/{name}" if rel else name
            if ignore.is_ignored(sub, True) or git_ignored(sub, True):
                continue
            walk(e.path, sub)

    walk(root, "")
    return found, locks, pipelines


def _gitignored_names(folder: str) -> set[str]:
    """Names listed as ``/name`` or ``/name/`` in a folder's .gitignore: the entries labvault and
    DVC write, and the usual way to keep a data folder out of git. Negations (``!``) cancel them."""
    try:
        with open(os.path.join(folder, ".gitignore"), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    names: set[str] = set()
    negated = False
    for ln in lines:
        ln = ln.strip()
        if ln.startswith("!"):
            negated = True
        if not ln.startswith("/"):
            continue
        name = ln[1:-1] if ln.endswith("/") else ln[1:]
        if name and "/" not in name and not any(c in name for c in "*?[\\"):
            names.add(name)
    return set() if negated else names


def workspace_outputs(repo: Repo) -> list[Tracked]:
    tracked: list[Tracked] = []
    for f in sorted(find_pointer_files(repo)):
        pointer = load_pointer(f)
        folder = f.parent.relative_to(repo.root).as_posix()
        tracked.extend(outputs_of(pointer, "" if folder == "." else folder))
    return tracked


def outputs_at_rev(repo: Repo, rev: str) -> list[Tracked]:
    git = repo.require_scm()
    prefix = repo.root.relative_to(git.root).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    names = [n for n in git.ls_files_at(rev, (POINTER_SUFFIX,)) if n.startswith(prefix)]
    names = [n for n in names if not n[len(prefix) :].startswith(DVC_DIR + "/")]
    blobs = git.read_files_at(rev, names)
    tracked: list[Tracked] = []
    for name, data in sorted(blobs.items()):
        rel = name[len(prefix) :]
        try:
            pointer = parse_pointer(data.decode("utf-8"), f"{rel} at {rev}")
        except (PointerError, UnicodeDecodeError):
            continue  # an old broken pointer is not this command's business
        pointer = Pointer(repo.root / rel, pointer.outs, pointer.extra, pointer.keys)
        folder = posixpath.dirname(rel)
        tracked.extend(outputs_of(pointer, folder))
    return tracked


def lock_outputs(text: str) -> list[tuple[str, str, bool]]:
    """(path, oid, legacy) of every output recorded in a ``dvc.lock`` text."""
    import yaml

    try:
        data: Any = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return []
    result: list[tuple[str, str, bool]] = []
    if not isinstance(data, dict):
        return result
    stages = data.get("stages", {})
    if not isinstance(stages, dict):
        return result
    for stage in stages.values():
        if not isinstance(stage, dict):
            continue
        for out in stage.get("outs", []) or []:
            if isinstance(out, dict) and isinstance(out.get("md5"), str) and isinstance(out.get("path"), str):
                result.append((out["path"], out["md5"], "hash" not in out))
    return result


def check_no_overlap(new_rel: str, tracked: list[Tracked], own_pointer: Path | None = None) -> None:
    """An output may not sit inside another tracked output, nor contain one."""
    for t in tracked:
        if own_pointer is not None and t.pointer.file == own_pointer:
            continue
        if t.rel == new_rel:
            raise OverlapError(f"{new_rel} is already tracked by {t.pointer.file.name}", "use `labvault commit` to record changes")
        if new_rel.startswith(t.rel + "/"):
            raise OverlapError(
                f"{new_rel} is inside {t.rel}, which is already tracked",
                f"add the whole folder again with `labvault add {t.rel}`",
            )
        if t.rel.startswith(new_rel + "/"):
            raise OverlapError(
                f"{new_rel} contains {t.rel}, which is tracked on its own",
                f"stop tracking it first with `labvault remove {t.rel}.dvc`",
            )


def select(tracked: list[Tracked], repo: Repo, targets: list[str] | None) -> list[Tracked]:
    """The outputs named by ``targets`` (outputs or their pointer files); all when None."""
    if not targets:
        return tracked
    chosen: list[Tracked] = []
    for target in targets:
        rel = repo.rel(Path(target))
        hits = [t for t in tracked if t.rel == rel or t.pointer_rel == rel]
        if not hits:
            hits = [t for t in tracked if t.rel.startswith(rel + "/")]
        if not hits:
            raise PathError(f"{target} is not tracked", "track it with `labvault add` first")
        chosen.extend(h for h in hits if h not in chosen)
    return chosen
