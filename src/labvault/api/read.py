"""Reading a tracked file of any revision of any repository: ``open``, ``read``, ``get_url``.

::

    import labvault

    with labvault.open("data/reviews.csv", repo="https://github.com/lab/project", rev="v2", mode="r") as f:
        header = f.readline()
    blob = labvault.read("models/model.pt", repo="/data/project", rev="HEAD~3")
    url = labvault.get_url("data/images/cat.jpg", repo="/data/project")

Bytes come from the repository's cache (local repositories), else its remote (``remote``, or the
default one of the repository's config), and are checked against the recorded md5 as they stream
(see docs/design.md, "Reading any version"). Each read is recorded in the lab's access log and,
inside a pipeline stage, in the run's lineage.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from labvault.api import read_plan
from labvault.api.access import record_read_hashes
from labvault.errors import PathError, UsageError
from labvault.progress import NULL_PROGRESS, Progress
from labvault.remotes.reading import ObjectPlaces
from labvault.workspace import readlog
from labvault.workspace.locate import Located, locate, normalize
from labvault.workspace.source import Source, open_source

PathLike = str | os.PathLike[str]


def _located(source: Source, path: str, places: ObjectPlaces) -> Located | bytes:
    try:
        found = locate(source, path, places)
    except PathError:
        blob = source.git_file(normalize(path))
        if blob is None:
            raise
        return blob
    if found.is_dir:
        raise PathError(f"{path} is a folder", f"open a file inside it, or download it with `labvault get {source.spec} {path}`")
    return found


@contextmanager
def open(
    path: str, repo: PathLike | None = None, rev: str | None = None, remote: str | None = None,
    mode: str = "rb", encoding: str | None = None, progress: Progress = NULL_PROGRESS,
) -> Iterator[IO[Any]]:
    """A stream of ``path`` as ``repo`` holds it at ``rev``: binary for ``mode="rb"``, text
    (``encoding``, UTF-8 by default) for ``mode="r"``. The stream is not seekable; its md5 is
    checked as it is read, and the read that reaches the end raises ``CorruptObjectError``
    instead when it does not match (bytes read before that point were not yet verified)."""
    if mode not in ("rb", "r"):
        raise UsageError(f"mode {mode!r} is not supported", "use mode='rb' (bytes) or mode='r' (text)")
    text = os.fspath(repo) if repo is not None else None
    key = read_plan.key_of(text, rev, path, remote)
    fast = read_plan.planned(key)
    if fast is not None:
        plan, kept = fast
        with kept:
            _note_read(plan.spec, plan.sha, path, plan.oid, plan.output_oid, progress)
            yield from _as_mode(kept, mode, encoding)
        return
    with open_source(repo, rev) as source:
        places = source.places(remote)
        try:
            found = _located(source, path, places)
            if isinstance(found, bytes):
                from labvault.core.hashing import md5_bytes

                stream: IO[bytes] = io.BytesIO(found)
                _note(source, path, md5_bytes(found), None, progress)
            else:
                from labvault.api.read_tiers import tier_fallback

                places.fallback = tier_fallback(found, progress, source.repo if source.local else None)
                stream = places.open(found.oid, found.legacy, found.size)
                read_plan.remember(key, source, found)
                _note(source, path, found.oid, found, progress)
            with stream:
                yield from _as_mode(stream, mode, encoding)
        finally:
            places.close()


def _as_mode(stream: IO[bytes], mode: str, encoding: str | None) -> Iterator[IO[Any]]:
    if mode == "r":
        wrapper = io.TextIOWrapper(stream, encoding=encoding or "utf-8")  # type: ignore[type-var]
        try:
            yield wrapper
        finally:
            wrapper.detach()
    else:
        yield stream


def read(
    path: str, repo: PathLike | None = None, rev: str | None = None, remote: str | None = None,
    mode: str = "rb", encoding: str | None = None, progress: Progress = NULL_PROGRESS,
) -> bytes | str:
    """The whole content of ``path`` at ``rev`` (bytes, or text for ``mode="r"``), verified."""
    with open(path, repo, rev, remote, mode, encoding, progress) as f:
        data: bytes | str = f.read()
        return data


def get_url(path: str, repo: PathLike | None = None, rev: str | None = None, remote: str | None = None) -> str:
    """The URL of ``path``'s object on the remote (as ``dvc.api.get_url``: where it is or would
    be pushed, without checking that it is there). A folder's URL is its ``.dir`` manifest's."""
    with open_source(repo, rev) as source:
        places = source.places(remote)
        try:
            found = locate(source, path, places)
            if found.is_dir and found.output is not None and found.rel != found.output.rel:
                raise PathError(f"{path} is a folder inside the tracked folder {found.output.rel}, which has no "
                                "object of its own", "ask for a file inside it, or for the tracked folder")
            return places.url(found.oid, found.legacy)
        finally:
            places.close()


def _note(source: Source, path: str, oid: str, found: Located | None, progress: Progress) -> None:
    out = found.output.oid if found is not None and found.output is not None else None
    _note_read(source.spec, source.sha, path, oid, out, progress)


def _note_read(spec: str, sha: str | None, path: str, oid: str, output_oid: str | None, progress: Progress) -> None:
    """The stage's read log (inside ``repro``), and the lab's access log for the output read from."""
    if readlog.active():
        readlog.note(oid, normalize(path), spec, sha)
    if output_oid is not None:
        record_read_hashes({output_oid, oid}, "read", progress)
