"""Checksum files that GNU ``md5sum -c`` accepts: write them, check them.

Names are written as given (a folder is walked, its files named ``FOLDER/rel/path``, sorted),
and relative names are resolved against the current folder when checking, as ``md5sum -c`` does
(not against the checksum file's folder): check from the folder the file was written in.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from labvault.core.checksum_format import format_line, parse
from labvault.core.checksum_hash import md5_many
from labvault.errors import PathError, UsageError, from_os_error
from labvault.fsutil import atomic_write_bytes
from labvault.progress import NULL_PROGRESS, Progress


class ChecksumEntry(NamedTuple):
    """One file of a checksum file: its name as written, its md5, and (when checked) its status:
    ``ok``, ``failed`` (content differs) or ``unreadable`` (missing, a folder, permission denied).
    A named tuple: one is made per file, a million at a time."""

    name: str
    md5: str
    status: str = "ok"
    error: str | None = None


@dataclass(frozen=True)
class ChecksumsWritten:
    output: str | None
    entries: tuple[ChecksumEntry, ...]
    bytes: int
    text: builtins.bytes  # the checksum file's content, exactly as written


@dataclass(frozen=True)
class ChecksumsChecked:
    file: str
    ok: bool  # every listed file read and matched (improper lines count only with strict)
    checked: int
    passed: int
    failed: tuple[str, ...]
    unreadable: tuple[str, ...]
    improper_lines: tuple[int, ...]
    bytes: int
    entries: tuple[ChecksumEntry, ...]


def _expand(paths: Sequence[str], skip: str | None) -> list[str]:
    names: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            found: list[str] = []
            for dirpath, dirs, files in os.walk(p):
                dirs.sort()
                for f in files:
                    full = os.path.join(dirpath, f)
                    if skip is None or os.path.abspath(full) != skip:
                        found.append(full)
            names.extend(sorted(found))
        elif os.path.lexists(p):
            names.append(p)
        else:
            raise PathError(f"{p}: no such file or folder", "check the path (names are relative to the current folder)")
    return names


def checksums_write(
    paths: Sequence[str], output: str | os.PathLike[str] | None = None, jobs: int | None = None,
    progress: Progress = NULL_PROGRESS, helpers: int = 0,
) -> ChecksumsWritten:
    """md5 every file named (folders: every file below, sorted) and make the lines of a checksum
    file; with ``output``, write it atomically. Nothing is written if a file cannot be read.

    ``helpers`` >= 2: that many helper processes hash small files already in the page cache (one
    CPython process hashes on one core); they are started and waited for inside this call, and
    only when the caller asks (0, the default: everything is hashed in this process)."""
    if not paths:
        raise UsageError("no paths given", "name the files or folders to list, e.g. `labvault checksums write data/raw`")
    out_abs = os.path.abspath(output) if output is not None else None
    names = _expand(paths, out_abs)
    task = progress.task("checksums", total=len(names))
    try:
        results = md5_many(names, jobs, lambda n, b: task.advance(n, b), helpers)
    finally:
        task.close()
    entries: list[ChecksumEntry] = []
    chunks: list[bytes] = []
    total = 0
    for name, r in zip(names, results, strict=True):
        if r.md5 is None:
            assert r.error is not None
            raise from_os_error(r.error, "reading")
        entries.append(ChecksumEntry(name, r.md5))
        chunks.append(format_line(r.md5, name))
        total += r.size
    text = b"".join(chunks)
    if output is not None:
        try:
            atomic_write_bytes(os.fspath(output), text)
        except OSError as exc:
            raise from_os_error(exc, "writing") from None
    return ChecksumsWritten(os.fspath(output) if output is not None else None, tuple(entries), total, text)


def checksums_check(
    file: str | os.PathLike[str], jobs: int | None = None, strict: bool = False, progress: Progress = NULL_PROGRESS,
    helpers: int = 0,
) -> ChecksumsChecked:
    """Re-read every file a checksum file lists and compare its md5, as ``md5sum -c`` does
    (``helpers`` as for :func:`checksums_write`)."""
    path = os.fspath(file)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise PathError(f"{path}: No such file or directory", "name an existing checksum file") from None
    except IsADirectoryError:
        raise PathError(f"{path}: Is a directory", "name a checksum file, not a folder") from None
    except OSError as exc:
        raise from_os_error(exc, "reading") from None
    parsed = parse(data)
    if not parsed.lines:
        raise UsageError(f"{path}: no properly formatted checksum lines found",
                         "lines look like `<32 hex digits>  <name>`, as `md5sum` or `labvault checksums write` write them")
    names = [ln.name for ln in parsed.lines]
    task = progress.task("checking", total=len(names))
    try:
        results = md5_many(names, jobs, lambda n, b: task.advance(n, b), helpers)
    finally:
        task.close()
    entries: list[ChecksumEntry] = []
    failed: list[str] = []
    unreadable: list[str] = []
    total = 0
    for ln, r in zip(parsed.lines, results, strict=True):
        if r.md5 is None:
            err = r.error.strerror if r.error is not None and r.error.strerror else str(r.error)
            entries.append(ChecksumEntry(ln.name, ln.md5, "unreadable", err))
            unreadable.append(ln.name)
            continue
        total += r.size
        if r.md5 == ln.md5:
            entries.append(ChecksumEntry(ln.name, ln.md5, "ok"))
        else:
            entries.append(ChecksumEntry(ln.name, ln.md5, "failed"))
            failed.append(ln.name)
    ok = not failed and not unreadable and not (strict and parsed.improper)
    return ChecksumsChecked(path, ok, len(entries), len(entries) - len(failed) - len(unreadable), tuple(failed),
                            tuple(unreadable), parsed.improper, total, tuple(entries))
