"""``.dvc`` pointer files: read them strictly, write them exactly as DVC 3.x does.

An output entry is written with its keys in DVC's order: ``md5, size, nfiles, isexec, hash, path``
followed by any other keys it already had (desc, cache, remote, ...). A 2.x entry (no ``hash:``)
stays legacy until its data is re-added, which rewrites it in the 3.x form.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from labvault.errors import PointerError
from labvault.fsutil import atomic_write_text

try:  # the C loader and dumper are much faster; fall back when libyaml is missing
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

POINTER_SUFFIX = ".dvc"
_HASH_KEYS = ("md5", "size", "nfiles", "isexec", "hash", "path")


@dataclass(frozen=True)
class Out:
    """One output of a pointer file; ``path`` is relative to the pointer's folder, POSIX style."""

    path: str
    oid: str | None = None
    size: int | None = None
    nfiles: int | None = None
    isexec: bool = False
    legacy: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    order: tuple[str, ...] = ()  # key order read from disk; DVC keeps it and appends new keys

    @property
    def is_dir(self) -> bool:
        return bool(self.oid and self.oid.endswith(".dir"))

    @property
    def use_cache(self) -> bool:
        return self.extra.get("cache", True) is not False

    def with_content(self, oid: str, size: int, nfiles: int | None, isexec: bool = False) -> Out:
        return replace(self, oid=oid, size=size, nfiles=nfiles, isexec=isexec, legacy=False)

    def dump(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.oid is not None:
            d["md5"] = self.oid
        if self.size is not None:
            d["size"] = self.size
        if self.nfiles is not None:
            d["nfiles"] = self.nfiles
        if self.isexec:
            d["isexec"] = True
        if not self.legacy:
            d["hash"] = "md5"
        d["path"] = self.path
        d.update(self.extra)
        if not self.order:
            return d
        ordered = {k: d[k] for k in self.order if k in d}
        ordered.update((k, v) for k, v in d.items() if k not in ordered)
        return ordered


@dataclass(frozen=True)
class Pointer:
    """A parsed ``.dvc`` file; ``file`` is its absolute path."""

    file: Path
    outs: tuple[Out, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.file.parent

    def out_abspath(self, out: Out) -> Path:
        return Path(os.path.normpath(self.folder / out.path))

    def with_outs(self, outs: tuple[Out, ...]) -> Pointer:
        return replace(self, outs=outs)


def parse_pointer(text: str, where: str) -> Pointer:
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise PointerError(f"{where} is not valid YAML{at}", "fix the file or restore it with `git checkout`") from None
    if not isinstance(data, dict):
        raise PointerError(f"{where} is not a DVC pointer file (expected a mapping with `outs`)", "fix or delete it")
    outs_raw = data.get("outs")
    if not isinstance(outs_raw, list) or not outs_raw:
        raise PointerError(f"{where} has no `outs` list", "fix the file or restore it with `git checkout`")
    outs: list[Out] = []
    for i, item in enumerate(outs_raw):
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not item["path"]:
            raise PointerError(f"{where}: output #{i + 1} has no `path`", "each output needs `path: <relative path>`")
        path = item["path"]
        norm = posixpath.normpath(path)
        if posixpath.isabs(norm) or norm.startswith("../") or norm == "..":
            raise PointerError(f"{where}: output path {path!r} leaves the repository", "outputs must be inside the repo")
        md5 = item.get("md5")
        if md5 is not None and (not isinstance(md5, str) or not _is_oid(md5)):
            raise PointerError(f"{where}: output {path!r} has a malformed md5 {md5!r}")
        hash_name = item.get("hash")
        if hash_name not in (None, "md5"):
            raise PointerError(f"{where}: output {path!r} uses hash {hash_name!r}", "labvault reads md5 pointers only")
        size = item.get("size")
        nfiles = item.get("nfiles")
        if size is not None and (not isinstance(size, int) or size < 0):
            raise PointerError(f"{where}: output {path!r} has a malformed size {size!r}")
        if nfiles is not None and (not isinstance(nfiles, int) or nfiles < 0):
            raise PointerError(f"{where}: output {path!r} has a malformed nfiles {nfiles!r}")
        extra = {k: v for k, v in item.items() if k not in _HASH_KEYS}
        outs.append(
            Out(
                path=norm,
                oid=md5,
                size=size,
                nfiles=nfiles,
                isexec=bool(item.get("isexec", False)),
                legacy=hash_name is None and md5 is not None,
                extra=extra,
                order=tuple(item),
            )
        )
    extra_top = {k: v for k, v in data.items() if k != "outs"}
    return Pointer(Path(where), tuple(outs), extra_top)


def _is_oid(value: str) -> bool:
    body = value[:-4] if value.endswith(".dir") else value
    return len(body) == 32 and all(c in "0123456789abcdef" for c in body)


def load_pointer(file: Path) -> Pointer:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PointerError(f"pointer file {file} does not exist") from None
    except UnicodeDecodeError:
        raise PointerError(f"{file} is not UTF-8 text", "fix the file or restore it with `git checkout`") from None
    except OSError as exc:
        raise PointerError(f"cannot read {file}: {exc.strerror}") from None
    p = parse_pointer(text, str(file))
    return replace(p, file=file)


def render_pointer(pointer: Pointer) -> str:
    doc: dict[str, Any] = {}
    placed = False
    for key, value in pointer.extra.items():
        if key == "md5" and not placed:
            doc[key] = value
            continue
        if not placed:
            doc["outs"] = [o.dump() for o in pointer.outs]
            placed = True
        doc[key] = value
    if not placed:
        doc["outs"] = [o.dump() for o in pointer.outs]
    text: str = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1 << 30)
    return text


def write_pointer(pointer: Pointer) -> None:
    atomic_write_text(pointer.file, render_pointer(pointer))


def pointer_for(output: Path) -> Path:
    return output.with_name(output.name + POINTER_SUFFIX)
