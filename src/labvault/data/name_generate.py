"""Generating names that follow the lab's conventions (``labvault name``); checking them is
``labvault.data.naming``."""

from __future__ import annotations

import datetime as dt
import re

from labvault.data.naming import (
    _DATASET_VERSION,
    _EXT,
    _MODEL_VERSION,
    KINDS,
    SPLIT_ALIASES,
    SPLITS,
    Conventions,
    Generated,
    _model_version,
    is_date,
)
from labvault.errors import UsageError


def _slug(option: str, value: str, letter_first: bool = True) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", value.strip().lower()).strip("_")
    if not s:
        raise UsageError(f"--{option} {value!r} has no letters or digits", f"give a --{option} such as 'imagenet'")
    if letter_first and not s[0].isalpha():
        raise UsageError(f"--{option} {value!r} must start with a letter")
    return s


def _date_option(value: str | None, today: dt.date) -> str:
    if value is None:
        return today.strftime("%Y%m%d")
    text = value.replace("-", "") if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else value
    if not is_date(text):
        raise UsageError(f"--date {value!r} is not a real date", "write it YYYYMMDD, e.g. 20241113")
    return text


def _version_option(value: str | None, kind: str) -> str:
    if value is None:
        return "v1"
    v = value.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)*", v) and not (kind == "dataset" and re.fullmatch(r"\d{4}", v)):
        v = "v" + v
    if kind == "model":
        v = _model_version(v) or v
        if not re.fullmatch(_MODEL_VERSION, v):
            raise UsageError(f"--version {value!r} is not a model version",
                             "use vN, final, best, latest, checkpoint-N, epoch-N or step-N")
    elif not re.fullmatch(_DATASET_VERSION, v):
        raise UsageError(f"--version {value!r} is not a dataset version", "use v2, v1.0 or a year like 2017")
    return v


def _format_option(value: str | None) -> str:
    if value is None:
        raise UsageError("--format is required", "give the file extension, e.g. --format csv")
    f = value.strip().lower().lstrip(".")
    if not re.fullmatch(_EXT, f):
        raise UsageError(f"--format {value!r} is not a file extension", "e.g. csv, tar.gz, parquet, pth")
    return f


def generate(
    kind: str,
    conventions: Conventions,
    name: str | None = None,
    version: str | None = None,
    split: str | None = None,
    fmt: str | None = None,
    architecture: str | None = None,
    dataset: str | None = None,
    date: str | None = None,
    run: int | None = None,
    today: dt.date | None = None,
) -> Generated:
    """A name of ``kind`` that follows the conventions, from its parts (normalized: lowercase,
    ``_`` between words, ``v`` before version numbers, ``run`` ids padded to three digits)."""
    given = {"name": name, "version": version, "split": split, "format": fmt, "architecture": architecture,
             "dataset": dataset, "date": date, "run": run}
    allowed = {
        "dataset": {"name", "version", "split", "format"},
        "model": {"architecture", "dataset", "date", "version", "format"},
        "experiment": {"name", "date", "run"},
    }
    if kind not in allowed:
        raise UsageError(f"unknown kind {kind!r}", f"use one of {', '.join(KINDS)}")
    extra = sorted(k for k, v in given.items() if v is not None and k not in allowed[kind])
    if extra:
        raise UsageError(f"--{extra[0]} does not apply to {kind} names",
                         f"{kind} names take {', '.join('--' + k for k in sorted(allowed[kind]))}")
    today = today or dt.date.today()
    parts: dict[str, str]
    if kind == "dataset":
        if name is None or split is None:
            raise UsageError("dataset names need --name and --split", "e.g. --name imagenet --split train --format tar")
        s = split.strip().lower()
        s = SPLIT_ALIASES.get(s, s)
        if s not in SPLITS:
            raise UsageError(f"--split {split!r} is not a split", "use train, val or test")
        parts = {"name": _slug("name", name), "version": _version_option(version, kind), "split": s,
                 "format": _format_option(fmt)}
        result = f"{parts['name']}_{parts['version']}_{parts['split']}.{parts['format']}"
    elif kind == "model":
        if architecture is None or dataset is None:
            raise UsageError("model names need --architecture and --dataset",
                             "e.g. --architecture resnet50 --dataset imagenet --format pth")
        parts = {"architecture": _slug("architecture", architecture), "dataset": _slug("dataset", dataset, False),
                 "date": _date_option(date, today), "version": _version_option(version, kind),
                 "format": _format_option(fmt)}
        result = f"{parts['architecture']}_{parts['dataset']}_{parts['date']}_{parts['version']}.{parts['format']}"
    else:
        if name is None:
            raise UsageError("experiment names need --name", "e.g. --name sentiment_analysis --run 1")
        if run is not None and run < 0:
            raise UsageError(f"--run {run} must not be negative")
        parts = {"name": _slug("name", name), "date": _date_option(date, today), "run": f"run{1 if run is None else run:03d}"}
        result = f"{parts['name']}_{parts['date']}_{parts['run']}"
    if not conventions.matches(kind, result):
        raise UsageError(
            f"{result} does not match the {kind} pattern of {conventions.source} "
            f"({conventions.patterns[kind].pattern})",
            "choose the name by hand, or change the pattern",
        )
    return Generated(kind, result, parts)
