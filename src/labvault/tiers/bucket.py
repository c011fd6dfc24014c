"""A bucket tier's layout: content-addressed objects plus one manifest per unit.

Under the tier's URL (``s3://bucket/prefix``, ``gs://...``, ``azure://container/...``):

* ``files/md5/XX/REST``: every file of every unit, named by its md5 (DVC's remote layout, so
  a unit's files are shared with any other unit, or spilled cache, holding the same bytes);
* ``AREA/NAME.lvunit.json``: the unit's manifest (see :class:`Manifest`), always written in the
  bucket's default class (never an archive class) so that ``where`` and ``promote`` can read it
  without a restore. The placement's location is this manifest's URL.

A manifest is untrusted input when read back: relpaths must be relative and stay inside the
unit, md5s 32 hex digits, sizes and modes integers.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import stat
from dataclasses import dataclass

from labvault.errors import ManifestError, StorageError
from labvault.remotes.base import Backend
from labvault.tiers.lab import Tier

MANIFEST_SUFFIX = ".lvunit.json"
_MD5 = re.compile(r"^[0-9a-f]{32}$")


def object_key(md5: str) -> str:
    return f"files/md5/{md5[:2]}/{md5[2:]}"


def unit_location(tier: Tier, area: str, name: str) -> str:
    return f"{str(tier.url).rstrip('/')}/{area}/{name}{MANIFEST_SUFFIX}"


def manifest_key(tier: Tier, location: str) -> str:
    """The manifest's key relative to the tier's URL (``AREA/NAME.lvunit.json``)."""
    root = str(tier.url).rstrip("/") + "/"
    if not location.startswith(root) or not location.endswith(MANIFEST_SUFFIX):
        raise StorageError(f"{location} is not a unit manifest of tier {tier.name} ({tier.url})",
                           "check the tier's url in the lab config")
    return location[len(root):]


def area_and_name(tier: Tier, location: str) -> tuple[str, str]:
    """(area, unit name) of a placement on a bucket tier."""
    key = manifest_key(tier, location)
    area, _, name = key.partition("/")
    return area, name[: -len(MANIFEST_SUFFIX)]


def is_url(location: str) -> bool:
    return "://" in location


@dataclass(frozen=True)
class FileEntry:
    relpath: str  # posix, "" for a file unit
    md5: str
    size: int
    mode: int
    mtime_ns: int


@dataclass(frozen=True)
class Manifest:
    """A unit as stored on a bucket tier: enough to rebuild it exactly (files with their mode and
    mtime, folders, symlinks inside it) and to check it against the catalog's content hash."""

    content_hash: str
    is_dir: bool
    files: tuple[FileEntry, ...]
    dirs: tuple[tuple[str, int, int], ...] = ()  # relpath ("" the top), mode, mtime_ns
    links: tuple[tuple[str, str], ...] = ()  # relpath, target
    storage_class: str | None = None

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def objects(self) -> dict[str, int]:
        """md5 -> size of the distinct objects the unit uses."""
        return {f.md5: f.size for f in self.files}

    def to_json(self) -> bytes:
        doc = {"version": 1, "content_hash": self.content_hash, "is_dir": self.is_dir,
               "storage_class": self.storage_class,
               "files": [[f.relpath, f.md5, f.size, f.mode, f.mtime_ns] for f in self.files],
               "dirs": [list(d) for d in self.dirs], "links": [list(x) for x in self.links]}
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes, where: str) -> Manifest:
        def err(why: str) -> ManifestError:
            return ManifestError(f"{where}: bad unit manifest: {why}",
                                 "the tier's copy cannot be trusted; restore the unit from another copy")

        try:
            return cls._parse(data)
        except _Bad as exc:
            raise err(str(exc)) from None
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise err(str(exc) or type(exc).__name__) from None

    @classmethod
    def _parse(cls, data: bytes) -> Manifest:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("version") != 1:
            raise _Bad("not a version 1 manifest")
        is_dir = doc["is_dir"]
        if not isinstance(doc["content_hash"], str) or not isinstance(is_dir, bool):
            raise _Bad("content_hash or is_dir has the wrong type")
        files = tuple(FileEntry(_rel(r, is_dir), _md5(m), _nat(s), _nat(mo), _nat(t))
                      for r, m, s, mo, t in doc["files"])
        dirs = tuple((_rel(r, True, top=True), _nat(mo), _nat(t)) for r, mo, t in doc["dirs"])
        links = tuple((_rel(r, True), str(t)) for r, t in doc["links"])
        if not is_dir and (len(files) != 1 or dirs or links):
            raise _Bad("a file unit holds exactly one file")
        sclass = doc.get("storage_class")
        return cls(doc["content_hash"], is_dir, files, dirs, links, sclass if isinstance(sclass, str) else None)


class _Bad(ValueError):
    pass


def _rel(value: object, is_dir: bool, top: bool = False) -> str:
    if not isinstance(value, str):
        raise _Bad("a relpath is not a string")
    if not is_dir:
        if value != "":
            raise _Bad("a file unit's relpath must be empty")
        return value
    if value == "" and top:
        return value
    norm = posixpath.normpath(value)
    if (not value or value.startswith("/") or norm != value or norm == ".." or norm.startswith("../")
            or "\0" in value):
        raise _Bad(f"unsafe relpath {value!r}")
    return value


def _md5(value: object) -> str:
    if not isinstance(value, str) or not _MD5.match(value):
        raise _Bad(f"bad md5 {value!r}")
    return value


def _nat(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _Bad(f"expected a non-negative integer, got {value!r}")
    return value


def read_manifest(backend: Backend, key: str) -> Manifest:
    """The manifest at ``key``; FileNotFoundError when absent."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".lvunit-", suffix=".lvtmp")
    os.close(fd)
    try:
        os.unlink(tmp)
        backend.get_file(key, tmp)
        with open(tmp, "rb") as f:
            data = f.read(64 << 20)
    finally:
        if os.path.lexists(tmp):
            os.chmod(tmp, stat.S_IWUSR | stat.S_IRUSR)
            os.unlink(tmp)
    return Manifest.from_json(data, backend.describe(key))


def write_manifest(backend: Backend, key: str, manifest: Manifest) -> None:
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".lvunit-", suffix=".lvtmp")
    try:
        os.write(fd, manifest.to_json())
        os.close(fd)
        backend.put_file(tmp, key)
    finally:
        os.unlink(tmp)
