"""Writing a stage into a ``dvc.yaml``, as ``dvc stage add`` does, byte for byte where it can.

The stage is built in DVC's layout (keys ``desc, cmd, wdir, deps, params, outs, metrics, plots,
always_changed, meta``; deps and each kind of output sorted by path; keys of ``params.yaml`` first
as plain names, other params files after them by path) and written with ruamel's round-trip
dumper, so the comments and order of the rest of the file are kept. Replacing a stage
(``force``) changes the old entry in place: what did not change keeps its comments and
position, and the old stage's ``meta``, its ``desc`` (unless a new one is given) and its outputs'
annotations (``desc``, ``type``, ``labels``, ``meta``, ``remote``, ``push``) are kept, as DVC keeps
them.

Before anything is written, the whole repository's pipeline, with the new stage in it, is loaded
and checked as ``repro`` would check it (outputs written by two stages or tracked by a ``.dvc``
file, a stage depending on its own output, cycles, outputs leaving the repository, by name or
through a symlink); an output git already tracks is refused. A refused stage changes nothing. Then ``dvc.yaml`` is replaced
atomically, under the repository lock, and each cached output is listed in its folder's
``.gitignore`` (when the folder exists; otherwise its first run does it, as in DVC).
"""

from __future__ import annotations

import os
import posixpath
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labvault.core.yaml12 import commented
from labvault.errors import PipelineError, UsageError
from labvault.fsutil import atomic_write_text
from labvault.pipelines.dag import build_graph
from labvault.pipelines.params import DEFAULT_PARAMS
from labvault.pipelines.spec import PIPELINE_FILE, Stage, load_stages, parse_pipeline
from labvault.pipelines.yamlio import dump_for_update, load_for_update, load_yaml
from labvault.workspace.ignore import gitignore_add
from labvault.workspace.index import workspace_outputs
from labvault.workspace.repo import Repo
from labvault.workspace.safepath import guard_for

_NOT_IN_NAMES = set(string.punctuation) - {"_", "-"}
_OUT_ANNOTATIONS = ("desc", "type", "labels", "meta")


@dataclass(frozen=True)
class StageSpec:
    """What ``stage add`` was asked for; paths as the user wrote them (relative to ``wdir``)."""

    name: str
    cmd: str
    deps: tuple[str, ...] = ()
    params: tuple[str, ...] = ()  # `[FILE:]KEY,KEY`, as `-p` takes them
    outs: tuple[str, ...] = ()
    outs_no_cache: tuple[str, ...] = ()
    outs_persist: tuple[str, ...] = ()
    outs_persist_no_cache: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    metrics_no_cache: tuple[str, ...] = ()
    plots: tuple[str, ...] = ()
    plots_no_cache: tuple[str, ...] = ()
    wdir: str | None = None  # relative to the folder of the dvc.yaml
    always_changed: bool = False
    desc: str | None = None


@dataclass(frozen=True)
class AddedStage:
    """A stage written: its address, its dvc.yaml (repo-relative), whether it replaced a stage of
    the same name, and the ``.gitignore`` files changed (repo-relative)."""

    address: str
    dvcfile: str
    replaced: bool
    gitignores: tuple[str, ...]


def join_command(argv: Sequence[str]) -> str:
    """One command line from its words, as DVC joins them: a word with a space (and no double
    quote) is put in double quotes; one word is kept as it is."""
    if len(argv) == 1:
        return argv[0]
    return " ".join(f'"{w}"' if " " in w and '"' not in w else w for w in argv)


def check_name(name: str) -> None:
    if not name or any(c in _NOT_IN_NAMES for c in name):
        raise UsageError(f"bad stage name {name!r}: it may not be empty or hold punctuation other than '-' and '_'",
                         "name the stage with letters, digits, spaces, '-' and '_'")


def _def_path(repo: Repo, wdir_abs: str, path: str) -> str:
    """A path as the stage records it: as written, except an absolute path inside the repository,
    which becomes relative to the stage's working folder (as DVC records it)."""
    if os.path.isabs(path):
        real = os.path.normpath(path)
        root = str(repo.root)
        if real == root or real.startswith(root + os.sep):
            return os.path.relpath(real, wdir_abs).replace(os.sep, "/")
    return path


