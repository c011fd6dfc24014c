"""The lab config's value types: tiers, lifecycle rules, pins, promotion (all frozen).

Read one with :func:`labvault.tiers.load.load_lab`; the YAML format is in docs/design.md ("The lab").
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from labvault.catalog.plain import default_url, normalize_url
from labvault.remotes.classes import IA_CLASSES, canonical_class, min_storage_days

AREAS = ("datasets", "models", "experiments", "checkpoints", "archive")
GIB = 1024**3


@dataclass(frozen=True)
class Tier:
    """One storage tier: a folder (a mount) or a bucket URL with a storage class.

    ``capacity`` None means the mount's size (a folder) or unlimited (a bucket). Thresholds are
    percents of capacity. ``min_storage_days`` defaults to the storage class's billing minimum."""

    name: str
    path: Path | None = None
    url: str | None = None
    storage_class: str | None = None
    price_per_gb_month: float = 0.0
    capacity: int | None = None
    warn_percent: float = 80.0
    critical_percent: float = 90.0
    min_storage_days: int = 0
    retrieval_price_per_gb: float = 0.0
    retrieval_hours: float = 0.0
    areas: tuple[str, ...] = AREAS

    @property
    def scheme(self) -> str | None:
        return self.url.split("://", 1)[0] if self.url else None

    @property
    def where(self) -> str:
        """The tier's root: its folder, or its URL."""
        return str(self.path) if self.path is not None else str(self.url)

    @property
    def is_local(self) -> bool:
        return self.path is not None

    @property
    def infrequent_access(self) -> bool:
        return self.storage_class is not None and canonical_class(self.storage_class, self.scheme) in IA_CLASSES

    def monthly_cost(self, nbytes: int) -> float:
        """What keeping ``nbytes`` here costs per month (prices are per GiB-month)."""
        return nbytes / GIB * self.price_per_gb_month


def default_min_days(storage_class: str | None, url: str | None) -> int:
    scheme = url.split("://", 1)[0] if url else None
    return min_storage_days(storage_class, scheme)


@dataclass(frozen=True)
class Rule:
    """A lifecycle rule: units in ``from_tier`` that match every given condition move to ``to_tier``.

    Conditions left None do not restrict: ``last_access_days`` (no read for that long; a unit never
    read counts from when it was first seen), ``age_days`` (since first seen or last modified),
    ``min_size``/``max_size`` in bytes, ``kinds``, ``names`` (glob patterns), ``tags``."""

    name: str
    from_tier: str
    to_tier: str
    last_access_days: float | None = None
    age_days: float | None = None
    min_size: int | None = None
    max_size: int | None = None
    kinds: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pins:
    """Units never demoted: those with one of ``tags`` (catalog tags or aliases of their version),
    those matching ``names`` globs, and the inputs of runs started in the last ``active_run_days``."""

    tags: tuple[str, ...] = ("production",)
    names: tuple[str, ...] = ()
    active_run_days: float = 14.0


@dataclass(frozen=True)
class Promotion:
    """Promotion on access: ``reads`` reads within ``within_days`` move a unit to ``to_tier``
    (the hottest tier when None). ``reads`` 0 turns promotion on access off."""

    reads: int = 3
    within_days: float = 7.0
    to_tier: str | None = None


@dataclass(frozen=True)
class Retention:
    """How many snapshots of a backup policy ``backup forget`` keeps: restic's ``--keep-*`` rules
    (``labvault.backup.retention``). ``within`` is a duration such as ``14d`` or ``1y6m``;
    ``keep_tags`` are tag sets (a snapshot holding every tag of one set is kept). All unset keeps
    everything."""

    last: int = 0
    hourly: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0
    within: str = ""
    keep_tags: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class BackupPolicy:
    """One backup policy: what (``sources``: absolute paths of folders or files, or ``unit:GLOB``
    naming lab units registered in the catalog), where (``target``: a folder, or an s3://, gs://,
    azure:// URL with its ``options``, or ``restic:REPOSITORY`` with its ``password_file`` or
    ``password_command``), which snapshots to keep, and when (``schedule``, a cron
    expression). ``tags`` are put on every snapshot the policy makes. ``catalog``: the catalog
    database is copied consistently into each snapshot too (``catalog/catalog.sqlite`` or
    ``catalog/catalog.pgdump``)."""

    name: str
    sources: tuple[str, ...]
    target: str
    retention: Retention = field(default_factory=Retention)
    schedule: str | None = None
    tags: tuple[str, ...] = ()
    options: tuple[tuple[str, str], ...] = ()
    catalog: bool = False
    password_file: str | None = None  # restic targets: given to restic as RESTIC_PASSWORD_FILE
    password_command: str | None = None  # or RESTIC_PASSWORD_COMMAND
    storage_class: str | None = None  # bucket targets: the class objects are written in (S3) or the bucket's
    price_per_gb_month: float = 0.0  # the class's price, for the early-deletion fees prune reports


@dataclass(frozen=True)
class LabConfig:
    """A whole lab config. ``tiers`` are hottest first (the order the file lists them)."""

    source: Path | None
    tiers: tuple[Tier, ...]
    rules: tuple[Rule, ...] = ()
    pins: Pins = field(default_factory=Pins)
    promotion: Promotion = field(default_factory=Promotion)
    min_copies: int = 1
    symlink_old_path: bool = True
    catalog_url: str | None = None
    backups: tuple[BackupPolicy, ...] = ()

    def backup(self, name: str) -> BackupPolicy:
        for b in self.backups:
            if b.name == name:
                return b
        from labvault.errors import ConfigError

        raise ConfigError(f"no backup policy named {name!r} in the lab config",
                          f"the policies are {', '.join(b.name for b in self.backups) or 'none (add a backups: list)'}")

    def tier(self, name: str) -> Tier:
        for t in self.tiers:
            if t.name == name:
                return t
        from labvault.errors import ConfigError

        raise ConfigError(f"no tier named {name!r} in the lab config",
                          f"the tiers are {', '.join(t.name for t in self.tiers) or 'none'}")

    def rank(self, name: str) -> int:
        """0 for the hottest tier, larger for colder ones."""
        return [t.name for t in self.tiers].index(name)

    @property
    def hottest(self) -> Tier:
        return self.tiers[0]


def catalog_url_of(config: LabConfig, catalog_url: str | None = None) -> str:
    """The URL of the lab's catalog: ``catalog_url``, LABVAULT_CATALOG_URL, the lab config's
    ``catalog_url``, else the user's SQLite catalog."""
    return normalize_url(catalog_url or os.environ.get("LABVAULT_CATALOG_URL") or config.catalog_url
                         or default_url())
