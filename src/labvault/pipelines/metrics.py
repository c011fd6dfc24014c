"""Metrics and params across revisions, as ``dvc metrics show/diff`` and ``dvc params diff`` report them.

Metrics files are the ``metrics`` of every stage plus the top-level ``metrics:`` of each dvc.yaml
(or only the files given as targets). They are read by suffix: ``.json``, ``.toml``, ``.csv`` and
``.tsv`` (the header names the keys, the last row holds the values), anything else as YAML. Only
numbers, booleans and strings are metrics; lists and other values are left out, as DVC does.
Nested keys join with ``.``.

Params are the keys the stages read (a whole file when a stage names it without keys), every key
of ``params.yaml`` at the root, and every key of the files in a top-level ``params:`` list.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from typing import Any

from labvault.errors import LabvaultError, ScmError
from labvault.pipelines.params import (
    DEFAULT_PARAMS,
    get_key,
    glob_key_matches,
    is_glob_key,
    is_missing,
    load_params_text,
)
from labvault.pipelines.revision import WORKSPACE, Snapshot
from labvault.pipelines.yamlio import load_yaml
from labvault.workspace.repo import Repo


@dataclass(frozen=True)
class FileValues:
    """One metrics or params file at one revision: its (nested) values, or why it could not be read."""

    path: str
    data: Any = None  # a mapping, or a single number/string for a file holding one value
    error: str | None = None
    error_type: str | None = None

    def flat(self) -> dict[str, Any]:
        if self.error is not None:
            return {}
        if isinstance(self.data, dict):
            return flatten(self.data)
        return {} if self.data is None else {"": self.data}


@dataclass(frozen=True)
class RevisionValues:
    rev: str
    files: tuple[FileValues, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Change:
    """One key whose value differs (or, with ``all``, any key) between two revisions."""

    path: str
    key: str
    old: Any
    new: Any
    diff: int | float | None = None  # new - old, when both are numbers


# --- reading -------------------------------------------------------------------------------------
def _number(cell: str) -> Any:
    try:
        return int(cell)
    except ValueError:
        pass
    try:
        value = float(cell)
    except ValueError:
        return cell
    return value if math.isfinite(value) else cell


def _table_last_row(text: str, delimiter: str) -> dict[str, Any]:
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)]
    if len(rows) < 2:
        return {}
    header, last = rows[0], rows[-1]
    return {h: _number(c) for h, c in zip(header, last, strict=False) if h and c.strip()}


def parse_metrics(text: str, path: str) -> Any:
    suffix = path[path.rfind(".") :].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if suffix in (".csv", ".tsv"):
        raw: Any = _table_last_row(text, "," if suffix == ".csv" else "\t")
    elif suffix in (".json", ".toml"):
        raw = load_params_text(text, suffix, path)
    else:
        raw = load_yaml(text, path)
    return _keep_metrics(raw) or {}


def _keep_metrics(value: Any) -> Any:
    """Numbers, booleans and strings, in nested mappings; everything else is dropped."""
    if isinstance(value, (int, float, str)):
        return value
    if not isinstance(value, dict):
        return None
    kept = {}
    for k, v in value.items():
        m = _keep_metrics(v)
        if m is not None and m != {}:
            kept[str(k)] = m
    return kept


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists become their Python text (``[1, 2]``), as in DVC."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):  # an empty mapping has no keys to show, as in DVC
            out.update(flatten(v, key + "."))
        elif isinstance(v, (list, tuple)):
            out[key] = str(list(v))
        else:
            out[key] = v
    return out


def _read_file(snap: Snapshot, path: str, parse: Any, inside_only: bool = False) -> FileValues:
    if inside_only and snap.leaves_repo(path):
        return FileValues(path, error=f"{path} leaves the repository: not read", error_type="PathError")
    data = snap.read(path)
    if data is None:
        return FileValues(path, error=f"{path} does not exist at {snap.name}", error_type="FileNotFoundError")
    try:
        return FileValues(path, parse(data.decode("utf-8"), path))
    except UnicodeDecodeError:
        return FileValues(path, error=f"{path} is not UTF-8 text", error_type="UnicodeDecodeError")
    except LabvaultError as exc:
        return FileValues(path, error=exc.message, error_type="ParseError")


def metrics_paths(snap: Snapshot, targets: list[str] | None) -> list[str]:
    if targets:
        wanted = list(targets)
    else:
        p = snap.pipelines()
        wanted = [o.rel for s in p.stages for o in s.outs if o.kind == "metric"] + p.top_metrics
    seen: dict[str, None] = {}
    for w in wanted:
        for f in snap.expand(w):
            seen.setdefault(f, None)
    return list(seen)


def read_metrics(snap: Snapshot, targets: list[str] | None) -> RevisionValues:
    try:
        paths = metrics_paths(snap, targets)
        return RevisionValues(snap.name, tuple(_read_file(snap, p, parse_metrics, inside_only=True) for p in paths))
    except LabvaultError as exc:
        return RevisionValues(snap.name, error=str(exc))


def params_keys(snap: Snapshot, targets: list[str] | None) -> dict[str, tuple[str, ...] | None]:
    """Params file -> the keys in use (None: the whole file), merged over all stages."""
    wanted: dict[str, tuple[str, ...] | None] = {}

    def want(file: str, keys: tuple[str, ...] | None) -> None:
        if file in wanted and (wanted[file] is None or keys is None):
            wanted[file] = None
        elif file in wanted:
            have = wanted[file] or ()
            wanted[file] = have + tuple(k for k in keys or () if k not in have)
        else:
            wanted[file] = keys

    if targets:
        for t in targets:
            want(t, None)
        return wanted
    p = snap.pipelines()
    for s in p.stages:
        for ref in s.params:
            want(ref.rel, ref.keys or None)
    for f in p.top_params:
        want(f, None)
    if snap.read_many([DEFAULT_PARAMS]):
        want(DEFAULT_PARAMS, None)
    # values templating read from `vars` files, for files not already shown as params (as DVC does)
    from_vars: dict[str, dict[str, None]] = {}
    for s in p.stages:
        for file, key in s.tracked_vars:
            if file not in wanted:
                from_vars.setdefault(file, {})[key] = None
    for file, keys in from_vars.items():
        want(file, tuple(keys))
    return wanted


def _parse_params(keys: tuple[str, ...] | None) -> Any:
    def parse(text: str, path: str) -> Any:
        suffix = path[path.rfind(".") :].lower() if "." in path.rsplit("/", 1)[-1] else ".yaml"
        if suffix not in (".json", ".toml", ".py", ".yml"):
            suffix = ".yaml"
        data = load_params_text(text, suffix, path)
        if keys is None:
            return data
        picked: dict[str, Any] = {}
        for k in keys:
            if is_glob_key(k):  # every key a pattern matches, by its own path (as dvc shows them)
                picked.update(glob_key_matches(data, k))
                continue
            v = get_key(data, k)
            if not is_missing(v):
                picked[k] = v
        return picked

    return parse


def read_params(snap: Snapshot, targets: list[str] | None) -> RevisionValues:
    try:
        wanted = params_keys(snap, targets)
        files = []
        for path, keys in wanted.items():
            fv = _read_file(snap, path, _parse_params(keys))
            if fv.error_type == "FileNotFoundError":
                continue  # a params file that does not exist at this revision has no values there
            files.append(fv)
        return RevisionValues(snap.name, tuple(files))
    except LabvaultError as exc:
        return RevisionValues(snap.name, error=str(exc))


# --- comparing -----------------------------------------------------------------------------------
def compare(old: RevisionValues, new: RevisionValues, with_unchanged: bool = False) -> list[Change]:
    """Keys whose values differ between two revisions, by path then key."""
    olds = {f.path: f.flat() for f in old.files}
    news = {f.path: f.flat() for f in new.files}
    changes: list[Change] = []
    for path in sorted(set(olds) | set(news)):
        a, b = olds.get(path, {}), news.get(path, {})
        for key in sorted(set(a) | set(b)):
            va, vb = a.get(key), b.get(key)
            if va == vb and not with_unchanged:
                continue
            d = vb - va if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
            changes.append(Change(path, key, va, vb, d))
    return changes


# --- text ----------------------------------------------------------------------------------------
def format_value(value: Any, precision: int | None = None) -> str:
    """A value as DVC prints it in tables: floats rounded to ``precision`` digits, missing as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, float) and precision:
        value = round(value, precision)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


