"""What a ``StreamingDataset`` reads: its units (objects of a remote or cache) and how to reach them.

Two kinds of source:

* ``NAME@VERSION``: the folder ``NAME`` tracked by ``NAME.dvc`` in a repo (``repo=``, default the
  current one), as committed at git revision ``VERSION``. Its ``.dir`` manifest (from the cache,
  else the remote, checked against its md5) lists files and md5s; each file is a unit of one
  sample ``(relpath, bytes)``. Objects already in the repo's cache are read there in place (the
  cache is trusted as checkout trusts it); the others come from the repo's default remote (or
  ``remote=``), verified on download.
* a URL (``s3://``, ``gs://``, ``azure://``, a folder path or ``file://``) of a shard folder
  written by ``labvault convert --to shards``: its ``index.json`` lists the shards (see
  ``loaders/shards.py``); each shard is a unit of its records.

A ``Source`` is plain data (picklable): each process opens its own backend on first use.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from labvault.core.hashing import md5_bytes
from labvault.core.tree import Tree, is_dir_oid
from labvault.errors import ConfigError, LoaderError
from labvault.loaders.shards import INDEX, parse_index
from labvault.remotes.base import Backend
from labvault.remotes.registry import open_backend, split_url
from labvault.remotes.store import RemoteStore, key_of
from labvault.workspace.pointer import parse_pointer
from labvault.workspace.remotes import remote_url
from labvault.workspace.repo import open_repo


@dataclass(frozen=True)
class Unit:
    """One object to read: ``key`` on the backend (or ``local`` path), its md5, size, samples."""

    key: str
    md5: str
    size: int
    samples: int
    name: str  # the relpath of a file, or the shard's name
    local: str | None = None


@dataclass(frozen=True)
class Source:
    kind: str  # "files" (a tracked folder: a unit is one sample) or "shards"
    url: str
    options: Mapping[str, str] = field(default_factory=dict)
    units: tuple[Unit, ...] = ()
    describe: str = ""

    def open_backend(self) -> Backend:
        return open_backend(self.url, self.options)


def resolve_source(source: str, *, repo: str | os.PathLike[str] | None, remote: str | None,
                   options: Mapping[str, str] | None) -> Source:
    if "://" in source or "@" not in source:
        return _shard_source(source, dict(options or {}))
    return _tracked_source(source, repo, remote)


def _shard_source(url: str, options: dict[str, str]) -> Source:
    split_url(url, http=True)  # an unknown scheme is one clear line; an HTTP server serves shards too
    backend = open_backend(url, options)
    try:
        with tempfile.TemporaryDirectory(prefix="labvault-index-") as tmp:
            local = os.path.join(tmp, INDEX)
            try:
                backend.get_file(INDEX, local)
            except FileNotFoundError:
                raise LoaderError(f"no {INDEX} in {url}: not a shard folder",
                                  "write one with `labvault convert SRC --to shards -o OUT`") from None
            data = Path(local).read_bytes()
    finally:
        backend.close()
    shards = parse_index(data, f"{url}/{INDEX}")
    units = tuple(Unit(s.name, s.md5, s.size, s.samples, s.name) for s in shards)
    return Source("shards", url, options, units, url)


def _tracked_source(source: str, repo_path: str | os.PathLike[str] | None, remote: str | None) -> Source:
    name, _, version = source.rpartition("@")
    name = name.strip("/")
    if not name or not version:
        raise LoaderError(f"{source!r} is not NAME@VERSION", "e.g. data/images@v1.0 (a tracked folder at a git rev)")
    repo = open_repo(Path(repo_path) if repo_path is not None else None)
    git = repo.require_scm()
    rev = git.resolve(version)
    prefix = os.path.relpath(repo.root, git.root)
    pointer_path = f"{name}.dvc" if prefix == "." else f"{prefix}/{name}.dvc"
    text = git.read_files_at(rev, [pointer_path]).get(pointer_path)
    if text is None:
        raise LoaderError(f"{name} is not tracked at {version}: no {pointer_path} there",
                          "track the folder with `labvault add`, or check the name and version")
    pointer = parse_pointer(text.decode("utf-8", errors="replace"), f"{pointer_path}@{version}")
    outs = [o for o in pointer.outs if o.oid]
    if len(outs) != 1 or outs[0].oid is None or not is_dir_oid(outs[0].oid):
        raise LoaderError(f"{pointer_path}@{version} does not track one folder",
                          "stream a tracked folder, or read a single file with labvault.open")
    dir_oid = outs[0].oid
    odb = repo.odb
    rname: str | None = None
    url = ""
    options: dict[str, str] = {}
    try:
        rname, url = remote_url(repo, remote)
        options = {k: v for k, v in repo.config.values.get(f'remote "{rname}"', {}).items() if k != "url"}
    except ConfigError:  # no remote: every object must then be in the cache
        if remote is not None:
            raise
    where = f"{name}@{version}"
    manifest_path = odb.oid_path(dir_oid)
    if os.path.exists(manifest_path):
        data = Path(manifest_path).read_bytes()
    else:
        data = _fetch_manifest(url, options, dir_oid, where)
    tree = Tree.parse(data, f"the manifest of {where}")
    units: list[Unit] = []
    missing: list[tuple[str, str]] = []
    for rel, oid in tree:
        path = odb.oid_path(oid)
        try:
            units.append(Unit(key_of(oid), oid, os.stat(path).st_size, 1, rel, path))
        except FileNotFoundError:
            missing.append((rel, oid))
            units.append(Unit(key_of(oid), oid, -1, 1, rel))
    if missing:
        if not url:
            raise LoaderError(f"{len(missing)} files of {where} are not in the cache and the repo has no remote",
                              "run `labvault pull`, or add a remote with `labvault remote add`")
        store = RemoteStore(rname or "", open_backend(url, options), 16)
        try:
            sizes = store.sizes((oid, False) for _, oid in missing)
        finally:
            store.backend.close()
        absent = [rel for rel, oid in missing if (oid, False) not in sizes]
        if absent:
            raise LoaderError(f"{len(absent)} files of {where} are on neither the cache nor remote {rname!r} "
                              f"(first: {absent[0]})", "push them from a clone that has them")
        units = [u if u.size >= 0 else Unit(u.key, u.md5, sizes[(u.md5, False)], 1, u.name) for u in units]
    return Source("files", url, options, tuple(units), where)


def _fetch_manifest(url: str, options: dict[str, str], oid: str, where: str) -> bytes:
    if not url:
        raise LoaderError(f"the manifest of {where} is not in the cache and the repo has no remote",
                          "run `labvault pull`, or add a remote")
    backend = open_backend(url, options)
    try:
        with tempfile.TemporaryDirectory(prefix="labvault-dir-") as tmp:
            local = os.path.join(tmp, "m")
            try:
                backend.get_file(key_of(oid), local)
            except FileNotFoundError:
                raise LoaderError(f"the manifest of {where} is on neither the cache nor the remote",
                                  "push it from a clone that has it") from None
            data = Path(local).read_bytes()
    finally:
        backend.close()
    if md5_bytes(data) + ".dir" != oid:
        raise LoaderError(f"the manifest of {where} on the remote is corrupt", "push it again from a clone that has it")
    return data
