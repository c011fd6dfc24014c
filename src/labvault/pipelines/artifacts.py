"""The ``artifacts:`` section of ``dvc.yaml``: names, types and descriptions declared for outputs.

DVC's format::

    artifacts:
      sentiment-clf:              # the artifact's name
        path: models/clf.pkl      # relative to the folder of this dvc.yaml
        type: model               # model, dataset, or anything else
        desc: Sentiment classifier
        labels: [nlp, production]
        meta: {version: v2}       # free form

Only the ``dvc.yaml`` files in an output's own folder and the folders above it are read (a few
stats, no walk of the workspace), so that capturing an ``add`` stays cheap; DVC itself reads
every ``dvc.yaml`` of the repository. A file that cannot be read or parsed declares nothing here:
the commands that run pipelines report it.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from labvault.errors import LabvaultError
from labvault.pipelines.yamlio import read_yaml
from labvault.workspace.repo import Repo

PIPELINE_FILE = "dvc.yaml"


@dataclass(frozen=True)
class Declared:
    """One artifact declared for a path (the raw ``type``, ``desc``, ``labels`` and ``meta``)."""

    name: str
    dvcfile: str
    type: str | None = None
    desc: str | None = None
    labels: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)


def _folders(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return [""] + ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _read(repo: Repo, folder: str) -> dict[str, Declared]:
    """Artifacts of ``folder/dvc.yaml`` by repo-relative path."""
    dvcfile = posixpath.join(folder, PIPELINE_FILE)
    path = repo.abspath(dvcfile)
    if not path.is_file():
        return {}
    try:
        data = read_yaml(path, repo.state)
    except (LabvaultError, OSError, ValueError):
        return {}
    section = data.get("artifacts") if isinstance(data, dict) else None
    if not isinstance(section, dict):
        return {}
    found: dict[str, Declared] = {}
    for name, entry in section.items():
        if not isinstance(name, str) or not name or not isinstance(entry, dict):
            continue
        where = entry.get("path")
        if not isinstance(where, str) or not where or "://" in where:
            continue
        rel = posixpath.normpath(posixpath.join(folder, where))
        labels = entry.get("labels")
        meta = entry.get("meta")
        found[rel] = Declared(
            name=name, dvcfile=dvcfile,
            type=entry["type"] if isinstance(entry.get("type"), str) else None,
            desc=entry["desc"] if isinstance(entry.get("desc"), str) else None,
            labels=tuple(t for t in labels if isinstance(t, str)) if isinstance(labels, list) else (),
            meta=dict(meta) if isinstance(meta, dict) else {},
        )
    return found


def declared_artifacts(repo: Repo, rels: list[str]) -> dict[str, Declared]:
    """The artifact declared for each of ``rels`` (repo-relative paths) that has one. Where two
    ``dvc.yaml`` files declare the same path, the one nearest to it wins."""
    cache: dict[str, dict[str, Declared]] = {}
    out: dict[str, Declared] = {}
    for rel in rels:
        for folder in reversed(_folders(rel)):
            if folder not in cache:
                cache[folder] = _read(repo, folder)
            hit = cache[folder].get(rel)
            if hit is not None:
                out[rel] = hit
                break
    return out
