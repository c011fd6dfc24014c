"""``pull`` of URL imports recorded without their data (``import-url --no-download``), as dvc
pulls them: from their source, into the cache and the workspace, and only while the source still
holds what the pointer records (its checksum, compared before the download and the bytes or ETags
compared again after). The pointer is not rewritten, as dvc leaves it; ``update`` records the
output's hash. An import recorded with no checksum (``--no-exec``) cannot be checked against
anything: pull reports it failed and names ``update``, as dvc fails its checkout.

Why a source outside the repository may be read here when ``update`` refuses one unnamed: what
pull writes is only content whose checksum the repository committed, so a hostile pointer naming
``~/.ssh/id_rsa`` brings nothing new into the workspace (it would need that file's md5); ``update``
writes whatever the source holds now.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from labvault.api.import_url import _download, _jobs, _Source, _staged, _still_same, _store, _swap
from labvault.core.tree import Tree
from labvault.errors import LabvaultError
from labvault.progress import Progress
from labvault.workspace.index import Tracked, select, workspace_outputs
from labvault.workspace.repo import Repo
from labvault.workspace.url_imports import SourceState, is_url, local_source, read_url_import


@dataclass
class ImportsPulled:
    written: list[str] = field(default_factory=list)  # outputs downloaded into the workspace
    present: list[str] = field(default_factory=list)  # already there with the recorded content
    nbytes: int = 0
    oids: list[str] = field(default_factory=list)  # cache objects written (files and manifests)
    failed: list[str] = field(default_factory=list)  # one line each: the output and why


def recorded_imports(repo: Repo, targets: list[str] | None) -> list[Tracked]:
    """The chosen outputs that are URL imports without a recorded hash (not downloaded)."""
    chosen = select(workspace_outputs(repo), repo, targets or None)
    return [t for t in chosen if t.out.oid is None and t.pointer.extra.get("deps")]


class _Refused(Exception):
    """This import is not pulled; the message says why and what to do."""


def pull_imports(repo: Repo, imports: list[Tracked], jobs: int | None, force: bool,
                 progress: Progress) -> ImportsPulled:
    """Download each import (caller holds the repository's lock); a failure is recorded and the
    others go on."""
    from labvault.workspace.safepath import guard_for

    done = ImportsPulled()
    guard = guard_for(repo)
    for t in imports:
        try:
            guard.check_output(t.rel, False)
            _pull_one(repo, t, jobs, force, progress, done)
        except (_Refused, LabvaultError, OSError) as exc:
            done.failed.append(f"{t.rel}: {exc}")
    return done


def _pull_one(repo: Repo, t: Tracked, jobs: int | None, force: bool, progress: Progress,
              done: ImportsPulled) -> None:
    spec = read_url_import(t.pointer.file)
    recorded = spec.recorded()
    update = f"`labvault update {t.pointer_rel}`"
    if recorded is None:
        raise _Refused(f"imported without a checksum (import-url --no-exec), so nothing can check a download: "
                       f"{update} imports it")
    where = spec.url if is_url(spec.url) else local_source(spec.url, t.pointer.file.parent)
    target = str(repo.abspath(t.rel))
    source = _Source(where, spec.fs_config)
    try:
        is_dir, files = source.listing()
        if not source.local and SourceState("etag", is_dir, tuple(files)).checksum() != recorded:
            raise _Refused(f"its source {spec.url} changed since it was recorded: {update} imports what it holds now")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with _staged(target, f"pulling {spec.url}", files, progress) as (staging, task):
            nbytes = _download(source, is_dir, files, staging, _jobs(source, jobs), task)
            stored = _store(repo, staging, is_dir, files)
            _still_same(source, (is_dir, files), spec.url)
            if source.local and SourceState("md5", is_dir, tuple(stored)).checksum() != recorded:
                raise _Refused(f"its source {spec.url} holds other content than was recorded: {update} imports "
                               "what it holds now")
            oid = Tree.from_pairs((r, o) for r, _, o in stored).oid() if is_dir else stored[0][2]
            if os.path.lexists(target):
                if _same_content(repo, t.rel, oid):
                    raise _Present
                if not force:
                    raise _Refused("it exists with other content: move it away, or pass --force to replace it")
            _swap(staging, target)
    except _Present:
        done.present.append(t.rel)
        return
    finally:
        source.close()
    done.written.append(t.rel)
    done.nbytes += nbytes
    done.oids.extend(o for _, _, o in stored)
    if is_dir:
        done.oids.append(oid)


class _Present(Exception):
    """The output is there already with the recorded content."""


def _same_content(repo: Repo, rel: str, oid: str) -> bool:
    from labvault.workspace.scan import Scanner

    content = Scanner(repo, store=False).scan(rel)
    return content is not None and content.oid == oid
