"""``.dvc`` pointer files: read them strictly, write them exactly as DVC 3.x does.

An output entry is written with its keys in DVC's order: ``md5, size, nfiles, isexec, hash, path``
followed by any other keys it already had (desc, cache, remote, ...). A 2.x entry (no ``hash:``)
stays legacy until its data is re-added, which rewrites it in the 3.x form.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from labvault.errors import PointerError
from labvault.fsutil import atomic_write_text
from labvault.workspace.safepath import output_problem

POINTER_SUFFIX = ".dvc"
_HASH_KEYS = ("md5", "size", "nfiles", "isexec", "hash", "path")


def in_order(doc: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """``doc`` with the keys of ``order`` first, in that order, then the others as they come: DVC
    rewrites its files in place, so keys keep their places and new ones go to the end."""
    out = {k: doc[k] for k in order if k in doc}
    out.update((k, v) for k, v in doc.items() if k not in out)
    return out


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
        return in_order(d, self.order) if self.order else d


@dataclass(frozen=True)
class Pointer:
    """A parsed ``.dvc`` file; ``file`` is its absolute path."""

    file: Path
    outs: tuple[Out, ...]
    extra: dict[str, Any] = field(default_factory=dict)
    keys: tuple[str, ...] = ()  # the file's top-level keys in their order, `outs` among them

    @property
    def folder(self) -> Path:
        return self.file.parent

    def out_abspath(self, out: Out) -> Path:
        return Path(os.path.normpath(self.folder / out.path))

    def with_outs(self, outs: tuple[Out, ...]) -> Pointer:
        return replace(self, outs=outs)


# The pointers labvault and DVC write, line by line: "outs:", then "- key: value" / "  key: value"
# with keys and values from this small, unambiguous set. Anything else goes to the YAML parser.
_FAST_LINE = re.compile(r"(- |  )(md5|size|nfiles|hash|path|isexec): (.*)")
_FAST_VALUE = {
    "md5": re.compile(r"[0-9a-f]{32}(\.dir)?"),
    "size": re.compile(r"0|[1-9][0-9]{0,18}"),
    "nfiles": re.compile(r"0|[1-9][0-9]{0,18}"),
    "hash": re.compile(r"md5"),
    "isexec": re.compile(r"true"),
    # a plain YAML string whatever the resolver: starts with a letter, safe characters only,
    # and not one of YAML 1.1's booleans or nulls (checked below)
    "path": re.compile(r"[A-Za-z][A-Za-z0-9_.\-/]*"),
}
_YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null"}


def _parse_fast(text: str) -> dict[str, Any] | None:
    """The mapping ``yaml.safe_load`` gives for a plain pointer, or None when the text is not one."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if not lines or lines[0] != "outs:" or len(lines) < 2:
        return None
    outs: list[dict[str, Any]] = []
    for line in lines[1:]:
        m = _FAST_LINE.fullmatch(line)
        if m is None:
            return None
        lead, key, value = m.groups()
        if not _FAST_VALUE[key].fullmatch(value) or (key == "path" and value.lower() in _YAML_WORDS):
            return None
        if key == "md5" and value.isdigit():  # YAML reads an all-digit md5 as a number
            return None
        if lead == "- ":
            outs.append({})
        elif not outs or key in outs[-1]:
            return None
        outs[-1][key] = int(value) if key in ("size", "nfiles") else True if key == "isexec" else value
    return {"outs": outs}


def _yaml_load(text: str) -> Any:
    """As DVC reads a ``.dvc`` file: YAML 1.2 (``path: yes`` is the name yes, ``path: 1:20`` is text)."""
    from labvault.core.yaml12 import load12

    return load12(text)


def parse_pointer(text: str, where: str) -> Pointer:
    data = _parse_fast(text)
    if data is None:
        import yaml

        try:
            data = _yaml_load(text)
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
        # `../x` is relative to the pointer's folder and may stay inside the repository (dvc reads
        # it so); where it ends is checked against the repository by `index.outputs_of`
        if posixpath.isabs(norm):
            raise PointerError(f"{where}: output path {path!r} leaves the repository", "outputs must be inside the repo")
        why = output_problem(norm)
        if why is not None:
            raise PointerError(f"{where}: output path {path!r} {why}", "the pointer is corrupt or hostile; fix or delete it")
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
    return Pointer(Path(where), tuple(outs), extra_top, tuple(data))


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
    """The file's text in DVC's layout: keys in the order the file had them (as DVC's round trip
    keeps them: an import's ``md5, frozen, deps, outs``), keys added since at the end; a new
    pointer: ``md5`` (if any), ``outs``, then the others."""
    doc: dict[str, Any] = {}
    if "outs" in pointer.keys:
        for key in pointer.keys:
            if key == "outs":
                doc["outs"] = [o.dump() for o in pointer.outs]
            elif key in pointer.extra:
                doc[key] = pointer.extra[key]
        for key, value in pointer.extra.items():
            doc.setdefault(key, value)
        from labvault.core.yaml12 import dump_dvcfile

        return dump_dvcfile(doc)
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
    from labvault.core.yaml12 import dump_dvcfile

    return dump_dvcfile(doc)


def write_pointer(pointer: Pointer) -> None:
    atomic_write_text(pointer.file, render_pointer(pointer))


def pointer_for(output: Path) -> Path:
    return output.with_name(output.name + POINTER_SUFFIX)
