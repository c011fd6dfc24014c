"""Reading a name that follows the lab's convention back into its parts.

``sentiment_imdb_v1.0_train.csv`` is dataset ``sentiment_imdb``, version ``v1.0``, split ``train``,
format ``csv``. The project's conventions file is respected: a name its dataset pattern rejects is
not read as a dataset name, even when the guide's default would accept it. The parts come from the
pattern's named groups (``name``, ``version``, ``split``); a project pattern without a ``name``
group is read with the default pattern's groups when that one matches too, else not at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labvault.data.naming import DEFAULT_PATTERNS, Conventions

_DEFAULT_DATASET = re.compile(DEFAULT_PATTERNS["dataset"])


@dataclass(frozen=True)
class DatasetName:
    name: str
    version: str | None = None
    split: str | None = None
    format: str | None = None


def _parts(m: re.Match[str]) -> DatasetName | None:
    groups = {k: v for k, v in m.groupdict().items() if v}
    name = groups.get("name")
    if not name:
        return None
    return DatasetName(name, groups.get("version"), groups.get("split"), groups.get("format"))


def parse_dataset_name(filename: str, conventions: Conventions) -> DatasetName | None:
    """The parts of ``filename`` (a base name, no folders) when it follows the dataset
    convention, else None."""
    if not conventions.matches("dataset", filename):
        return None
    m = conventions.patterns["dataset"].fullmatch(filename)
    parts = _parts(m) if m is not None else None
    if parts is None and "dataset" in conventions.custom:
        fallback = _DEFAULT_DATASET.fullmatch(filename)
        parts = _parts(fallback) if fallback is not None else None
    return parts
