"""``fetch``, ``checkout`` and ``pull`` of URL imports recorded without their data (``import-url
--no-download``), as dvc handles them: ``fetch`` downloads each from its source into the cache,
only while the source still holds what the pointer records (its checksum, compared before the
download and the bytes or ETags compared again after); ``checkout`` then places it from the cache,
offline, under checkout's usual rules; ``pull`` does both. The pointer is not rewritten, as dvc
leaves it; ``update`` records the output's hash. An import recorded with no checksum
(``--no-exec``) cannot be checked against anything: fetch and checkout report it failed and name
``update``, as dvc fails its checkout.

Imports from another repository recorded the same way (``import --no-download``: the locked
commit, no output hash) are fetched too: what the path held at that commit, from that
repository's cache or remote, each file checked against the oid its pointers give.

Which cache object an import's recorded checksum stands for (the pointer names none):

* a local source: the recorded md5 itself. dvc records a local file's md5 and a local folder's
  manifest md5 (``….dir``), which are the 3.x cache's object ids, so nothing needs remembering and
  every clone sharing the cache sees the object.
* object storage (the checksum is an ETag, or a folder's md5 over ETags): the object the last
  verified download gave, remembered in ``.dvc/tmp/labvault/url-imports.json`` by (URL, checksum).
  That file is written only by this module after the download was checked, it lives in the
  uncommitted ``tmp`` folder (a clone cannot bring one), and an entry whose object is no longer
  complete in the cache counts as unknown (fetched again).
* another repository: the object its pointers named at the locked commit, remembered the same
  way by (URL, commit, path); a commit never changes, so the entry stays true.

Why a source outside the repository may be read here when ``update`` refuses one unnamed: what
fetch stores is only content whose checksum the repository committed, so a hostile pointer naming
``~/.ssh/id_rsa`` brings nothing new into the cache (it would need that file's md5); ``update``
writes whatever the source holds now.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace

from labvault.api.import_url import _store
from labvault.api.url_source import _download, _jobs, _Source, _staged, _still_same
from labvault.core.hashing import md5_file
from labvault.core.tree import OID, Tree
from labvault.errors import CacheError, LabvaultError, PathError
from labvault.fsutil import atomic_write_text, is_exact_tmp_name, tmp_owner_alive
from labvault.progress import Progress
from labvault.workspace.download import remove_staging, staging_name
from labvault.workspace.imports import ImportSpec, read_import
from labvault.workspace.index import Tracked, select, workspace_outputs
from labvault.workspace.repo import Repo
from labvault.workspace.url_imports import (
    SourceState,
    UrlImport,
    is_url,
    local_source,
    read_url_import,
)

MEMO = "url-imports.json"


@dataclass
class ImportsFetched:
    fetched: list[str] = field(default_factory=list)  # outputs downloaded into the cache
    present: list[str] = field(default_factory=list)  # their objects were in the cache already
    nbytes: int = 0
    oids: list[str] = field(default_factory=list)  # cache objects written (files and manifests)
    failed: list[str] = field(default_factory=list)  # one line each: the output and why
    failed_paths: list[str] = field(default_factory=list)  # those outputs


def recorded_imports(repo: Repo, targets: list[str] | None, outputs: list[Tracked] | None = None) -> list[Tracked]:
    """The chosen outputs that are URL imports without a recorded hash (not downloaded);
    ``outputs``: the workspace's, when the caller listed them already."""
    imports = [t for t in (workspace_outputs(repo) if outputs is None else outputs)
               if t.out.oid is None and t.pointer.extra.get("deps")]
    if not imports or not targets:
        return imports
    wanted: list[Tracked] = []
    for target in targets:
        try:
            wanted.extend(t for t in select(imports, repo, [target]) if t not in wanted)
        except PathError:
            continue  # not an import: the command's own selection of outputs judges the target
    return wanted


class _Refused(Exception):
    """This import is not fetched; the message says why and what to do."""


def _memo_path(repo: Repo) -> str:
    return str(repo.tmp_dir / "labvault" / MEMO)


def _read_memo(repo: Repo) -> dict[str, str]:
    try:
        with open(_memo_path(repo), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: every entry is simply unknown (fetched again)
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str) and OID.fullmatch(v)}


