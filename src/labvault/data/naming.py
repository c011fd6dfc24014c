"""The lab's naming conventions: check names, explain what is wrong, suggest a name, generate one.

Default conventions (the lab guide's), every part lowercase letters, digits and ``_``::

    dataset     name_version_split.format           imagenet_v2_train.tar, coco_2017_val.zip,
                                                    custom_dataset_v1.0_test.csv
    model       architecture_dataset_YYYYMMDD_version.ext
                                                    resnet50_imagenet_20241113_v1.pth,
                                                    llama3_finetuned_20241113_checkpoint-1000.bin
    experiment  name_YYYYMMDD_runNNN  (a folder)     sentiment_analysis_20241113_run001/

A dataset version is ``v`` and numbers (``v2``, ``v1.0``) or a year (``2017``); its split is
``train``, ``val`` or ``test``; its format any lowercase extension (``tar.gz`` too). A model
version is ``vN``, ``final``, ``best``, ``latest`` or ``checkpoint-N``/``epoch-N``/``step-N``.
Dates must be real calendar dates. A run id is ``run`` and at least three digits.

A project may replace any of the three patterns with a file at its root, ``labvault-names.yaml``
(or ``.yml``, or ``labvault-names.toml``), holding one regular expression per kind::

    dataset: '[a-z0-9_]+_v\\d+_(train|val|test)\\.[a-z0-9.]+'
    experiment: '[a-z0-9_]+_\\d{8}_run\\d{3}'

A pattern must match the whole name; a group named ``date`` must hold a real YYYYMMDD date.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labvault.errors import ConfigError

KINDS = ("dataset", "model", "experiment")
SPLITS = ("train", "val", "test")
SPLIT_ALIASES = {"training": "train", "validation": "val", "valid": "val", "dev": "val", "testing": "test"}
CONFIG_FILES = ("labvault-names.yaml", "labvault-names.yml", "labvault-names.toml")

_WORDS = r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*"
_EXT = r"[a-z0-9]+(?:\.[a-z0-9]+)*"
_DATASET_VERSION = r"v\d+(?:\.\d+)*|\d{4}"
_MODEL_VERSION = r"v\d+(?:\.\d+)*|final|best|latest|(?:checkpoint|epoch|step)-\d+"
DEFAULT_PATTERNS = {
    "dataset": rf"(?P<name>{_WORDS})_(?P<version>{_DATASET_VERSION})_(?P<split>train|val|test)\.(?P<format>{_EXT})",
    "model": (
        r"(?P<architecture_dataset>[a-z][a-z0-9]*(?:_[a-z0-9]+)+)_(?P<date>\d{8})"
        rf"_(?P<version>{_MODEL_VERSION})\.(?P<format>{_EXT})"
    ),
    "experiment": rf"(?P<name>{_WORDS})_(?P<date>\d{{8}})_(?P<run>run\d{{3,}})",
}
SHAPES = {
    "dataset": "name_version_split.format",
    "model": "architecture_dataset_YYYYMMDD_version.ext",
    "experiment": "name_YYYYMMDD_runNNN",
}


@dataclass(frozen=True)
class Conventions:
    """The pattern of each kind; ``source`` names the file that replaced some of them."""

    patterns: Mapping[str, re.Pattern[str]]
    custom: frozenset[str] = frozenset()
    source: str | None = None

    def matches(self, kind: str, name: str) -> bool:
        m = self.patterns[kind].fullmatch(name)
        if m is None:
            return False
        date = m.groupdict().get("date")
        return date is None or is_date(date)


@dataclass(frozen=True)
class Violation:
    """A name that breaks its convention: what is wrong, and a name that would be right.

    ``suggestion`` may hold placeholders in angle brackets (``<split>``) for parts that cannot be
    guessed; it is None when no useful suggestion exists."""

    path: str
    kind: str
    name: str
    problems: tuple[str, ...]
    suggestion: str | None

    def line(self) -> str:
        text = f"{self.path}: {self.kind} name: {'; '.join(self.problems)}"
        return text + (f"; suggested: {self.suggestion}" if self.suggestion else "")


@dataclass(frozen=True)
class Generated:
    """A name made by :func:`generate`, with the parts it was made of."""

    kind: str
    name: str
    parts: Mapping[str, str] = field(default_factory=dict)


def is_date(text: str) -> bool:
    """Whether ``text`` is a real calendar date written YYYYMMDD."""
    if not re.fullmatch(r"\d{8}", text):
        return False
    try:
        dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return False
    return True


# -- configuration -------------------------------------------------------------------------------

def load_conventions(root: Path) -> Conventions:
    """The default conventions, with the patterns of ``root/labvault-names.{yaml,yml,toml}``."""
    patterns = {kind: re.compile(p) for kind, p in DEFAULT_PATTERNS.items()}
    found = [root / n for n in CONFIG_FILES if (root / n).is_file()]
    if not found:
        return Conventions(patterns)
    if len(found) > 1:
        raise ConfigError(
            f"both {found[0].name} and {found[1].name} exist in {root}", "keep one naming conventions file"
        )
    path = found[0]
    data = _read_config(path)
    custom = set()
    for kind, value in data.items():
        if kind not in KINDS:
            raise ConfigError(f"{path}: unknown key {kind!r}", f"the keys are {', '.join(KINDS)}")
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: {kind} must be a regular expression in a string")
        try:
            patterns[kind] = re.compile(value)
        except re.error as exc:
            raise ConfigError(
                f"{path}: the {kind} pattern is not a valid regular expression ({exc})",
                "fix it (Python `re` syntax; it must match the whole name)",
            ) from None
        custom.add(kind)
    return Conventions(patterns, frozenset(custom), path.name)


def _read_config(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    data: Any
    if path.suffix == ".toml":
        if sys.version_info < (3, 11):
            raise ConfigError(f"{path}: reading TOML needs Python 3.11", "use labvault-names.yaml instead")
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})".replace("\n", " ")) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of kind -> pattern", "e.g. `dataset: '...'`")
    return data


# -- checking ------------------------------------------------------------------------------------

def check_name(
    kind: str,
    name: str,
    conventions: Conventions,
    path: str | None = None,
    split_hint: str | None = None,
    file_date: dt.date | None = None,
) -> Violation | None:
    """None when ``name`` follows the ``kind`` convention, else what is wrong with it.

    ``split_hint`` (the train/val/test folder a dataset lies in) and ``file_date`` (the file's
    modification date) fill in suggested names where the name itself lacks those parts."""
    if conventions.matches(kind, name):
        return None
    if kind == "dataset":
        problems, suggestion = _diagnose_dataset(name, split_hint)
    elif kind == "model":
        problems, suggestion = _diagnose_model(name, file_date or dt.date.today())
    else:
        problems, suggestion = _diagnose_experiment(name, file_date or dt.date.today())
    if kind in conventions.custom:
        problems = [f"does not match the {kind} pattern of {conventions.source} "
                    f"({conventions.patterns[kind].pattern})"]
    elif not problems:
        problems = [f"does not follow {SHAPES[kind]}"]
    if suggestion is not None and "<" not in suggestion and not conventions.matches(kind, suggestion):
        suggestion = None
    if kind == "experiment" and suggestion:
        suggestion += "/"
    return Violation(path or name, kind, name, tuple(problems), suggestion)


def _split_ext(filename: str) -> tuple[str, str]:
    """("custom_dataset_v1.0_test", "csv") from "custom_dataset_v1.0_test.csv": the extension
    starts at the first dot of the last ``_`` part, after a leading version or date."""
    head, sep, tail = filename.rpartition("_")
    m = re.match(r"(?i)v?\d+(?:\.\d+)*(?=\.)", tail)
    dot = tail.find(".", m.end() if m else 0)
    if dot <= 0 and not head:
        return filename, ""
    if dot < 0:
        return filename, ""
    return head + sep + tail[:dot], tail[dot + 1:]


_HYPHEN_WORD = re.compile(r"(?:checkpoint|ckpt|epoch|step)-\d+")


def _tokens(stem: str) -> tuple[list[str], list[str]]:
    """Lowercase parts of ``stem`` split at ``_`` (and at other separators, with a problem)."""
    problems: list[str] = []
    if stem != stem.lower():
        problems.append("use lowercase letters")
    s = stem.lower()
    dashed = re.sub(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)", r"\1\2\3", s)
    if dashed != s:
        problems.append("write dates as YYYYMMDD, without '-'")
        s = dashed
    tokens: list[str] = []
    bad_sep = bad_char = False
    for raw in re.split(r"_+", s):
        if not raw:
            continue
        if _HYPHEN_WORD.fullmatch(raw) or re.fullmatch(r"v?\d+(?:\.\d+)*", raw):
            tokens.append(raw)
            continue
        parts = [p for p in re.split(r"[\s.\-]+", raw) if p]
        if len(parts) > 1 or raw != (parts[0] if parts else ""):
            bad_sep = True
        for p in parts:
            clean = re.sub(r"[^a-z0-9]", "", p)
            bad_char |= clean != p
            if clean:
                tokens.append(clean)
    if bad_sep or "__" in stem or stem.startswith("_") or stem.endswith("_"):
        problems.append("separate the parts with a single '_'")
    if bad_char:
        problems.append("use only letters, digits and '_'")
    return tokens, problems


def _last(tokens: list[str], pred: Any, skip: set[int]) -> int | None:
    for i in range(len(tokens) - 1, -1, -1):
        if i not in skip and pred(tokens[i]):
            return i
    return None


def _order_problem(indexes: list[int | None], n: int, shape: str) -> list[str]:
    present = [i for i in indexes if i is not None]
    tail = list(range(n - len(present), n))
    return [] if present == tail else [f"parts out of order: expected {shape}"]


def _diagnose_dataset(filename: str, split_hint: str | None) -> tuple[list[str], str | None]:
    stem, ext = _split_ext(filename)
    problems: list[str] = []
    if not ext:
        problems.append("no format extension (e.g. .csv, .tar, .parquet)")
    elif not re.fullmatch(_EXT, ext):
        problems.append(f"format '.{ext}' should be lowercase letters and digits")
    tokens, token_problems = _tokens(stem)
    problems += token_problems
    split_i = _last(tokens, lambda t: t in SPLITS or t in SPLIT_ALIASES, set())
    version_i = _last(tokens, lambda t: re.fullmatch(r"v?\d+(?:\.\d+)*", t), {split_i} if split_i is not None else set())
    split = split_hint or "<split>"
    if split_i is None:
        problems.append("no split: end the name with _train, _val or _test")
    else:
        split = SPLIT_ALIASES.get(tokens[split_i], tokens[split_i])
        if split != tokens[split_i]:
            problems.append(f"split '{tokens[split_i]}' should be '{split}'")
    version = "v1"
    if version_i is None:
        problems.append("no version between the name and the split (e.g. _v1 or _2017)")
    else:
        version = tokens[version_i]
        if not re.fullmatch(_DATASET_VERSION, version):
            version = "v" + version
            problems.append(f"version '{tokens[version_i]}' should start with 'v' ({version})")
    names = [t for i, t in enumerate(tokens) if i not in (split_i, version_i)]
    problems += _order_problem([version_i, split_i], len(tokens), "name_version_split")
    if not names:
        problems.append("no dataset name before the version")
    elif not names[0][0].isalpha():
        problems.append("the name must start with a letter")
    name = "_".join(names) or "<name>"
    return problems, f"{name}_{version}_{split}.{ext.lower() or '<format>'}"


_MODEL_ALIASES = [
    (re.compile(r"(?:checkpoint|ckpt)-?(\d+)"), "checkpoint-{}"),
    (re.compile(r"epoch-?(\d+)"), "epoch-{}"),
    (re.compile(r"step-?(\d+)"), "step-{}"),
]


def _model_version(token: str) -> str | None:
    if re.fullmatch(_MODEL_VERSION, token):
        return token
    for pattern, template in _MODEL_ALIASES:
        m = pattern.fullmatch(token)
        if m:
            return template.format(m.group(1))
    if re.fullmatch(r"\d+(?:\.\d+)*", token) and len(token) < 6:
        return "v" + token
    return None


def _date_part(tokens: list[str], skip: set[int], problems: list[str], fallback: dt.date) -> tuple[int | None, str]:
    """Find the date among ``tokens``; returns its index and the date to suggest."""
    i = _last(tokens, lambda t: re.fullmatch(r"\d{8}", t) is not None, skip)
    if i is not None:
        if is_date(tokens[i]):
            return i, tokens[i]
        problems.append(f"date '{tokens[i]}' is not a real date (YYYYMMDD)")
        return i, "<YYYYMMDD>"
    i = _last(tokens, lambda t: re.fullmatch(r"\d{6}", t) is not None, skip)
    if i is not None and is_date("20" + tokens[i]):
        problems.append(f"date '{tokens[i]}' should have 8 digits (YYYYMMDD)")
        return i, "20" + tokens[i]
    stamp = fallback.strftime("%Y%m%d")
    problems.append(f"no date: add _YYYYMMDD (suggested with {stamp}, its modification date)")
    return None, stamp


def _diagnose_model(filename: str, fallback: dt.date) -> tuple[list[str], str | None]:
    stem, ext = _split_ext(filename)
    problems: list[str] = []
    if not ext:
        problems.append("no file extension (e.g. .pth, .safetensors, .bin)")
    elif not re.fullmatch(_EXT, ext):
        problems.append(f"extension '.{ext}' should be lowercase letters and digits")
    tokens, token_problems = _tokens(stem)
    problems += token_problems
    version_i = _last(tokens, lambda t: _model_version(t) is not None and not re.fullmatch(r"\d{6,}", t), set())
    version = "v1"
    if version_i is None:
        problems.append("no version at the end (e.g. _v1, _final, _checkpoint-1000)")
    else:
        version = _model_version(tokens[version_i]) or "v1"
        if version != tokens[version_i]:
            problems.append(f"version '{tokens[version_i]}' should be '{version}'")
    date_i, date = _date_part(tokens, {version_i} if version_i is not None else set(), problems, fallback)
    problems += _order_problem([date_i, version_i], len(tokens), "architecture_dataset_YYYYMMDD_version")
    names = [t for i, t in enumerate(tokens) if i not in (date_i, version_i)]
    if len(names) < 2:
        problems.append("name both the architecture and the dataset before the date")
        names = (names or ["<architecture>"]) + ["<dataset>"]
    elif not names[0][0].isalpha():
        problems.append("the architecture must start with a letter")
    return problems, f"{'_'.join(names)}_{date}_{version}.{ext.lower() or '<ext>'}"


def _diagnose_experiment(folder: str, fallback: dt.date) -> tuple[list[str], str | None]:
    tokens, problems = _tokens(folder)
    for i in range(len(tokens) - 1):
        if tokens[i] == "run" and tokens[i + 1].isdigit():
            tokens[i: i + 2] = [f"run{int(tokens[i + 1]):03d}"]
            problems.append(f"write the run id as one part ({tokens[i]})")
            break
    if tokens and tokens[-1] == "run":
        tokens.pop()
    run_i = _last(tokens, lambda t: re.fullmatch(r"run\d+", t) is not None, set())
    run = "run001"
    if run_i is None:
        problems.append("no run id at the end (e.g. _run001)")
    else:
        run = f"run{int(tokens[run_i][3:]):03d}"
        if run != tokens[run_i]:
            problems.append(f"run id '{tokens[run_i]}' should have at least 3 digits ({run})")
    date_i, date = _date_part(tokens, {run_i} if run_i is not None else set(), problems, fallback)
    problems += _order_problem([date_i, run_i], len(tokens), "name_YYYYMMDD_runNNN")
    names = [t for i, t in enumerate(tokens) if i not in (date_i, run_i)]
    if not names:
        problems.append("no experiment name before the date")
    elif not names[0][0].isalpha():
        problems.append("the name must start with a letter")
    return problems, f"{'_'.join(names) or '<name>'}_{date}_{run}"


# -- generating ----------------------------------------------------------------------------------
