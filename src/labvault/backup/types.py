"""What the backup engine returns (frozen; ``to_json`` gives the CLI's ``--json`` shape)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class _Json:
    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload, no-any-return]


@dataclass(frozen=True)
class RunResult(_Json):
    """One ``backup run`` of a policy. ``snapshot`` is None for a dry run. ``hashed_*`` were read,
    ``cached_files`` trusted from the stat cache; ``objects_added``/``bytes_added`` were sent
    (``bytes_added`` counts the manifest and snapshot file too)."""

    policy: str
    target: str
    snapshot: str | None
    dry_run: bool
    files: int
    dirs: int
    symlinks: int
    bytes: int
    hashed_files: int
    hashed_bytes: int
    cached_files: int
    objects_added: int
    bytes_added: int
    skipped: tuple[str, ...]


@dataclass(frozen=True)
class SnapshotInfo(_Json):
    id: str
    time: str
    hostname: str
    policy: str
    target: str
    sources: tuple[str, ...]
    tags: tuple[str, ...]
    files: int
    bytes: int
    objects_added: int
    bytes_added: int


@dataclass(frozen=True)
class RestoreResult(_Json):
    snapshot: str
    to: str
    files: int
    dirs: int
    symlinks: int
    bytes: int
    verified: bool


@dataclass(frozen=True)
class ForgetItem(_Json):
    id: str
    time: str
    policy: str
    keep: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ForgetResult(_Json):
    target: str
    dry_run: bool
    items: tuple[ForgetItem, ...]

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items if not i.keep)


@dataclass(frozen=True)
class PruneResult(_Json):
    """``young``/``young_bytes``: unreferenced objects still inside their storage class's minimum
    duration; kept (and ``early_fee`` is the fee that avoided) unless ``allow_early`` (then deleted,
    and ``early_fee`` is the fee paid). ``deleted``/``bytes_freed``: what is (or would be) deleted."""

    target: str
    dry_run: bool
    snapshots: int
    referenced: int
    unreferenced: int
    deleted: int
    bytes_freed: int
    leftovers_removed: int
    allow_early: bool = False
    young: int = 0
    young_bytes: int = 0
    early_fee: float = 0.0


@dataclass(frozen=True)
class BadObject(_Json):
    """An object that is missing, of the wrong size, or (read-data) of other content, with every
    (snapshot, path) that needs it."""

    md5: str
    problem: str  # missing, wrong_size, corrupt, unreadable_manifest
    expected_size: int
    found_size: int | None
    used_by: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CheckResult(_Json):
    target: str
    ok: bool
    snapshots: int
    objects: int
    objects_read: int
    bytes_read: int
    bad: tuple[BadObject, ...]
    bad_snapshots: tuple[str, ...]


@dataclass(frozen=True)
class DrillResult(_Json):
    target: str
    snapshot: str
    ok: bool
    sampled: int
    of_files: int
    bytes: int
    failed: tuple[str, ...]
    recorded: bool
