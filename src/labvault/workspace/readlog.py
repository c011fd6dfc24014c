"""The reads a pipeline stage made through ``labvault.open``/``read``, for its lineage.

``repro`` gives each stage's command the environment variable ``LABVAULT_READ_LOG``: a file in
``.dvc/tmp/labvault/reads/`` it empties first. Every read inside the command appends one JSON line
(the content hash actually used, the path, repository and commit); when the stage has run, the
run's lineage gets those hashes as inputs. Outside a stage the variable is unset and nothing is
written. A line is one ``write`` in append mode, so reads from several worker processes of one
stage do not mix their lines.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from labvault import environ

ENV = "LABVAULT_READ_LOG"
_ENV = environ.Names(ENV)


def log_path(tmp_dir: Path, address: str) -> Path:
    return tmp_dir / "labvault" / "reads" / (hashlib.sha256(address.encode()).hexdigest()[:32] + ".jsonl")


def start(path: Path) -> None:
    """An empty log for a stage about to run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def active() -> bool:
    """Whether reads are being logged for a stage (``note`` would write)."""
    return bool(environ.get(_ENV))


def note(md5: str, path: str, repo: str, rev: str | None) -> None:
    """Append one read to the current stage's log, if there is one. Never fails the read."""
    target = environ.get(_ENV)
    if not target:
        return
    line = json.dumps({"md5": md5, "path": path, "repo": repo, "rev": rev}, sort_keys=True) + "\n"
    try:
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    except OSError:
        return


def take(path: Path) -> list[str]:
    """The content hashes a stage read (in order, without repeats); the log is removed."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    found: list[str] = []
    for line in text.splitlines():
        try:
            md5 = json.loads(line).get("md5")
        except (ValueError, AttributeError):
            continue
        if isinstance(md5, str) and md5 not in found:
            found.append(md5)
    try:
        path.unlink()
    except OSError:
        pass
    return found
