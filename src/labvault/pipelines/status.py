"""Whether a stage must run, and why: its cmd, deps, params or outs differ from its lock entry."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labvault.core.tree import DIR_SUFFIX
from labvault.errors import PipelineError
from labvault.pipelines.params import get_param, is_missing, load_params_file
from labvault.pipelines.spec import Stage
from labvault.workspace.prefetch import Prefetch
from labvault.workspace.presence import recorded_missing, still_missing
from labvault.workspace.repo import Repo
from labvault.workspace.scan import Content, Scanner

# Given the oids of objects the cache lacks, the ones held elsewhere (a tier the cache spilled to)
Elsewhere = Callable[[set[str]], set[str]]


@dataclass(frozen=True)
class StageStatus:
    address: str
    changed: bool
    reasons: tuple[str, ...]
    frozen: bool = False


class Inputs:
    """Reads the current state of deps, params and outs (stat cache backed; thread safe).

    A path is scanned once per command however many stages name it (a shared script, an
    output that is the next stage's dep) until a stage runs: ``forget`` then drops everything
    known, since a command may write more than its declared outputs.
    """

    def __init__(self, repo: Repo, elsewhere: Elsewhere | None = None) -> None:
        """``elsewhere``: of the oids the cache lacks, those held locally elsewhere (a spill tier);
        they count as present."""
        self.repo = repo
        self.elsewhere = elsewhere
        self._params: dict[str, Any] = {}
        self._contents: dict[tuple[str, bool], Content | None] = {}
        self._checked: set[tuple[str, bool]] = set()  # scanned with the cache checked (Content.missing)
        self._lock = threading.Lock()
        self._prefetch: Prefetch | None = None

    def prefetch(self, stages: list[Stage], read_ahead: bool) -> None:
        """With ``read_ahead``, start a helper process listing these stages' deps and outs from
        the far end of the order their status will be checked in (see ``workspace.prefetch``)."""
        if not read_ahead:
            return
        rels = [r for s in stages for r in (*(d.rel for d in s.deps), *(o.rel for o in s.outs))]
        paths = dict.fromkeys(str(self.repo.abspath(r)) for r in rels)
        self._prefetch = Prefetch(list(paths), read_ahead).start()

    def close(self) -> None:
        if self._prefetch is not None:
            self._prefetch.stop()

    def content(self, rel: str, legacy: bool = False, check_cache: bool = False) -> Content | None:
        """``check_cache``: also find out which files' objects the cache lacks (``Content.missing``)."""
        key = (rel, legacy)
        with self._lock:
            if key in self._contents and (key in self._checked or not check_cache):
                return self._contents[key]
        found = Scanner(self.repo, store=False, legacy=legacy, check_cache=check_cache).scan(rel)
        with self._lock:
            self._contents[key] = found
            if check_cache:
                self._checked.add(key)
            else:
                self._checked.discard(key)
        return found

    def not_in_cache(self, rel: str, oid: str, legacy: bool) -> bool:
        """Whether an object of the recorded version ``oid`` of output ``rel`` (the file's, the
        folder's manifest, or any of its files') is missing from the cache, and not elsewhere.
        A folder's files are taken from its scan (``content(check_cache=True)``) when the
        workspace holds that very version, else looked up from its manifest."""
        key = (rel, legacy)
        with self._lock:
            now = self._contents.get(key)
            checked = key in self._checked
        if checked and now is not None and now.oid == oid and now.is_dir:
            lost = recorded_missing(self.repo, oid, legacy, now.missing, now.files() if now.missing else {})
        else:
            lost = recorded_missing(self.repo, oid, legacy)
        return bool(still_missing(lost, self.elsewhere, legacy))

    def forget(self) -> None:
        """Drop every path's content: the next ``content`` scans again."""
        with self._lock:
            self._contents.clear()
            self._checked.clear()

    def params_file(self, rel: str) -> Any:
        with self._lock:
            if rel not in self._params:
                self._params[rel] = load_params_file(self.repo.abspath(rel))
            return self._params[rel]

    def forget_params(self) -> None:
        with self._lock:
            self._params.clear()

    def params(self, stage: Stage) -> dict[str, dict[str, Any]]:
        """{file as written: {key: value}}; raises for a missing file or key."""
        values: dict[str, dict[str, Any]] = {}
        for ref in stage.params:
            data = self.params_file(ref.rel)
            if data is None:
                raise PipelineError(
                    f"{stage.dvcfile}: stage {stage.address!r}: params file {ref.rel} does not exist",
                    "create it or fix `params`",
                )
            if not ref.keys:
                values[ref.file] = dict(data) if isinstance(data, dict) else {}
                continue
            got: dict[str, Any] = {}
            for key in ref.keys:
                value = get_param(data, key, f"{stage.dvcfile}: stage {stage.address!r}: {ref.rel}")
                if is_missing(value):
                    raise PipelineError(
                        f"{stage.dvcfile}: stage {stage.address!r}: unknown param key {key!r} in {ref.rel}",
                        "add it to the params file or fix `params`",
                    )
                got[key] = value
            values.setdefault(ref.file, {}).update(got)
        return values


def _norm_cmd(cmd: Any) -> Any:
    return list(cmd) if isinstance(cmd, (list, tuple)) else cmd


# With ``allow_missing``: what the ``.dvc`` file or stage producing exactly a repo-relative path now
# records for it, (md5 or None when nothing is recorded, legacy md5 or not); None when nothing
# produces that path.
Upstream = Callable[[str], tuple[str | None, bool] | None]
MISSING_DATA = ("out not in cache: ", "out deleted: ")


def stage_status(stage: Stage, entry: dict[str, Any] | None, inputs: Inputs, allow_missing: bool = False,
                 upstream: Upstream | None = None) -> StageStatus:
    """``allow_missing`` (``repro --allow-missing``, as dvc): data missing from the workspace or
    the cache is no change. An output deleted or not in the cache is passed over, and so is a
    deleted dependency, unless what produces it (a stage or a ``.dvc`` file) now records another
    hash for it than this stage's lock entry (``upstream``; a legacy md5 is another hash than an
    md5 of the same digits, and nothing recorded equals only nothing): then it is modified. A
    stage that never ran is then judged as dvc does, on an entry recording nothing: it changed if
    a dependency or output is present or a param is used, not for missing data alone."""
    reasons: list[str] = []
    params = inputs.params(stage)  # raises on missing keys even for frozen stages
    if stage.frozen:
        return _frozen_status(stage, entry, inputs, allow_missing)
    if entry is None:
        if not allow_missing:
            return StageStatus(stage.address, True, ("never ran (no dvc.lock entry)",))
        never = stage_status(stage, {"cmd": stage.cmd, "deps": [{"path": d.path} for d in stage.deps],
                                     "outs": [{"path": o.path} for o in stage.outs]}, inputs, True, upstream)
        return StageStatus(stage.address, never.changed,
                           ("never ran (no dvc.lock entry)", *never.reasons) if never.changed else ())
    if stage.always_changed:
        reasons.append("always changed")
    if _norm_cmd(entry.get("cmd")) != _norm_cmd(stage.cmd):
        reasons.append("cmd changed")
    locked_deps: dict[str, Any] = {
        str(d.get("path")): d for d in entry.get("deps", []) or [] if isinstance(d, dict)
    }
    wanted = {d.path for d in stage.deps}
    if set(locked_deps) != wanted:
        for p in sorted(wanted - set(locked_deps)):
            reasons.append(f"dep added: {p}")
        for p in sorted(set(locked_deps) - wanted):
            reasons.append(f"dep removed: {p}")
    for d in stage.deps:
        rec = locked_deps.get(d.path)
        if rec is None:
            continue
        now = inputs.content(d.rel, legacy="hash" not in rec)
        if now is None:
            if not allow_missing:
                reasons.append(f"dep deleted: {d.path}")
            elif upstream is not None and _upstream_differs(upstream(d.rel), rec):
                reasons.append(f"dep modified: {d.path}")
        elif now.oid != rec.get("md5"):
            reasons.append(f"dep modified: {d.path}")
    locked_params = entry.get("params") or {}
    for file, values in params.items():
        rec = locked_params.get(file) or {}
        for key, value in values.items():
            if key not in rec:
                reasons.append(f"param new: {key}")
            elif rec[key] != value and not (isinstance(value, tuple) and list(value) == rec[key]):
                reasons.append(f"param modified: {key}")
        for key in rec:
            if key not in values:
                reasons.append(f"param deleted: {key}")
    for file in locked_params:
        if file not in params:
            reasons.append(f"params file removed: {file}")
    outs = _out_reasons(stage, entry, inputs)
    reasons += [r for r in outs if not r.startswith(MISSING_DATA)] if allow_missing else outs
    return StageStatus(stage.address, bool(reasons), tuple(reasons))


def _upstream_differs(up: tuple[str | None, bool] | None, rec: dict[str, Any]) -> bool:
    """Whether the hash a producer records for a dependency (``up``) is not the one the lock entry
    ``rec`` records, comparing the kind too (dvc's hash infos: name and value)."""
    if up is None:
        return False
    md5, legacy = up
    recorded = rec.get("md5")
    if not isinstance(recorded, str) or not recorded:
        return md5 is not None
    return md5 != recorded or legacy != ("hash" not in rec)


def _out_reasons(stage: Stage, entry: dict[str, Any], inputs: Inputs) -> list[str]:
    reasons: list[str] = []
    locked_outs: dict[str, Any] = {
        str(o.get("path")): o for o in entry.get("outs", []) or [] if isinstance(o, dict)
    }
    for o in stage.outs:
        rec = locked_outs.get(o.path)
        if rec is None:
            reasons.append(f"out added: {o.path}")
            continue
        legacy = "hash" not in rec
        recorded = rec.get("md5")
        cached = o.cache and isinstance(recorded, str) and bool(recorded)
        now = inputs.content(o.rel, legacy=legacy, check_cache=cached and str(recorded).endswith(DIR_SUFFIX))
        if cached and inputs.not_in_cache(o.rel, str(recorded), legacy):
            # as dvc: first of all, whatever the workspace holds (the stage runs again to restore it)
            reasons.append(f"out not in cache: {o.path}")
        elif now is None:
            reasons.append(f"out deleted: {o.path}")
        elif now.oid != recorded:
            reasons.append(f"out modified: {o.path}")
    for p in sorted(set(locked_outs) - {o.path for o in stage.outs}):
        reasons.append(f"out removed: {p}")
    return reasons


def _frozen_status(stage: Stage, entry: dict[str, Any] | None, inputs: Inputs,
                   allow_missing: bool = False) -> StageStatus:
    """A frozen stage, as DVC sees it: its deps and params are not looked at, but its outputs and
    its command are; changed when an output is missing or differs from dvc.lock (or was never
    recorded), or the command changed. ``repro`` then verifies the outputs instead of running it.
    With ``allow_missing`` an output deleted or not in the cache is no change, as for any stage."""
    reasons: list[str] = []
    if entry is None:
        for o in stage.outs:
            missing = inputs.content(o.rel) is None
            reasons.append(f"out deleted: {o.path}" if missing else f"out not in dvc.lock: {o.path}")
    else:
        if _norm_cmd(entry.get("cmd")) != _norm_cmd(stage.cmd):
            reasons.append("cmd changed")
        reasons += _out_reasons(stage, entry, inputs)
    if allow_missing:
        reasons = [r for r in reasons if not r.startswith(MISSING_DATA)]
    return StageStatus(stage.address, bool(reasons), tuple(reasons) or ("frozen",), True)


def lock_path(repo: Repo, stage: Stage) -> Path:
    return repo.abspath(stage.lockfile)
