"""``.dir`` manifests: the canonical JSON DVC hashes to name a directory.

The bytes are ``json.dumps([{"md5": oid, "relpath": "a/b"}, ...], sort_keys=True)`` with entries
sorted by relpath as text, ASCII-escaped; the directory's oid is the md5 of those bytes plus ``.dir``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from labvault.core.hashing import md5_bytes
from labvault.errors import ManifestError

DIR_SUFFIX = ".dir"
_MD5 = re.compile(r"[0-9a-f]{32}\Z")
OID = re.compile(r"[0-9a-f]{32}(\.dir)?")  # an object id as DVC 3.x names it (use fullmatch)


def is_dir_oid(oid: str) -> bool:
    return oid.endswith(DIR_SUFFIX)


def check_relpath(relpath: str) -> None:
    """Refuse a relpath that could escape the directory it belongs to."""
    if not relpath or "\x00" in relpath:
        raise ManifestError(f"manifest entry {relpath!r} is empty or holds a NUL byte")
    if relpath.startswith("/"):
        raise ManifestError(f"manifest entry {relpath!r} is an absolute path", "the manifest is corrupt or hostile")
    parts = relpath.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise ManifestError(
                f"manifest entry {relpath!r} escapes its directory or is not normalized",
                "the manifest is corrupt or hostile; it will not be checked out",
            )
        if part in (".git", ".dvc"):
            raise ManifestError(
                f"manifest entry {relpath!r} lies in a {part} folder (or is one), which no walk records",
                "the manifest is corrupt or hostile; it will not be checked out",
            )
    if parts[-1] == ".dvcignore":
        raise ManifestError(
            f"manifest entry {relpath!r} is a .dvcignore, which a tracked folder may not hold",
            "the manifest is corrupt or hostile; it will not be checked out",
        )


def manifest_text(data: bytes, where: str = "manifest") -> str:
    """The text ``json.loads`` would parse from manifest bytes: decoding first lets the bytes go
    before parsing (``Tree.parse`` of the text), one copy fewer at the peak."""
    try:
        return data.decode(json.detect_encoding(data), "surrogatepass")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{where} is not valid JSON ({exc})", "the object is corrupt; run `labvault verify`") from None


def manifest_bytes(pairs: Iterable[tuple[str, str]]) -> bytes:
    """The canonical manifest of (relpath, oid) pairs given in relpath order: what
    ``json.dumps([{"md5": oid, "relpath": rel}, ...], sort_keys=True)`` gives, written a few
    thousand entries at a time, with no dict per entry (a million files stay cheap)."""
    quote = encode_basestring_ascii
    out = bytearray(b"[")
    chunk: list[str] = []
    for rel, oid in pairs:
        chunk.append(f'{{"md5": {quote(oid)}, "relpath": {quote(rel)}}}')
        if len(chunk) == 8192:
            if len(out) > 1:
                out += b", "
            out += ", ".join(chunk).encode("ascii")
            chunk.clear()
    if chunk:
        if len(out) > 1:
            out += b", "
        out += ", ".join(chunk).encode("ascii")
    out += b"]"
    return bytes(out)


@dataclass(frozen=True)
class Tree:
    """A directory's content: (relpath, oid) pairs sorted by relpath."""

    entries: tuple[tuple[str, str], ...]

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Tree:
        return cls(tuple(sorted(pairs)))

    @functools.cached_property
    def _bytes(self) -> bytes:
        return manifest_bytes(self.entries)

    def to_bytes(self) -> bytes:
        return self._bytes

    def oid(self) -> str:
        return md5_bytes(self._bytes) + DIR_SUFFIX

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.entries)

    def as_dict(self) -> dict[str, str]:
        return dict(self.entries)

    @classmethod
    def parse(cls, data: bytes | str, where: str = "manifest") -> Tree:
        """Parse and validate manifest bytes (or their text): every relpath must stay inside the
        directory. Peak memory: the text, the pairs, and one list of them (a million-entry manifest
        never exists as a million dicts, nor as several lists)."""
        try:
            # Each entry becomes its (relpath, md5) pair as soon as it is parsed.
            raw = json.loads(data, object_hook=_entry_pair)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ManifestError(f"{where} is not valid JSON ({exc})", "the object is corrupt; run `labvault verify`") from None
        if not isinstance(raw, list):
            raise ManifestError(f"{where} is not a JSON list", "the object is corrupt; run `labvault verify`")
        is_md5 = _MD5.match
        for item in raw:
            if item is _NO_PAIR or not isinstance(item, tuple):
                raise ManifestError(f"{where} has an entry without a string relpath and md5")
            rel, oid = item
            # fast acceptance of the ordinary case; anything unusual gets the precise check
            wrapped = f"/{rel}/"
            if (
                not rel or "//" in wrapped or "/./" in wrapped or "/../" in wrapped or "\x00" in rel
                or "/.git/" in wrapped or "/.dvc/" in wrapped or wrapped.endswith("/.dvcignore/")
            ):
                check_relpath(rel)
            if not is_md5(oid):
                raise ManifestError(f"{where}: entry {rel!r} has a malformed md5 {oid!r}")
        raw.sort()  # in place (a manifest is already sorted: one pass)
        tree = cls(tuple(raw))
        del raw
        _check_no_prefix_conflicts(tree, where)
        return tree


# Stands for an object without a string relpath and md5; compared by identity (made at run time,
# so no parsed entry can be this very tuple).
_NO_PAIR: tuple[str, str] = tuple(["", ""])  # type: ignore[assignment]


def _entry_pair(obj: dict[str, Any]) -> tuple[str, str]:
    rel, oid = obj.get("relpath"), obj.get("md5")
    if isinstance(rel, str) and isinstance(oid, str):
        return (rel, oid)
    return _NO_PAIR


def _check_no_prefix_conflicts(tree: Tree, where: str) -> None:
    """No relpath twice (sorted: a repeat is next to its twin), none both a file and a folder.
    Only the folders are kept in a set, not every relpath."""
    folders: set[str] = set()
    previous = None
    for rel, _ in tree.entries:
        if rel == previous:
            raise ManifestError(f"{where} lists {rel!r} twice")
        previous = rel
        cut = rel.rfind("/")
        while cut > 0:
            head = rel[:cut]
            if head in folders:
                break
            folders.add(head)
            cut = rel.rfind("/", 0, cut)
    clash = [rel for rel, _ in tree.entries if rel in folders]
    if clash:
        raise ManifestError(f"{where} lists {min(clash)!r} both as a file and as a folder")
