"""Plain copies and listings between local folders and object storage, outside any repository:
what ``aws s3 cp``/``gsutil cp`` and ``ls`` do, the same for every kind of storage::

    from labvault import api

    api.cp("results/run-42/", "s3://lab-bucket/runs/run-42/", recursive=True)
    api.cp("gs://lab-models/bert/config.json", "models/")
    for e in api.ls("s3://lab-bucket/runs/"):
        print(e.name, e.size, e.is_dir)

Credentials and endpoints come from the environment, as for the storage libraries themselves
(``AWS_PROFILE``, ``AWS_ENDPOINT_URL_S3``, ``GOOGLE_APPLICATION_CREDENTIALS``,
``STORAGE_EMULATOR_HOST``, ``AZURE_STORAGE_CONNECTION_STRING``, ...).
"""

from __future__ import annotations

import os

from labvault.progress import NULL_PROGRESS, Progress
from labvault.remotes import copy as _copy

PathLike = str | os.PathLike[str]
CopyResult = _copy.CopyResult
Entry = _copy.Entry


def cp(
    src: PathLike,
    dst: PathLike,
    recursive: bool = False,
    jobs: int | None = None,
    progress: Progress = NULL_PROGRESS,
) -> CopyResult:
    """Copy a file, or with ``recursive`` a folder or prefix, from any local path or s3://, gs://,
    azure:// URL to any other. A file copied onto an existing folder or a destination ending in
    '/' goes inside it; ``cp("src/", "dst/", recursive=True)`` copies the contents of src."""
    return _copy.copy(os.fspath(src), os.fspath(dst), recursive, jobs, progress)


def ls(url: PathLike, recursive: bool = False) -> list[Entry]:
    """The files and folders directly in ``url`` (every file below it with ``recursive``)."""
    return _copy.listing(os.fspath(url), recursive)