# --- revisions -----------------------------------------------------------------------------------
def _ref_names(repo: Repo, kind: str) -> list[tuple[str, str]]:
    """(name, commit) of every branch (``heads``) or tag (``tags``), annotated tags peeled."""
    # Git names no refs publicly yet; its runner is reused.
    out = repo.require_scm()._run("for-each-ref", "--format=%(objectname) %(*objectname) %(refname:short)", f"refs/{kind}")
    pairs = []
    for line in out.decode("utf-8", errors="replace").splitlines():
        sha, peeled, name = line.split(" ", 2)
        pairs.append((name, peeled or sha))
    return pairs


def _active_branch(repo: Repo) -> str | None:
    try:
        return repo.require_scm()._run("symbolic-ref", "--short", "-q", "HEAD").decode().strip() or None
    except ScmError:
        return None  # a detached HEAD


def revisions(repo: Repo, all_branches: bool, all_tags: bool, all_commits: bool) -> list[tuple[str, str]]:
    """(display name, commit) for each commit chosen: names sharing a commit are joined by ``,``."""
    git = repo.require_scm()
    names: dict[str, list[str]] = {}
    if all_commits:
        for sha in git.all_commits():
            names.setdefault(sha, []).append(sha)
    else:
        for kind, wanted in (("heads", all_branches), ("tags", all_tags)):
            if wanted:
                for name, sha in _ref_names(repo, kind):
                    names.setdefault(sha, []).append(name)
    return [(",".join(n), sha) for sha, n in names.items()]