def _params(items: Iterable[str]) -> list[Any]:
    """``-p`` values in DVC's form: ``params.yaml`` keys first (sorted), then ``{file: keys}``
    (files by name, keys sorted; a file named without keys: ``{file: None}``, the whole file).
    A key named twice is written twice, as DVC writes it."""
    files: dict[str, list[str]] = {DEFAULT_PARAMS: []}
    for item in items:
        path, _, keys = item.rpartition(":")
        files.setdefault(path or DEFAULT_PARAMS, []).extend(k for k in keys.split(",") if k)
    default = files.pop(DEFAULT_PARAMS)
    out: list[Any] = sorted(default)
    out += [{path: sorted(files[path]) or None} for path in sorted(files)]
    return out


def _outs(spec: StageSpec, convert: Any, old: dict[str, dict[str, Any]]) -> dict[str, list[Any]]:
    """``outs``, ``metrics`` and ``plots``: each sorted by path, a path with options as
    ``{path: {options}}`` (annotations of the old stage's output of that path first, then
    ``cache: false``, ``persist: true``, ``remote``, ``push: false``, DVC's order)."""
    kinds = {
        "outs": [(p, True, False) for p in spec.outs] + [(p, False, False) for p in spec.outs_no_cache]
        + [(p, True, True) for p in spec.outs_persist] + [(p, False, True) for p in spec.outs_persist_no_cache],
        "metrics": [(p, True, False) for p in spec.metrics] + [(p, False, False) for p in spec.metrics_no_cache],
        "plots": [(p, True, False) for p in spec.plots] + [(p, False, False) for p in spec.plots_no_cache],
    }
    result: dict[str, list[Any]] = {}
    for key, items in kinds.items():
        entries = []
        for path, cache, persist in sorted(((convert(p), c, ps) for p, c, ps in items), key=lambda t: t[0]):
            before = old.get(path, {})
            flags: dict[str, Any] = {k: before[k] for k in _OUT_ANNOTATIONS if k in before}
            if not cache:
                flags["cache"] = False
            if persist:
                flags["persist"] = True
            if "remote" in before:
                flags["remote"] = before["remote"]
            if before.get("push") is False:
                flags["push"] = False
            entries.append({path: flags} if flags else path)
        if entries:
            result[key] = entries
    return result


def _old_outs(old: Any) -> dict[str, dict[str, Any]]:
    """The options of each output of an existing stage entry, by path."""
    found: dict[str, dict[str, Any]] = {}
    for key in ("outs", "metrics", "plots"):
        for item in old.get(key) or () if isinstance(old, dict) else ():
            if isinstance(item, dict) and len(item) == 1:
                (path, flags), = item.items()
                if isinstance(path, str) and isinstance(flags, dict):
                    found[path] = dict(flags)
    return found


def _entry(repo: Repo, spec: StageSpec, wdir_abs: str, wdir: str | None, old: Any) -> dict[str, Any]:
    def convert(p: str) -> str:
        return _def_path(repo, wdir_abs, p)

    keep = old if isinstance(old, dict) else {}
    desc = spec.desc if spec.desc is not None else keep.get("desc")
    fields: list[tuple[str, Any]] = [
        ("desc", desc), ("cmd", spec.cmd), ("wdir", wdir),
        ("deps", sorted({convert(d) for d in spec.deps})), ("params", _params(spec.params)),
        *_outs(spec, convert, _old_outs(keep)).items(),
        ("always_changed", spec.always_changed), ("meta", keep.get("meta")),
    ]
    return {k: v for k, v in fields if v}


def _merge(new: Any, old: Any) -> Any:
    """``new`` written into ``old`` in place where both are mappings or lists of one length (so
    ruamel keeps the comments and order of what did not change); ``new`` itself otherwise."""
    if isinstance(new, dict) and isinstance(old, dict):
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            old[key] = _merge(value, old[key]) if key in old else value
        return old
    if isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        for i, value in enumerate(new):
            old[i] = _merge(value, old[i])
        return old
    return new if new != old else old


