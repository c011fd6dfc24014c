"""Recovery of moves interrupted by a crash: run by every move command, under the move lock.

For each journal row that is not ``done``, ``rolled_back`` or ``failed`` (so its owner died:
rows in flight belong to the lock's holder, and recovery runs only while holding the lock):

* before ``switched`` (``planned``, ``copied``, ``verified``): the source was never touched and
  the catalog not switched; the partial copy at the temp name is removed (on a bucket tier: the
  manifest, if written; objects sent stay, unreferenced), the row ``rolled_back``.
* ``switched``: the verified copy is complete; the move is finished (temp renamed to the final
  name if that had not happened, the source replaced by its link or removed, its placement row
  dropped, ``done``), unless the copy is no longer there, in which case the switch is undone.
"""

from __future__ import annotations

from labvault.catalog.store import Catalog
from labvault.tiers import bucketmove, finish, journal
from labvault.tiers.bucket import is_url
from labvault.tiers.copy import remove_tree
from labvault.tiers.lab import LabConfig


def recover_moves(cat: Catalog, lab: LabConfig) -> list[str]:
    """Finish or roll back every open move; returns one line per move handled. Call with the
    move lock held."""
    done: list[str] = []
    for row in journal.open_moves(cat):
        if row.state in journal.BEFORE_SWITCH:
            if is_url(row.dst_location):
                bucketmove.discard(cat, lab, row.dst_tier, row.dst_location)
            else:
                remove_tree(finish.temp_path(row.dst_location, row.id))
            journal.advance(cat, row.id, "rolled_back", f"interrupted while {row.state}; the partial copy was removed")
            done.append(f"{row.src_location}: interrupted move to {row.dst_tier} rolled back")
        elif row.state == "switched":
            done.append(finish.complete(cat, lab, row))
    return done
