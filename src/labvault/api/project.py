"""The lab's project conventions: naming, the project layout, provenance cards::

    from labvault import api

    api.scaffold("/data/project")                      # the lab guide's folders, nothing overwritten
    report = api.names_check(["."], repo="/data/project")
    for v in report.violations:
        print(v.line())
    api.names_new("dataset", name="imagenet", version="2", split="train", fmt="tar").name
    api.card_new("data/raw/reviews", source="https://example.com/reviews", license="CC BY 4.0")
    card = api.read_card("data/raw/reviews")            # a frozen Card; card.as_dict() for JSON

Naming works in any folder: inside a repository the rules and ``labvault-names.yaml`` are taken
relative to its root (the folder holding ``.dvc/``), elsewhere relative to the current folder.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from labvault.data import cards as _cards
from labvault.data import name_generate as _generate
from labvault.data import name_scan as _scan
from labvault.data import naming as _naming
from labvault.data import scaffold as _scaffold
from labvault.errors import NotARepoError
from labvault.workspace.repo import find_root

PathLike = str | os.PathLike[str]
Card = _cards.Card
CardReport = _cards.CardReport
CardWritten = _cards.CardWritten
GeneratedName = _naming.Generated
NamesReport = _scan.NamesReport
NameViolation = _naming.Violation
ScaffoldResult = _scaffold.ScaffoldResult


def _base(repo: PathLike | None) -> Path:
    return Path(os.path.abspath(repo)) if repo is not None else Path.cwd()


def _project_root(base: Path) -> Path:
    try:
        return find_root(base)
    except NotARepoError:
        return Path(os.path.realpath(base))


def _absolute(base: Path, path: PathLike) -> Path:
    """``path`` made absolute against ``base``, its folders resolved but not its last part (a
    symlink keeps its own name)."""
    p = Path(os.path.abspath(base / path))
    return Path(os.path.realpath(p.parent)) / p.name if p.name else Path(os.path.realpath(p))


def names_check(paths: list[str] | None = None, kind: str = "auto", repo: PathLike | None = None) -> NamesReport:
    """Check the names of datasets, models and experiments at and below ``paths`` (the project
    root when empty). ``kind`` is ``auto`` (by location: data/, models/, experiments/, outputs/;
    see :mod:`labvault.data.name_scan`) or ``dataset``, ``model``, ``experiment``."""
    base = _base(repo)
    root = _project_root(base)
    conventions = _naming.load_conventions(root)
    targets = [_absolute(base, p) for p in paths] if paths else [root]
    return _scan.check_paths(root, targets, kind, conventions)


def names_new(
    kind: str,
    name: str | None = None,
    version: str | None = None,
    split: str | None = None,
    fmt: str | None = None,
    architecture: str | None = None,
    dataset: str | None = None,
    date: str | None = None,
    run: int | None = None,
    repo: PathLike | None = None,
) -> GeneratedName:
    """A conforming name of ``kind`` (dataset: name, version, split, fmt; model: architecture,
    dataset, date, version, fmt; experiment: name, date, run). ``date`` defaults to today."""
    conventions = _naming.load_conventions(_project_root(_base(repo)))
    return _generate.generate(kind, conventions, name=name, version=version, split=split, fmt=fmt,
                            architecture=architecture, dataset=dataset, date=date, run=run)


def scaffold(path: PathLike = ".", template: str = "ai-lab") -> ScaffoldResult:
    """Lay out ``template``'s folders and starter files in ``path``; existing ones are kept."""
    return _scaffold.scaffold(Path(os.path.abspath(path)), template)


def card_new(
    path: PathLike,
    name: str | None = None,
    source: str | None = None,
    license: str | None = None,
    description: str | None = None,
    force: bool = False,
    repo: PathLike | None = None,
) -> CardWritten:
    """Write the provenance card ``path/README.md`` of a dataset folder, pre-filled."""
    written = _cards.new_card(_absolute(_base(repo), path), name=name, source=source, license=license,
                              description=description, force=force)
    _index_cards([_absolute(_base(repo), path)], repo)
    return written


def card_check(paths: list[str], repo: PathLike | None = None, today: dt.date | None = None) -> CardReport:
    """Check the cards in and below ``paths`` (card files or folders; a lab dataset by
    ``NAME[@VERSION]``). A protected or raw dataset there without a card is a problem too
    (``labvault.api.card_protected``)."""
    from labvault.api.card_protected import card_of, missing_cards, named_datasets

    base = _base(repo)
    names = [p for p in paths if not os.path.lexists(base / p) and "/" not in p]
    paths = [p for p in paths if p not in names]

    def shown(p: Path) -> str:
        try:
            return p.relative_to(base).as_posix()
        except ValueError:
            return str(p)

    absolute = [_absolute(base, p) for p in paths]
    named = named_datasets(names)
    extra = missing_cards(absolute, named, shown)
    cards = [card_of(n) for n in named if card_of(n).is_file()]
    report = _cards.check_cards([*absolute, *cards], shown, today)
    known = {p.path for p in report.problems}
    _index_cards(absolute, repo)
    return _cards.CardReport(report.checked, report.problems + tuple(p for p in extra if p.path not in known))


def _index_cards(paths: list[Path], repo: PathLike | None) -> None:
    """Cards inside a repo go to the catalog (through the capture journal), keyed by the dataset
    folder's repo-relative path, the name `add` records the dataset under."""
    from labvault.api.capture import note
    from labvault.errors import LabvaultError
    from labvault.workspace.repo import open_repo

    try:
        r = open_repo(Path(repo) if repo is not None else None)
    except LabvaultError:
        return
    for p in paths:
        folder = p.parent if p.name.lower() == "readme.md" else p
        try:
            card = _cards.read_card(folder)
            rel = folder.resolve().relative_to(r.root).as_posix()
        except (LabvaultError, ValueError, OSError):
            continue
        note(r, {"type": "card", "name": rel, "card": card.as_dict(), "description": card.description})


def read_card(path: PathLike, repo: PathLike | None = None) -> Card:
    """The provenance card of a dataset folder (or a card file)."""
    return _cards.read_card(_absolute(_base(repo), path))