def show_metrics(
    repo: Repo, targets: list[str] | None, all_branches: bool = False, all_tags: bool = False,
    all_commits: bool = False,
) -> list[RevisionValues]:
    """The metrics of the workspace, then of each branch/tag/commit asked for."""
    results = [read_metrics(Snapshot(repo, None), targets)]
    if all_branches or all_tags or all_commits:
        for name, sha in revisions(repo, all_branches, all_tags, all_commits):
            got = read_metrics(Snapshot(repo, sha), targets)
            results.append(RevisionValues(name, got.files, got.error))
        active = _active_branch(repo) if all_branches else None
        same = [r for r in results[1:] if r.rev == active]
        if same and (same[0].files, same[0].error) == (results[0].files, results[0].error):
            results.pop(0)  # the workspace equals the checked-out branch: DVC shows it once
    return results


def _snapshot(repo: Repo, rev: str) -> Snapshot:
    return Snapshot(repo, None if rev == WORKSPACE else rev)


def diff_values(
    repo: Repo, a_rev: str, b_rev: str, targets: list[str] | None, with_unchanged: bool, kind: str
) -> tuple[RevisionValues, RevisionValues, list[Change]]:
    """``kind`` is ``metrics`` or ``params``; an empty result in a repo without commits."""
    read = read_metrics if kind == "metrics" else read_params
    git = repo.require_scm()
    if not git.has_commits():
        empty = RevisionValues(a_rev)
        return empty, RevisionValues(b_rev), []
    a = read(_snapshot(repo, a_rev), targets)
    b = read(_snapshot(repo, b_rev), targets)
    a, b = RevisionValues(a_rev, a.files, a.error), RevisionValues(b_rev, b.files, b.error)
    return a, b, compare(a, b, with_unchanged)


# --- tables --------------------------------------------------------------------------------------
def metrics_rows(
    results: list[RevisionValues], with_revision: bool, precision: int | None
) -> tuple[list[str], list[list[str]]]:
    """DVC's ``metrics show`` table: Revision (only across revisions), Path, one column per key."""
    keys: set[str] = set()
    raw: list[tuple[str, str, dict[str, Any]]] = []
    for r in results:
        for f in r.files:
            flat = f.flat()
            keys |= set(flat)
            raw.append((r.rev, f.path, flat))
    columns = sorted(keys)
    headers = (["Revision"] if with_revision else []) + ["Path", *columns]
    rows = [
        ([rev] if with_revision else []) + [path, *(format_value(flat.get(k), precision) for k in columns)]
        for rev, path, flat in raw
    ]
    return headers, rows


def diff_rows(
    changes: list[Change], title: str, a_rev: str, b_rev: str, precision: int | None, with_change: bool
) -> tuple[list[str], list[list[str]]]:
    """DVC's ``metrics diff`` / ``params diff`` table: Path, Metric|Param, A, B[, Change]."""
    headers = ["Path", title, a_rev, b_rev] + (["Change"] if with_change else [])
    rows = []
    for c in changes:
        row = [c.path, c.key, format_value(c.old, precision), format_value(c.new, precision)]
        if with_change:
            row.append(format_value(c.diff, precision))
        rows.append(row)
    return headers, rows
