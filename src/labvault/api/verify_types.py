"""What ``verify --remote/--tier`` and ``verify --status`` return (frozen; ``to_json`` is ``--json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ScrubProblem:
    """A missing, corrupt or unreadable object, with what it belongs to (outputs of .dvc and
    dvc.lock files at revisions, for a remote; the lab unit, for a tier)."""

    item: str  # an md5 (remote) or a placement's location (tier)
    problem: str  # missing, corrupt, unreadable, unhashed
    size: int
    detail: str | None
    belongs_to: tuple[str, ...]


@dataclass(frozen=True)
class ScrubResult:
    kind: str  # remote or tier
    name: str
    objects: int  # on the remote / live placements on the tier
    bytes: int
    selected: int  # chosen by --slice / --budget (all without)
    checked: int  # read back (a time budget may stop before all selected)
    bytes_read: int
    slice: str | None
    budget: str | None
    problems: tuple[ScrubProblem, ...]
    recorded: bool

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


@dataclass(frozen=True)
class CoverageStatus:
    kind: str
    name: str
    objects: int
    bytes: int
    verified_30d: float  # fraction of the current objects read back intact within 30 days
    verified_90d: float
    never_verified: int
    oldest_verified_at: str | None  # the oldest verification among the current objects (ISO, UTC)
    last_verified_at: str | None
    failures: tuple[ScrubProblem, ...]  # the last verification of these found a problem

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}
