"""Protected and raw datasets must carry a provenance card: the extra rule of ``card check``.

A dataset that is protected (its ``.dvc`` file carries the marker, or the catalog records a lab
path as protected) or raw (a tracked output with a folder named ``raw`` in its path) needs a card:
``FOLDER/README.md`` for a folder, the ``README.md`` of its folder for a single file. One problem
per dataset without one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from labvault.api.access_control import within
from labvault.api.data_targets import catalog_for, resolve_data
from labvault.catalog.protections import protection_list
from labvault.data.cards import CARD_FILE, CardProblem
from labvault.errors import LabvaultError
from labvault.tiers import load as _load
from labvault.workspace.index import workspace_outputs
from labvault.workspace.protected import is_protected
from labvault.workspace.repo import open_repo


def card_of(path: str) -> Path:
    p = Path(path)
    return p / CARD_FILE if p.is_dir() else p.parent / CARD_FILE


def _problem(path: str, why: str, shown: Callable[[Path], str]) -> CardProblem:
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    return CardProblem(shown(Path(path)), f"{why} dataset without a provenance card: write one with "
                                          f"`labvault card new {shown(Path(folder))}`")


def needing_cards(paths: list[Path]) -> list[tuple[str, str]]:
    """(absolute path, why) of the protected or raw datasets at, below or around ``paths``."""
    found: dict[str, str] = {}
    for p in paths:
        try:
            r = open_repo(p if p.is_dir() else p.parent)
        except LabvaultError:
            continue
        for t in workspace_outputs(r):
            out = str(r.abspath(t.rel))
            if not (within(out, str(p)) or within(str(p), out)):
                continue
            if is_protected(t.pointer):
                found[out] = "protected"
            elif "raw" in t.rel.split("/")[:-1] or t.rel.split("/")[-1] == "raw":
                found.setdefault(out, "raw")
    try:
        if _load.find_lab_file() is not None:
            for prot in protection_list(catalog_for(None, None)):
                if any(within(prot.path, str(p)) or within(str(p), prot.path) for p in paths):
                    found.setdefault(prot.path, "protected")
    except LabvaultError:
        pass
    return sorted(found.items())


def named_datasets(names: list[str]) -> list[str]:
    """The paths of lab datasets named ``NAME[@VERSION]`` (each copy on a folder tier)."""
    if not names:
        return []
    cat = catalog_for(None, None)
    return sorted({res.path for n in names for res in resolve_data(n, None, lambda: cat)})


def missing_cards(paths: list[Path], named: list[str], shown: Callable[[Path], str]) -> list[CardProblem]:
    """Problems for protected/raw datasets around ``paths``, and for the ``named`` lab datasets'
    paths, without a card."""
    needed = needing_cards(paths) + [(n, "lab") for n in named]
    seen: set[str] = set()
    out = []
    for path, why in needed:
        if path not in seen and not card_of(path).is_file():
            seen.add(path)
            out.append(_problem(path, why, shown))
    return out
