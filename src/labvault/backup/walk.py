"""What a backup takes from its sources: folders, regular files and symlinks, with their stat.

Each source is named in the snapshot by its last component (``/mnt/nvme0/datasets`` ->
``datasets/...``). Inside a source nothing is followed: a symlink is recorded as a link (its
target text), as restic does; a source given as a symlink is followed once. Every folder is
recorded (so empty folders and folder modes come back); sockets, FIFOs and devices are skipped and
reported. Hard links are recorded as separate files (their content is stored once anyway).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from labvault.backup.manifest import Entry
from labvault.errors import PathError


@dataclass
class Walked:
    entries: list[Entry] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)  # relpath -> absolute path (files)
    stats: dict[str, os.stat_result] = field(default_factory=dict)  # relpath -> lstat (files)
    skipped: list[str] = field(default_factory=list)


def _entry(rel: str, st: os.stat_result) -> Entry:
    return Entry(rel, "dir", stat.S_IMODE(st.st_mode), st.st_mtime_ns)


def walk_sources(sources: list[str]) -> Walked:
    out = Walked()
    for src in sources:
        path = os.path.abspath(src)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise PathError(f"backup source {src} does not exist", "fix the policy's sources in the lab config") from None
        except OSError as exc:
            raise PathError(f"backup source {src} cannot be read: {exc.strerror}") from None
        base = os.path.basename(os.path.normpath(path))
        if stat.S_ISDIR(st.st_mode):
            out.entries.append(_entry(base, st))
            _walk_dir(path, base, out)
        elif stat.S_ISREG(st.st_mode):
            _add(out, path, base, st)
        else:
            raise PathError(f"backup source {src} is neither a folder nor a file")
    return out


def _add(out: Walked, path: str, rel: str, st: os.stat_result) -> None:
    if stat.S_ISREG(st.st_mode):
        out.entries.append(Entry(rel, "file", stat.S_IMODE(st.st_mode), st.st_mtime_ns, size=st.st_size))
        out.paths[rel] = path
        out.stats[rel] = st
    elif stat.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(path)
        except OSError as exc:
            out.skipped.append(f"{path}: {exc.strerror}")
            return
        out.entries.append(Entry(rel, "symlink", stat.S_IMODE(st.st_mode), st.st_mtime_ns, target=target))
    elif stat.S_ISDIR(st.st_mode):
        out.entries.append(_entry(rel, st))
    else:
        out.skipped.append(f"{path}: not a file, folder or symlink")


def _walk_dir(top: str, top_rel: str, out: Walked) -> None:
    stack = [(top, top_rel)]
    while stack:
        folder, rel = stack.pop()
        try:
            with os.scandir(folder) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            out.skipped.append(f"{folder}: {exc.strerror}")
            continue
        for e in items:
            sub = f"{rel}/{e.name}"
            try:
                st = e.stat(follow_symlinks=False)
            except OSError as exc:
                out.skipped.append(f"{e.path}: {exc.strerror}")
                continue
            _add(out, e.path, sub, st)
            if stat.S_ISDIR(st.st_mode):
                stack.append((e.path, sub))
