"""Provenance cards: a dataset folder's ``README.md`` that opens with YAML front matter.

::

    ---
    name: Customer Reviews Dataset
    version: '1.0'
    source: https://example.com/dataset
    downloaded: '2024-11-13'
    license: CC BY 4.0
    description: |
      Customer reviews from an e-commerce platform
    preprocessing:
    - Removed duplicates
    files: 3
    size: 52814
    ---
    # Customer Reviews Dataset
    Free text follows.

The front matter lies between the first line ``---`` and the next line ``---`` (or ``...``).
Every value is read as text (``1.0`` stays ``'1.0'``, a date stays a string), so no YAML type
guessing can change a version or a date. Required: ``name``, ``version`` (numbers with dots,
optionally after ``v``), ``source``, ``downloaded`` (a past date, YYYY-MM-DD), ``license``,
``description`` (all non-empty, no TODO placeholders) and ``preprocessing`` (a list of steps,
``[]`` for none). Other keys (``files`` and ``size`` in bytes, written by :func:`new_card`) are kept
in :attr:`Card.extra`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from labvault.data.newfile import write_new_text
from labvault.errors import PathError, UsageError
from labvault.fsutil import atomic_write_text

CARD_FILE = "README.md"
TEXT_FIELDS = ("name", "version", "source", "downloaded", "license", "description")
FIELDS = (*TEXT_FIELDS, "preprocessing")
_PLACEHOLDERS = re.compile(r"(?i)(?:todo|tbd|fixme|xxx)\b.*|\?+|<[^>]*>", re.DOTALL)
_VERSION = re.compile(r"v?\d+(?:\.\d+)*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Card:
    """A provenance card as read from disk; missing text fields are empty strings."""

    path: str
    name: str = ""
    version: str = ""
    source: str = ""
    downloaded: str = ""
    license: str = ""
    description: str = ""
    preprocessing: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def as_dict(self) -> dict[str, Any]:
        """The card as plain JSON-ready values (``preprocessing`` a list, ``extra`` a dict)."""
        out: dict[str, Any] = {"path": self.path}
        for key in TEXT_FIELDS:
            out[key] = getattr(self, key)
        out["preprocessing"] = list(self.preprocessing)
        out["extra"] = dict(self.extra)
        return out


@dataclass(frozen=True)
class CardProblem:
    path: str
    problem: str

    def line(self) -> str:
        return f"{self.path}: {self.problem}"


@dataclass(frozen=True)
class CardReport:
    """The cards looked at and what is wrong with them."""

    checked: tuple[str, ...]
    problems: tuple[CardProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class CardWritten:
    """A card written by :func:`new_card`; ``to_fill`` lists the fields still empty."""

    path: str
    card: Card
    replaced: bool
    tracked_folder: bool
    to_fill: tuple[str, ...]


def card_file(path: Path) -> Path:
    """The card of a dataset folder, or ``path`` itself when it names a file."""
    return path / CARD_FILE if path.is_dir() else path


def _split_front_matter(text: str) -> tuple[str, str] | None:
    """(front matter, body), or None when ``text`` does not open with a ``---`` line."""
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        return None
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return "".join(lines[1:i]), "".join(lines[i + 1:])
    raise UsageError("the front matter has no closing '---' line", "end the YAML block with a line '---'")


def _front_matter(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PathError(f"{path} does not exist", "write a card with `labvault card new FOLDER`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PathError(f"cannot read {path}: {exc}") from None
    parts = _split_front_matter(text)
    if parts is None:
        raise UsageError("no YAML front matter", "a card opens with a line '---', the fields, and a line '---'")
    try:
        # BaseLoader builds only str, list and dict: no type guessing, no objects.
        data = yaml.load(parts[0], Loader=yaml.BaseLoader)
    except yaml.YAMLError as exc:
        raise UsageError(f"the front matter is not valid YAML: {' '.join(str(exc).split())}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError("the front matter is not a mapping", "write one `key: value` line per field")
    return data


def read_card(path: str | os.PathLike[str]) -> Card:
    """The card of a dataset folder (or a card file). Raises PathError when it is missing,
    UsageError when its front matter is not readable; missing fields come back empty."""
    file = card_file(Path(path))
    try:
        data = _front_matter(file)
    except UsageError as exc:
        raise UsageError(f"{file}: {exc.message}", exc.hint) from None
    values = {k: _text(data.get(k)) for k in TEXT_FIELDS}
    steps = data.get("preprocessing")
    if isinstance(steps, list):
        preprocessing = tuple(_text(s) for s in steps)
    else:
        preprocessing = (_text(steps),) if steps else ()
    extra = {k: v for k, v in data.items() if k not in FIELDS}
    return Card(str(file), preprocessing=preprocessing, extra=extra, **values)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def problems_of(data: Mapping[str, Any], today: dt.date) -> list[str]:
    """What is wrong with a card's front matter, one sentence each."""
    problems: list[str] = []
    for key in TEXT_FIELDS:
        value = data.get(key)
        if key not in data:
            problems.append(f"{key} is missing")
        elif not isinstance(value, str):
            problems.append(f"{key} should be text, not a {'list' if isinstance(value, list) else 'mapping'}")
        elif not value.strip():
            problems.append(f"{key} is empty")
        elif _PLACEHOLDERS.fullmatch(value.strip()):
            problems.append(f"{key} is a placeholder ({value.strip()!r}): fill it in")
    version = data.get("version")
    if isinstance(version, str) and version.strip() and not _VERSION.fullmatch(version.strip()):
        problems.append(f"version {version.strip()!r} should be numbers like 1.0 or v2")
    when = data.get("downloaded")
    if isinstance(when, str) and when.strip():
        problems += _date_problems(when.strip(), today)
    steps = data.get("preprocessing")
    if "preprocessing" not in data:
        problems.append("preprocessing is missing (a list of steps; [] when there were none)")
    elif not isinstance(steps, list):
        problems.append("preprocessing should be a list of steps (one '- step' line each; [] for none)")
    else:
        for i, step in enumerate(steps, 1):
            if not isinstance(step, str) or not step.strip():
                problems.append(f"preprocessing step {i} should be a non-empty sentence")
    return problems