def _memo_key(spec: UrlImport, recorded: tuple[str, str]) -> str:
    return json.dumps([spec.url, recorded[0], recorded[1]])


def _repo_key(spec: ImportSpec) -> str:
    return json.dumps(["repo", spec.url, spec.rev_lock, spec.path])


Spec = UrlImport | ImportSpec


def _read_spec(t: Tracked) -> Spec:
    """What the import's pointer says: a URL import, or an import from a repository (``deps:
    repo:``, as ``import --no-download`` writes it)."""
    deps = t.pointer.extra.get("deps")
    if isinstance(deps, list) and deps and isinstance(deps[0], dict) and "repo" in deps[0]:
        return read_import(t.pointer.file)
    return read_url_import(t.pointer.file)


def _known_oid(repo: Repo, spec: Spec, memo: dict[str, str]) -> str | None:
    """The cache object the import's recorded checksum (or locked revision) stands for, if
    known (see the module's docstring); None for an import without one."""
    if isinstance(spec, ImportSpec):
        return memo.get(_repo_key(spec)) if spec.rev_lock else None
    recorded = spec.recorded()
    if recorded is None:
        return None
    if not is_url(spec.url):
        return recorded[1] if recorded[0] == "md5" and OID.fullmatch(recorded[1]) else None
    return memo.get(_memo_key(spec, recorded))


def _complete(repo: Repo, oid: str) -> bool:
    """The object, and for a folder its manifest and every file it names, is in the cache."""
    odb = repo.odb
    if not odb.exists(oid):
        return False
    if not oid.endswith(".dir"):
        return True
    try:
        tree = odb.load_tree(oid)
    except CacheError:
        return False
    return all(odb.exists(o) for _, o in tree)


def resolve_imports(repo: Repo, imports: list[Tracked]) -> tuple[list[Tracked], list[str]]:
    """For checkout: the imports whose object is known, as outputs naming it (checkout places
    them, or reports them missing from the cache), and the paths of the others that are not in
    the workspace (they cannot be placed: never fetched, or recorded without a checksum). One
    whose object is unknown but whose path exists (placed by another tool) is left as it is."""
    memo = _read_memo(repo)
    placed, missing = [], []
    for t in imports:
        try:
            oid = _known_oid(repo, _read_spec(t), memo)
        except LabvaultError:
            oid = None
        if oid is not None:
            outs = list(t.pointer.outs)
            outs[t.index] = replace(t.out, oid=oid)
            placed.append(Tracked(t.pointer.with_outs(tuple(outs)), t.index, t.rel, t.pointer_rel))
        elif not os.path.lexists(repo.abspath(t.rel)):
            missing.append(t.rel)
    return placed, missing


def fetch_imports(repo: Repo, imports: list[Tracked], jobs: int | None, progress: Progress) -> ImportsFetched:
    """Download each import whose object the cache lacks (caller holds the repository's lock);
    a failure is recorded and the others go on. Nothing in the workspace changes."""
    done = ImportsFetched()
    folder = os.path.dirname(_memo_path(repo))
    os.makedirs(folder, exist_ok=True)
    _remove_leftovers(folder)
    memo = _read_memo(repo)
    for t in imports:
        try:
            _fetch_one(repo, t, jobs, progress, memo, done)
        except (_Refused, LabvaultError, OSError) as exc:
            done.failed.append(f"{t.rel}: {exc}")
            done.failed_paths.append(t.rel)
    return done


def _hashed(staging: str, is_dir: bool, files: list[tuple[str, int, str]]) -> SourceState:
    return SourceState("md5", is_dir, tuple(
        (rel, size, md5_file(os.path.join(staging, *rel.split("/")) if rel else staging)) for rel, size, _ in files))


def _remove_leftovers(folder: str) -> None:
    """Staging files or folders a killed fetch left."""
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if is_exact_tmp_name(name) and not tmp_owner_alive(name, path):
            remove_staging(path)


