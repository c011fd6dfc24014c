"""Freezing stages and ``.dvc`` files (``frozen: true``), as ``dvc freeze`` / ``dvc unfreeze``.

A frozen stage does not run and its dependencies are not looked at; its outputs still are
(``pipelines.status``). Freezing writes ``frozen: true`` at the end of the stage's entry (or of
the ``.dvc`` file), unfreezing removes the key; a ``dvc.yaml`` is changed by ruamel's round trip,
so comments and order stay. Every target is resolved before any file changes: an unknown target,
or an item of a ``foreach``/``matrix`` stage (its entry is a template, as in DVC), changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from labvault.errors import PipelineError, UnknownStageError
from labvault.fsutil import atomic_write_text
from labvault.pipelines.spec import PIPELINE_FILE
from labvault.pipelines.yamlio import dump_for_update, load_for_update
from labvault.workspace.pointer import POINTER_SUFFIX, Pointer, load_pointer, write_pointer
from labvault.workspace.repo import Repo


@dataclass(frozen=True)
class FreezeChange:
    """One target: its file (repo-relative), its stage name (None for a ``.dvc`` file), and
    whether the file changed (False: it already was as asked)."""

    target: str
    file: str
    stage: str | None
    changed: bool


def _resolve(repo: Repo, cwd: Path, target: str) -> tuple[Path, str | None]:
    if target.endswith(POINTER_SUFFIX):
        path = cwd / target
        if not path.is_file():
            raise UnknownStageError(f"{target} does not exist", "name a .dvc file or a stage")
        return path, None
    file, _, name = target.rpartition(":")
    path = cwd / file if file else cwd / PIPELINE_FILE
    if not name or not path.is_file():
        shown = path.relative_to(repo.root) if path.is_relative_to(repo.root) else path
        raise UnknownStageError(f"no stage {target!r}: {shown} does not exist",
                                "name a stage of the dvc.yaml here, FILE:NAME, or a .dvc file")
    return path, name


def set_frozen(repo: Repo, targets: list[str], frozen: bool, cwd: Path) -> list[FreezeChange]:
    """Freeze (or unfreeze) each target: a stage name of ``cwd``'s dvc.yaml, ``FILE:NAME``, or a
    ``.dvc`` file (paths relative to ``cwd``)."""
    if not targets:
        raise PipelineError("name the stages or .dvc files", "for example: labvault freeze train")
    resolved = [(t, *_resolve(repo, cwd, t)) for t in targets]
    for _, path, _ in resolved:
        if path.resolve() != repo.root and repo.root not in path.resolve().parents:
            raise PipelineError(f"{path} is outside the repository {repo.root}")
    out: list[FreezeChange] = []
    with repo.locked():
        docs: dict[Path, Any] = {}
        pointers: dict[Path, Pointer] = {}
        for _, path, name in resolved:  # everything checked before anything is written
            rel = path.relative_to(repo.root).as_posix()
            if name is None:
                pointers[path] = load_pointer(path)
                continue
            if path not in docs:
                docs[path] = load_for_update(path.read_text(encoding="utf-8"), rel)
            stages = docs[path].get("stages") if isinstance(docs[path], dict) else None
            base = name.split("@", 1)[0]
            entry = stages.get(name) if isinstance(stages, dict) else None
            if entry is None and isinstance(stages, dict) and isinstance(stages.get(base), dict) \
                    and ("foreach" in stages[base] or "matrix" in stages[base]):
                raise PipelineError(f"cannot freeze {name!r} alone: it is an item of the templated stage {base!r}",
                                    f"add `frozen: true` to the `do:` of {base!r} in {rel} to freeze every item")
            if not isinstance(entry, dict):
                raise UnknownStageError(f"no stage {name!r} in {rel}", "name a stage, FILE:NAME, or a .dvc file")
        for target, path, name in resolved:
            rel = path.relative_to(repo.root).as_posix()
            if name is None:
                p = pointers[path]
                changed = bool(p.extra.get("frozen")) != frozen or ("frozen" in p.extra and not frozen)
                extra = {k: v for k, v in p.extra.items() if k != "frozen"}
                if frozen:
                    extra["frozen"] = True
                if changed:
                    pointers[path] = replace(p, extra=extra)
                out.append(FreezeChange(target, rel, None, changed))
                continue
            entry = docs[path]["stages"][name]
            changed = entry.get("frozen") is not True if frozen else "frozen" in entry
            if changed and frozen:
                entry["frozen"] = True
            elif changed:
                del entry["frozen"]
            out.append(FreezeChange(target, rel, name, changed))
        touched = {Path(repo.root, c.file) for c in out if c.changed}
        for path, doc in docs.items():
            if path in touched:
                atomic_write_text(path, dump_for_update(doc))
        for path, p in pointers.items():
            if path in touched:
                write_pointer(p)
    return out
