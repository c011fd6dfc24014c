"""``doctor``: what this installation and this repository are made of, for a bug report or a first
check (as ``dvc doctor``): labvault's and Python's versions, which storage kinds and optional parts
are installed (and the extra that installs a missing one), the tools labvault drives, and, inside a
repository, its cache (folder, link types, file system, free space), remotes, catalog and lab
config. Nothing is imported, run or opened beyond what it reports: package versions come from
their metadata, tools from ``PATH``; no remote is contacted, no catalog opened."""

from __future__ import annotations

import os
import platform
import shutil
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from labvault import __version__
from labvault.errors import LabvaultError

PathLike = str | os.PathLike[str]

# (what it gives, distribution, the extra that installs it)
STORAGE = (("s3://", "s3fs", "s3"), ("gs://", "gcsfs", "gcs"), ("azure://", "adlfs", "azure"),
           ("http(s)://", "urllib3", "http"))
OPTIONAL = (("HDF5 loader", "h5py", "loaders"), ("Arrow/Parquet", "pyarrow", "loaders"),
            ("PyTorch datasets", "torch", "loaders-torch"), ("Dask", "dask", "dask"),
            ("PostgreSQL catalog", "psycopg", "postgres"), ("dashboard", "fastapi", "web"),
            ("Prometheus metrics", "prometheus-client", "monitor"), ("progress bars", "rich", "cli"))
# (what it gives, program, how to install it)
TOOLS = (("revisions, tags, imports (git)", "git", "apt-get install git"),
         ("restic backup targets", "restic", "apt-get install restic"),
         ("access grants (ACLs)", "setfacl", "apt-get install acl"),
         ("immutable raw data (chattr +i)", "chattr", "apt-get install e2fsprogs"),
         ("dvc itself, side by side", "dvc", "pip install dvc, in its own environment"))


@dataclass(frozen=True)
class Part:
    """One installable part: ``version`` (for a tool: where it was found) None when it is missing;
    ``how`` says how to add it."""

    what: str
    name: str
    version: str | None
    how: str


@dataclass(frozen=True)
class RepoReport:
    root: str
    git: bool
    cache_dir: str
    cache_types: tuple[str, ...]
    file_system: str  # "ext4 on /dev/vda" (the cache's), or "unknown"
    free_bytes: int | None
    remotes: tuple[tuple[str, str, bool], ...]  # (name, storage kind, default)
    catalog: str  # its URL, any password hidden


@dataclass(frozen=True)
class DoctorReport:
    labvault: str
    python: str
    platform: str
    storage: tuple[Part, ...]
    optional: tuple[Part, ...]
    tools: tuple[Part, ...]
    lab_config: str | None
    repo: RepoReport | None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _parts(table: tuple[tuple[str, str, str], ...]) -> tuple[Part, ...]:
    return tuple(Part(what, dist, _version(dist), f"pip install 'labvault[{extra}]'") for what, dist, extra in table)


def file_system_of(path: str) -> str:
    """The type and device of the file system holding ``path`` (the longest mount point that is a
    prefix of its real path, from ``/proc/self/mounts``), or "unknown"."""
    real = os.path.realpath(path)
    best: tuple[int, str] = (-1, "unknown")
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.split()
                if len(fields) < 3:
                    continue
                device, mount, kind = fields[0], fields[1].replace("\\040", " "), fields[2]
                inside = real == mount or real.startswith(mount.rstrip("/") + "/")
                if inside and len(mount) > best[0]:
                    best = (len(mount), f"{kind} on {device}")
    except OSError:
        pass
    return best[1]


def doctor(repo: PathLike | None = None, lab: PathLike | None = None) -> DoctorReport:
    """The report (see the module); ``repo`` None: the repository around the current folder, if
    any. A repository that cannot be read is reported as none (its error is a command's job)."""
    tools = tuple(Part(what, name, shutil.which(name), how) for what, name, how in TOOLS)
    lab_file: str | None = None
    try:
        from labvault.tiers.load import find_lab_file

        found = find_lab_file(lab)
        lab_file = str(found) if found is not None else None
    except LabvaultError:
        lab_file = None
    return DoctorReport(
        labvault=__version__,
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.release()} {platform.machine()} ({sys.implementation.name})",
        storage=_parts(STORAGE),
        optional=_parts(OPTIONAL),
        tools=tools,
        lab_config=lab_file,
        repo=_repo_report(repo),
    )


def _repo_report(repo: PathLike | None) -> RepoReport | None:
    from labvault.api.catalog import catalog_url_for
    from labvault.catalog.plain import default_url
    from labvault.catalog.store import masked
    from labvault.remotes.registry import split_url
    from labvault.workspace.remotes import remote_list
    from labvault.workspace.repo import open_repo

    try:
        r = open_repo(Path(repo) if repo is not None else None)
        cache = str(r.odb.cache_dir)
        types = tuple(r.linker().types)
        remotes = []
        for info in remote_list(r):
            try:
                kind = split_url(info.url, http=True)[0] if info.url else "none"
            except LabvaultError:
                kind = "unsupported"
            remotes.append((info.name, kind, info.default))
        catalog = os.environ.get("LABVAULT_CATALOG_URL") or catalog_url_for(r.root) or default_url()
    except LabvaultError:
        return None
    probe = cache if os.path.isdir(cache) else str(r.root)
    try:
        free: int | None = shutil.disk_usage(probe).free
    except OSError:
        free = None
    return RepoReport(str(r.root), r.scm is not None, cache, types, file_system_of(probe), free,
                      tuple(remotes), masked(catalog))