def _fetch_one(repo: Repo, t: Tracked, jobs: int | None, progress: Progress, memo: dict[str, str],
               done: ImportsFetched) -> None:
    found_spec = _read_spec(t)
    if isinstance(found_spec, ImportSpec):
        _fetch_from_repo(repo, t, found_spec, jobs, progress, memo, done)
        return
    spec = found_spec
    recorded = spec.recorded()
    update = f"`labvault update {t.pointer_rel}`"
    if recorded is None:
        raise _Refused(f"imported without a checksum (import-url --no-exec), so nothing can check a download: "
                       f"{update} imports it")
    known = _known_oid(repo, spec, memo)
    if known is not None and _complete(repo, known):
        done.present.append(t.rel)
        return
    where = spec.url if is_url(spec.url) else local_source(spec.url, t.pointer.file.parent)
    source = _Source(where, spec.fs_config)
    try:
        is_dir, files = source.listing()
        if not source.local and SourceState(source.kind, is_dir, tuple(files)).checksum() != recorded:
            raise _Refused(f"its source {spec.url} changed since it was recorded: {update} imports what it holds now")
        target = os.path.join(os.path.dirname(_memo_path(repo)), "download")
        with _staged(target, f"fetching {spec.url}", files, progress) as (staging, task):
            nbytes = _download(source, is_dir, files, staging, _jobs(source, jobs), task)
            if source.local and _hashed(staging, is_dir, files).checksum() != recorded:
                # checked before anything enters the cache: a pointer naming someone's private
                # file must not get a copy of it stored
                raise _Refused(f"its source {spec.url} holds other content than was recorded: {update} imports "
                               "what it holds now")
            stored = _store(repo, staging, is_dir, files)
            _still_same(source, (is_dir, files), spec.url)
            remove_staging(staging)
    finally:
        source.close()
    oid = Tree.from_pairs((r, o) for r, _, o in stored).oid() if is_dir else stored[0][2]
    if source.local:
        if oid != recorded[1]:  # the checksum a local import records is its object's id
            raise _Refused(f"its source {spec.url} was stored as {oid}, not as the recorded {recorded[1]}: "
                           f"{update} records it anew")
    else:
        memo[_memo_key(spec, recorded)] = oid
        atomic_write_text(_memo_path(repo), json.dumps(memo, indent=0, sort_keys=True) + "\n", fsync=repo.fsync)
    done.fetched.append(t.rel)
    done.nbytes += nbytes
    done.oids.extend(o for _, _, o in stored)
    if is_dir:
        done.oids.append(oid)


def _fetch_from_repo(repo: Repo, t: Tracked, spec: ImportSpec, jobs: int | None, progress: Progress,
                     memo: dict[str, str], done: ImportsFetched) -> None:
    """An import from another repository recorded without its data: what ``path`` held at the
    locked commit, from that repository's cache or remote, each file checked against its oid;
    the object is then remembered by (URL, commit, path), which a commit fixes for good."""
    from labvault.api.get import source_url, stage_and_store
    from labvault.workspace.locate import locate
    from labvault.workspace.source import open_source

    if not spec.rev_lock:
        raise _Refused(f"imported without a locked revision: `labvault update {t.pointer_rel}` imports it")
    known = memo.get(_repo_key(spec))
    if known is not None and _complete(repo, known):
        done.present.append(t.rel)
        return
    remote = spec.extra_repo.get("remote")
    with open_source(source_url(repo, spec.url), spec.rev_lock, workspace=False) as source:
        places = source.places(remote if isinstance(remote, str) and remote else None, jobs)
        try:
            found = locate(source, spec.path, places)
            if found.legacy:
                raise _Refused(f"{spec.path} is recorded in DVC 2.x's format at {spec.rev_lock[:10]}: "
                               f"`labvault update {t.pointer_rel}` imports it again")
            staging = staging_name(os.path.join(os.path.dirname(_memo_path(repo)), "download"))
            try:
                nbytes = stage_and_store(repo, t.rel, found, places, staging, jobs or repo.jobs, progress)
            finally:
                remove_staging(staging)
        finally:
            places.close()
    memo[_repo_key(spec)] = found.oid
    atomic_write_text(_memo_path(repo), json.dumps(memo, indent=0, sort_keys=True) + "\n", fsync=repo.fsync)
    done.fetched.append(t.rel)
    done.nbytes += nbytes
    done.oids.extend(o for _, o in found.files)
    if found.is_dir:
        done.oids.append(found.oid)