def _date_problems(text: str, today: dt.date) -> list[str]:
    if not _DATE.fullmatch(text):
        return [f"downloaded {text!r} is not a date written YYYY-MM-DD"]
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return [f"downloaded {text!r} is not a real date"]
    if day > today:
        return [f"downloaded {text} is in the future"]
    return []


def _cards_below(folder: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if CARD_FILE in filenames:
            path = Path(dirpath) / CARD_FILE
            try:
                with open(path, "rb") as f:
                    if f.readline().lstrip(b"\xef\xbb\xbf").rstrip() == b"---":
                        yield path
            except OSError:
                continue


def check_cards(paths: list[Path], shown: Any, today: dt.date | None = None) -> CardReport:
    """Check the cards ``paths`` name: card files, or every card in and below folders (a folder
    holding none is a problem). ``shown(path)`` turns a path into the text printed for it."""
    today = today or dt.date.today()
    checked: list[str] = []
    problems: list[CardProblem] = []
    for p in paths:
        if not p.exists():
            raise PathError(f"{p} does not exist", "check the path")
        files = list(_cards_below(p)) if p.is_dir() else [p]
        if not files:
            problems.append(CardProblem(shown(p), f"no provenance card: write one with `labvault card new {shown(p)}`"))
        for file in files:
            name = shown(file)
            if name in checked:
                continue
            checked.append(name)
            try:
                data = _front_matter(file)
            except UsageError as exc:
                problems.append(CardProblem(name, exc.line()))
                continue
            problems += [CardProblem(name, text) for text in problems_of(data, today)]
    return CardReport(tuple(checked), tuple(problems))


class _Dumper(yaml.SafeDumper):
    pass


def _str_block(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_block)


def render(fields: Mapping[str, Any], body: str) -> str:
    """A card's text: front matter (keys in the given order) then the markdown ``body``."""
    matter = yaml.dump(dict(fields), Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return f"---\n{matter}---\n{body}"


def _content(folder: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if dirpath == str(folder) and name == CARD_FILE:
                continue
            try:
                size += os.stat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue
            files += 1
    return files, size


def new_card(
    folder: Path,
    name: str | None = None,
    source: str | None = None,
    license: str | None = None,
    description: str | None = None,
    force: bool = False,
    today: dt.date | None = None,
) -> CardWritten:
    """Write ``folder/README.md``, pre-filled: name (the folder's unless given), version 1.0,
    downloaded today, the file count and total size; refuses to replace a card unless ``force``."""
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise PathError(f"{folder} {what}", "a card describes a dataset folder: name the folder")
    file = folder / CARD_FILE
    existed = file.exists()
    if existed and not force:
        raise PathError(f"{file} already exists", "edit it, or pass --force to replace it")
    files, size = _content(folder)
    day = (today or dt.date.today()).isoformat()
    title = name or folder.name
    fields: dict[str, Any] = {
        "name": title,
        "version": "1.0",
        "source": source or "",
        "downloaded": day,
        "license": license or "",
        "description": (description or "").strip(),
        "preprocessing": [],
        "files": files,
        "size": size,
    }
    body = f"# {title}\n\nWhat the data is, how it was collected, what each file holds, known issues.\n"
    text = render(fields, body)
    if force:
        atomic_write_text(file, text)
    elif not write_new_text(file, text):
        raise PathError(f"{file} already exists", "edit it, or pass --force to replace it")
    card = read_card(file)
    to_fill = tuple(k for k in ("source", "license", "description") if not getattr(card, k))
    tracked = folder.with_name(folder.name + ".dvc").is_file()
    return CardWritten(str(file), card, existed, tracked, to_fill)
