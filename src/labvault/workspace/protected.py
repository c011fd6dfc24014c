"""The protection marker a repository carries: ``meta: {labvault: {protected: true}}`` in a
``.dvc`` file, so that every clone knows its outputs are protected raw data.

DVC 3.x accepts and keeps a top-level ``meta`` mapping in ``.dvc`` files (its status, push, pull,
checkout and add work unchanged; ``tests/access/test_protect_interop.py`` checks it with the real
dvc). The marker covers every output of the pointer file (one, for files ``add`` writes).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from labvault.errors import PointerError
from labvault.workspace.pointer import Pointer, write_pointer

KEY = "labvault"


def is_protected(pointer: Pointer) -> bool:
    meta = pointer.extra.get("meta")
    if not isinstance(meta, dict):
        return False
    ours = meta.get(KEY)
    return isinstance(ours, dict) and ours.get("protected") is True


def with_marker(pointer: Pointer, on: bool) -> Pointer:
    """``pointer`` with the marker set or removed (other ``meta`` keys kept; an emptied mapping
    goes away, so unprotect restores the file as it was)."""
    extra: dict[str, Any] = dict(pointer.extra)
    meta = extra.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise PointerError(f"{pointer.file}: its `meta` is not a mapping, so it cannot carry the protection marker",
                           "make `meta:` a mapping of keys (or remove it), then run the command again")
    meta = dict(meta) if isinstance(meta, dict) else {}
    ours = meta.get(KEY)
    ours = dict(ours) if isinstance(ours, dict) else {}
    if on:
        ours["protected"] = True
    else:
        ours.pop("protected", None)
    if ours:
        meta[KEY] = ours
    else:
        meta.pop(KEY, None)
    if meta:
        extra["meta"] = meta
    else:
        extra.pop("meta", None)
    return replace(pointer, extra=extra)


def set_marker(pointer: Pointer, on: bool) -> bool:
    """Write the marker into the pointer file (atomically); False when it was already so."""
    if is_protected(pointer) == on:
        return False
    write_pointer(with_marker(pointer, on))
    return True
