"""The name, kind and version an output gets in the catalog, from what the repository says.

First what is declared, field by field, the first that says it wins:

1. ``dvc.yaml``'s ``artifacts:`` entry for the path: its name, ``type``, ``desc``, ``labels``, ``meta``;
2. the output's own annotations: in its ``.dvc`` file (``desc``, ``type``, ``labels``, ``meta`` of the
   entry under ``outs``) or in the stage's ``outs`` options;
3. the ``.dvc`` file's top-level ``meta`` and ``desc``.

``type: model`` or ``type: dataset`` sets the kind; ``meta`` may give ``name``, ``version`` and
``split`` (and ``type``). Then, when nothing declared a name, a dataset whose file name follows the
lab's dataset convention (``labvault-names.yaml`` respected) is named after it:
``data/raw/sentiment_imdb_v1.0_train.csv`` is ``sentiment_imdb``, version ``v1.0``, split ``train``.
Anything else keeps its path as its name, and the next version number.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from labvault.catalog.events import MAX_NAME, MAX_VERSION, Artifact
from labvault.errors import LabvaultError
from labvault.workspace.repo import Repo

KIND_WORDS = {"model": "model", "dataset": "dataset", "data": "dataset"}
Item = tuple[str, str, Any, Any]  # (repo-relative path, content hash, size, nfiles)


@dataclass(frozen=True)
class _Said:
    name: str | None = None
    kind: str | None = None
    version: str | None = None
    split: str | None = None
    desc: str | None = None
    labels: tuple[str, ...] = ()
    meta: Mapping[str, Any] | None = None


def _word(value: Any, limit: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = str(value).strip()
    return text if text and len(text) <= limit and "@" not in text else None


def _said(d: Mapping[str, Any] | None, name: str | None = None) -> _Said:
    """What DVC's annotation keys (``desc``, ``type``, ``labels``, ``meta``) in ``d`` declare."""
    if not d:
        return _Said(name=name)
    raw_meta = d.get("meta")
    meta: Mapping[str, Any] = raw_meta if isinstance(raw_meta, Mapping) else {}
    kind = d.get("type") if isinstance(d.get("type"), str) else meta.get("type")
    labels = d.get("labels")
    desc = d.get("desc")
    return _Said(
        name=name or _word(meta.get("name"), MAX_NAME), kind=KIND_WORDS.get(kind) if isinstance(kind, str) else None,
        version=_word(meta.get("version"), MAX_VERSION), split=_word(meta.get("split"), 32),
        desc=desc if isinstance(desc, str) and desc.strip() else None,
        labels=tuple(t for t in labels if isinstance(t, str) and t.strip() and len(t) <= 256)
        if isinstance(labels, list) else (),
        meta=meta or None,
    )


def _merge(said: list[_Said]) -> _Said:
    def first(field: str) -> Any:
        return next((getattr(s, field) for s in said if getattr(s, field) is not None), None)

    meta: dict[str, Any] = {}
    for s in reversed(said):
        meta.update(s.meta or {})
    labels = tuple(dict.fromkeys(t for s in said for t in s.labels))
    return _Said(first("name"), first("kind"), first("version"), first("split"), first("desc"), labels, meta or None)


def _pointer_said(r: Repo, pointer_rel: str, rel: str) -> list[_Said]:
    from labvault.workspace.pointer import load_pointer

    try:
        pointer = load_pointer(r.abspath(pointer_rel))
    except (LabvaultError, OSError):
        return []
    folder = posixpath.dirname(pointer_rel)
    own = next((o for o in pointer.outs if posixpath.normpath(posixpath.join(folder, o.path)) == rel), None)
    return [_said(own.extra if own is not None else None), _said(pointer.extra)]


def _conventions(r: Repo) -> Any:
    from labvault.data.naming import load_conventions

    try:
        return load_conventions(r.root)
    except LabvaultError as exc:
        r.progress.message(f"warning: naming conventions not used for the catalog: {exc.line()}")
        return None


def output_artifacts(
    r: Repo,
    items: list[Item],
    *,
    pointers: Mapping[str, str] | None = None,
    stage_flags: Mapping[str, Mapping[str, Any]] | None = None,
    guess_kind: Callable[[str], str] | None = None,
) -> list[Artifact]:
    """One ``Artifact`` per item, named as the module docstring says."""
    from labvault.pipelines.artifacts import declared_artifacts

    declared = declared_artifacts(r, [rel for rel, *_ in items])
    conventions: Any = None
    loaded = False
    out: list[Artifact] = []
    for rel, oid, size, nfiles in items:
        said: list[_Said] = []
        if rel in declared:
            d = declared[rel]
            said.append(_said({"type": d.type, "desc": d.desc, "labels": list(d.labels), "meta": d.meta},
                              name=_word(d.name, MAX_NAME)))
        if stage_flags and rel in stage_flags:
            said.append(_said(stage_flags[rel]))
        if pointers and rel in pointers:
            said += _pointer_said(r, pointers[rel], rel)
        s = _merge(said)
        kind = s.kind or (guess_kind(rel) if guess_kind else "dataset")
        name, version, split = s.name, s.version, s.split
        if name is None and kind == "dataset":
            if not loaded:
                conventions, loaded = _conventions(r), True
            if conventions is not None:
                from labvault.data.name_parts import parse_dataset_name

                parts = parse_dataset_name(posixpath.basename(rel), conventions)
                if parts is not None:
                    name = parts.name
                    version = version or _word(parts.version, MAX_VERSION)
                    split = split or parts.split
        out.append(Artifact(
            path=rel, content_hash=oid, kind=kind, name=name, version=version, split=split, description=s.desc,
            tags=s.labels, meta=dict(s.meta) if s.meta else None,
            size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
            nfiles=nfiles if isinstance(nfiles, int) and not isinstance(nfiles, bool) and nfiles >= 0 else None,
        ))
    return out
