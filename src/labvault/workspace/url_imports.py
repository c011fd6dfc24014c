"""URL imports: the ``.dvc`` file ``import-url`` writes and ``update`` rewrites, exactly as dvc 3.x.

::

    md5: dfa480354618f037f499218bcb0b7218        # the stage's md5 (see workspace/imports.py)
    frozen: true
    deps:
    - etag: b1946ac92492d2347c6235b4d2611184      # the source's checksum when it was downloaded
      size: 6
      hash: md5
      path: s3://bucket/f.txt                     # as the user gave it
      fs_config:                                  # only when given: the storage options
        endpointurl: http://127.0.0.1:9000
    outs:
    - md5: b1946ac92492d2347c6235b4d2611184
      size: 6
      hash: md5
      path: f.txt

The source's checksum is what the storage itself reports, so that ``update`` can tell a changed
source without downloading it: a local file's md5 (``md5:``), an object's ETag without its quotes
(``etag:``; S3, GCS and Azure alike), and for an http(s) URL (one file) what dvc records there
(``checksum:``; see ``remotes.http.dvc_checksum``). A folder's is one ``.dir`` value with ``nfiles``: the md5 of
``json.dumps([{"etag": E, "relpath": R}, ...], sort_keys=True)`` with entries sorted by relpath
(``md5`` entries for a local folder, which makes it the folder's own manifest oid), written
``md5: <hex>.dir`` in both cases, as dvc does.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labvault.core.hashing import md5_bytes
from labvault.core.yaml12 import dump_dvcfile
from labvault.errors import PointerError
from labvault.fsutil import atomic_write_text
from labvault.workspace.imports import stage_md5
from labvault.workspace.pointer import Out, in_order, load_pointer

CHECKSUM_KEYS = ("md5", "etag", "checksum")
URL_SCHEMES = ("s3://", "gs://", "azure://", "http://", "https://")
HTTP_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class SourceState:
    """What an import's source is now: its files as (relpath, size, checksum), relpath ``""``
    for a single file; ``kind`` is the checksum's name (``md5`` locally, ``etag`` in storage,
    ``checksum`` over HTTP)."""

    kind: str
    is_dir: bool
    files: tuple[tuple[str, int, str], ...]

    def checksum(self) -> tuple[str, str]:
        """(key, value) as written in ``deps``."""
        if not self.is_dir:
            return self.kind, self.files[0][2]
        entries = [{self.kind: c, "relpath": rel} for rel, _, c in sorted(self.files)]
        return "md5", md5_bytes(json.dumps(entries, sort_keys=True).encode("utf-8")) + ".dir"

    def dep(self, path: str, fs_config: dict[str, Any]) -> dict[str, Any]:
        key, value = self.checksum()
        dep: dict[str, Any] = {key: value, "size": sum(s for _, s, _ in self.files)}
        if self.is_dir:
            dep["nfiles"] = len(self.files)
        dep["hash"] = "md5"
        dep["path"] = path
        if fs_config:
            dep["fs_config"] = dict(fs_config)
        return dep


@dataclass(frozen=True)
class UrlImport:
    """What a URL import's ``.dvc`` file says."""

    file: Path
    url: str  # as recorded: a URL, or a local path (relative to the file's folder)
    fs_config: dict[str, Any]
    dep: dict[str, Any]
    out: Out
    keys: tuple[str, ...] = ()  # the file's top-level keys, in their order
    frozen: Any = None  # its `frozen` value (None: no such key; `unfreeze` removes it)

    def recorded(self) -> tuple[str, str] | None:
        """The source's checksum when it was last downloaded, or None (``--no-exec``-style)."""
        for key in CHECKSUM_KEYS:
            value = self.dep.get(key)
            if isinstance(value, str) and value:
                return key, value
        return None


def is_url(path: str) -> bool:
    return path.startswith(URL_SCHEMES)


def is_http(path: str) -> bool:
    return path.startswith(HTTP_SCHEMES)


Layout = tuple[tuple[str, ...], tuple[str, ...]]  # a file's top-level keys and its dep's keys, in order


def render_url_import(dep: dict[str, Any], out: Out, with_md5: bool = True, layout: Layout | None = None,
                      frozen: Any = True) -> str:
    """The file's text; without ``with_md5`` no stage md5 (dvc writes none for ``--no-exec``);
    ``layout``: the key order of the file this one replaces (the output's is in ``out.order``);
    ``frozen``: its value (a new import's is true; an update keeps the file's, and None, after
    ``unfreeze``, writes no key, as dvc's update does)."""
    if layout is not None:
        dep = in_order(dep, layout[1])
    deps, outs = [dep], [out.dump()]
    doc: dict[str, Any] = {"md5": stage_md5(deps, outs)} if with_md5 else {}
    if frozen is not None:
        doc["frozen"] = frozen
    doc.update({"deps": deps, "outs": outs})
    return dump_dvcfile(in_order(doc, layout[0]) if layout is not None else doc)


def write_url_import(file: Path, dep: dict[str, Any], out: Out, stage_md5: bool = True,
                     layout: Layout | None = None, frozen: Any = True) -> None:
    atomic_write_text(file, render_url_import(dep, out, stage_md5, layout, frozen))


def read_url_import(file: Path) -> UrlImport:
    """The URL import in ``file``; PointerError when it is none (a plain pointer, a repo import)."""
    pointer = load_pointer(file)
    deps = pointer.extra.get("deps")
    dep = deps[0] if isinstance(deps, list) and len(deps) == 1 and isinstance(deps[0], dict) else None
    if dep is None or "repo" in dep or "db" in dep:
        raise PointerError(f"{file} is not a URL import (no single `deps` entry with a `path`)",
                           "update works on files written by `import`, `import-url` or their dvc counterparts")
    path = dep.get("path")
    if not isinstance(path, str) or not path:
        raise PointerError(f"{file}: the import's `deps` entry lacks a `path`", "fix the file or import again")
    if "://" in path and not is_url(path):
        raise PointerError(f"{file}: the import's source {path} is not a local path or an s3://, gs://, azure://, "
                           "http(s):// URL",
                           "labvault reads those; update this import with dvc")
    config = dep.get("fs_config") or {}
    if not isinstance(config, dict) or not all(isinstance(v, (str, int, float, bool)) for v in config.values()):
        raise PointerError(f"{file}: the import's `fs_config` must map option names to values",
                           "fix the file or import again")
    if len(pointer.outs) != 1:
        raise PointerError(f"{file}: an import has exactly one output", "fix the file or import again")
    return UrlImport(file, path, {str(k): v for k, v in config.items()}, dict(dep), pointer.outs[0], pointer.keys,
                     pointer.extra.get("frozen"))


def local_source(recorded: str, pointer_dir: Path) -> str:
    """A recorded local source as an absolute path (relative ones are relative to the pointer's
    folder, where dvc resolves them)."""
    path = os.path.expanduser(recorded)
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(pointer_dir, path))