def add_stage(repo: Repo, spec: StageSpec, cwd: Path, force: bool = False) -> AddedStage:
    """Write ``spec`` into ``cwd/dvc.yaml`` (made if missing). Raises, changing nothing, when the
    name or command is bad, the stage exists (without ``force``), or the pipeline with it would
    not load."""
    check_name(spec.name)
    if not spec.cmd.strip():
        raise UsageError("no command given for the stage", "put the command after the options")
    cwd = Path(os.path.abspath(cwd))
    if cwd != repo.root and repo.root not in cwd.parents:
        raise UsageError(f"{cwd} is outside the repository {repo.root}", "run it inside the repository")
    path = cwd / PIPELINE_FILE
    guard_for(repo).check_target(str(path), PIPELINE_FILE)
    rel = path.relative_to(repo.root).as_posix()
    wdir_abs = os.path.normpath(os.path.join(cwd, spec.wdir or "."))
    wdir = os.path.relpath(wdir_abs, cwd).replace(os.sep, "/")
    _check_repeats(spec, wdir_abs)
    with repo.locked():
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        doc = load_for_update(text, rel) if text.strip() else None
        if doc is None:
            doc = commented({})
        if not isinstance(doc, dict):
            raise PipelineError(f"{rel}: expected a mapping with `stages`", "fix the file, or move it away")
        if doc.get("stages") is None:
            doc["stages"] = commented({})
        stages = doc["stages"]
        if not isinstance(stages, dict):
            raise PipelineError(f"{rel}: `stages` must be a mapping of stage names", "fix the file")
        replaced = spec.name in stages
        if replaced and not force:
            raise PipelineError(f"stage {spec.name!r} already exists in {rel}",
                                "use --force to replace it, or choose another name")
        entry = _entry(repo, spec, wdir_abs, None if wdir == "." else wdir, stages.get(spec.name))
        stages[spec.name] = _merge(commented(entry), stages[spec.name]) if replaced else commented(entry)
        new_text = dump_for_update(doc)
        stage = _check(repo, path, rel, new_text, spec.name)
        atomic_write_text(path, new_text)
        changed = _ignore_outputs(repo, stage, spec, lambda p: _def_path(repo, wdir_abs, p))
    return AddedStage(stage.address, rel, replaced, tuple(changed))


def _check_repeats(spec: StageSpec, wdir_abs: str) -> None:
    outs = (*spec.outs, *spec.outs_no_cache, *spec.outs_persist, *spec.outs_persist_no_cache, *spec.metrics,
            *spec.metrics_no_cache, *spec.plots, *spec.plots_no_cache)
    for group in (spec.deps, outs):
        seen: set[str] = set()
        for p in group:
            key = os.path.normpath(os.path.join(wdir_abs, p))
            if key in seen:
                raise UsageError(f"{p!r} is named more than once", "name each dependency and output once")
            seen.add(key)


def _check(repo: Repo, path: Path, rel: str, text: str, name: str) -> Stage:
    """The new stage, once the repository's whole pipeline with ``text`` as ``rel`` loads."""
    mine = parse_pipeline(repo, path, load_yaml(text, rel))
    others = [s for s in load_stages(repo) if s.dvcfile != rel]
    build_graph(others + mine, [(t.rel, t.pointer_rel) for t in workspace_outputs(repo)])
    stage = next(s for s in mine if s.name == name)
    guard = guard_for(repo)  # repro would refuse an output behind a symlink out of the repository
    for o in stage.outs:
        guard.check_output(o.rel, False)
    cached = [o.rel for o in stage.outs if o.cache]
    held = repo.scm.tracked(cached) if repo.scm is not None and cached else []
    if held:
        raise PipelineError(f"output {held[0]!r} of stage {name!r} is tracked by git",
                            f"stop tracking it in git first: git rm -r --cached {held[0]!r}")
    return stage


def _ignore_outputs(repo: Repo, stage: Stage, spec: StageSpec, convert: Any) -> list[str]:
    """List each cached output in its folder's .gitignore, in the order DVC does (persistent
    outputs, metrics, plots, then the others, each kind in the order given). An output whose
    folder does not exist yet is left for its first run (DVC stops at the first such output;
    here the others are still listed)."""
    if repo.scm is None:
        return []
    given = [*spec.outs_persist, *spec.metrics, *spec.plots, *spec.outs]
    order = {convert(p): i for i, p in reversed(list(enumerate(given)))}
    changed = []
    for o in sorted((o for o in stage.outs if o.cache), key=lambda o: order.get(o.path, len(order))):
        out_abs = repo.abspath(o.rel)
        if out_abs.parent.is_dir() and gitignore_add(out_abs.parent, out_abs.name):
            changed.append(posixpath.join(posixpath.dirname(o.rel), ".gitignore"))
    return changed
