"""Automatic capture into the catalog: what ``add``, ``commit``, ``push`` and ``repro`` did.

Commands append one event a line to ``.dvc/tmp/labvault/catalog-journal.jsonl`` (microseconds, no
database on the hot path, works with the lab's database down); the catalog layer
(``labvault.catalog.journal``) applies it: every ``labvault catalog`` command run in the repo does,
as do the end of a ``repro`` that ran stages and ``labvault catalog sync``. Turn capture off with
``labvault config labvault.catalog_capture false``.

This module composes what the catalog cannot see: the names outputs get (``capture_names``), the
times and outcome of each stage that ran, the git revision.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labvault.api.capture_names import output_artifacts
from labvault.catalog import events, journal
from labvault.catalog.events import Event, EventError, RunEvent, VersionEvent
from labvault.errors import LabvaultError
from labvault.progress import Progress
from labvault.workspace import readlog
from labvault.workspace.repo import Repo

if TYPE_CHECKING:
    from labvault.pipelines.repro import ReproResult
    from labvault.workspace.add import Recorded

JOURNAL = journal.JOURNAL
MODEL_SUFFIXES = (".pth", ".pt", ".bin", ".safetensors", ".ckpt", ".h5", ".onnx", ".pkl", ".joblib", ".pb")


def journal_dir(repo: Repo) -> Path:
    return repo.tmp_dir / "labvault"


def enabled(repo: Repo) -> bool:
    return repo.config.get_bool("labvault", "catalog_capture", True)


def note(repo: Repo, *items: Event | Mapping[str, Any]) -> None:
    """Append events (one write); never fails the command that produced them (a mapping is
    checked first)."""
    if not enabled(repo) or not items:
        return
    try:
        checked = [e if not isinstance(e, Mapping) else events.parse_event(dict(e)) for e in items]
        journal.append(journal_dir(repo), *checked)
    except (OSError, EventError) as exc:
        repo.progress.message(f"warning: could not record to the catalog journal: {exc}")


def flush(repo: Repo, catalog_url: str | None = None, progress: Progress | None = None) -> journal.JournalResult:
    """Apply pending events to the catalog (``catalog_url``, else the repo's configured one)."""
    folder = journal_dir(repo)
    if not journal.pending(folder):
        return journal.JournalResult(0)
    from labvault.catalog.store import open_catalog

    url = catalog_url or repo.config.get("labvault", "catalog_url") or None
    return journal.apply_journal(open_catalog(url), folder, progress or repo.progress)


def capture_datasets(r: Repo, results: Iterable[Recorded]) -> None:
    """Each new content of a tracked output becomes a version in the catalog (via the journal),
    named by its annotations, the lab's naming convention, or its path."""
    changed = [x for x in results if x.changed]
    if not changed or not enabled(r):
        return
    named = output_artifacts(r, [(x.path, x.oid, x.size, x.nfiles) for x in changed], pointers={
        x.path: x.pointer for x in changed})
    found: list[Event] = []
    for x, artifact in zip(changed, named, strict=True):
        card = _card_of(r, x.path)
        if card is not None and artifact.description is None:
            artifact = replace(artifact, description=str(card.get("description") or "") or None)
        found.append(VersionEvent(artifact, card=card))
    note(r, *found)


def _card_of(r: Repo, rel: str) -> dict[str, Any] | None:
    """The provenance card (README.md with front matter) inside a tracked folder, if any."""
    folder = r.abspath(rel)
    if not (folder / "README.md").is_file():
        return None
    from labvault.data.cards import read_card

    try:
        return read_card(folder).as_dict()
    except (LabvaultError, OSError, ValueError):
        return None


def _git_rev(r: Repo) -> str | None:
    if r.scm is None:
        return None
    try:
        return r.scm.resolve("HEAD")
    except Exception:  # no commit yet, or git unusable: the run is recorded without a revision
        return None


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).replace(tzinfo=None)


def capture_runs(r: Repo, result: ReproResult) -> None:
    """Each stage that ran (or was restored from the run cache) becomes a run in the catalog, with
    its real start and end times, params, metrics and lineage from its deps to its outputs; the
    journal is applied right away (repro is not a hot path)."""
    from labvault.pipelines.lock import LockFile
    from labvault.pipelines.metrics import flatten, parse_metrics

    runs = [x for x in result.runs if x.action in ("ran", "restored")]
    if not runs or not enabled(r):
        return
    from labvault.pipelines.targets import load_graph

    graph = load_graph(r)
    experiment = r.config.get("labvault", "project") or r.root.name
    git_rev = _git_rev(r)
    now = dt.datetime.now(dt.timezone.utc).timestamp()
    for run in runs:
        stage = graph.stages[run.address]
        entry = LockFile(r.abspath(stage.lockfile), r.state).get(stage.name) or {}
        params: dict[str, Any] = {}
        for file, values in (entry.get("params") or {}).items():
            for key, value in values.items():
                params[key if file == "params.yaml" else f"{file}:{key}"] = value
        metrics: dict[str, float] = {}
        for o in stage.outs:
            if o.kind != "metric":
                continue
            try:
                data = parse_metrics(r.abspath(o.rel).read_text(encoding="utf-8"), o.rel)
            except (OSError, LabvaultError):
                continue
            if isinstance(data, dict):
                metrics.update({k: float(v) for k, v in flatten(data).items()
                                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)})
        locked = {o.get("path"): o for o in entry.get("outs", []) or [] if isinstance(o, dict)}
        outs = [(o, locked[o.path]) for o in stage.outs if o.kind == "out" and isinstance(locked.get(o.path), dict)
                and locked[o.path].get("md5")]
        outputs = output_artifacts(
            r, [(o.rel, str(lk["md5"]), lk.get("size"), lk.get("nfiles")) for o, lk in outs],
            stage_flags={o.rel: o.flags for o, _ in outs},
            guess_kind=lambda rel: "model" if rel.startswith("models/") or rel.endswith(MODEL_SUFFIXES) else "dataset",
        )
        inputs = [d["md5"] for d in entry.get("deps", []) or [] if isinstance(d, dict) and isinstance(d.get("md5"), str)]
        # what the command read through labvault.open/read/get (any repository, any revision)
        inputs += [h for h in readlog.take(readlog.log_path(r.tmp_dir, run.address)) if h not in inputs]
        ended = run.ended if run.ended is not None else now
        started = run.started if run.started is not None else ended - run.seconds
        note(r, RunEvent(
            experiment=experiment, stage=run.address, status="restored" if run.action == "restored" else "completed",
            started=_utc(started), ended=_utc(ended), git_rev=git_rev, params=params, metrics=metrics,
            inputs=tuple(inputs), outputs=tuple(outputs),
        ))
    try:
        flush(r)
    except LabvaultError as exc:
        r.progress.message(f"warning: the catalog was not updated ({exc.line()}); it will be at the next catalog command")

