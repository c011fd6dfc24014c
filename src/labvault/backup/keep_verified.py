"""The rule both engines' ``forget`` apply after retention: nothing is removed until a newer
verified snapshot holds the same data.

"The same data" is the same policy, host and sources (retention's group): a newer snapshot of the
same sources holds every file as it is now; a version that changed since is what retention is
meant to drop. "Verified" means a verification was recorded for that snapshot: a full restore with
``--verify``, a drill that passed, or a ``check --read-data`` (without subset) that passed after it
was made. A snapshot retention would remove is removed only if a newer snapshot of its group that
stays kept is verified; otherwise it is kept, and the plan says why. One pass, newest first: a
snapshot kept by this rule that is itself verified lets the older ones go.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from labvault.backup.retention import Decision

UNVERIFIED = ("no newer verified snapshot holds this data yet (verify one: `backup drill`, "
              "`backup check --read-data` or `backup restore --verify`)")


def guard(decisions: Sequence[Decision], verified: Collection[str]) -> list[Decision]:
    """``decisions`` of one group, newest first, with removals turned into keeps where needed."""
    out: list[Decision] = []
    covered = False
    for d in decisions:
        if d.keep:
            out.append(d)
        elif covered:
            out.append(d)
            continue
        else:
            out.append(Decision(d.snapshot, True, (UNVERIFIED,)))
        if d.snapshot.id in verified:
            covered = True
    return out
