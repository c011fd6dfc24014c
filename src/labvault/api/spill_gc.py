"""``gc --spilled``: forget the spilled copies of objects that no chosen revision uses.

Without ``--spilled`` gc never touches a spill tier: its object store is not the cache, and a
spilled object is by definition one that the kept revisions do not use. With it, the spill rows
of this cache whose objects the chosen revisions (the workspace, ``--all-tags``/``-branches``/
``-commits``) do not use are dropped, and then each tier file that no other cache's row names is
deleted (rows first: a crash between leaves a file nothing names, never a row naming no file).
"""

from __future__ import annotations

from labvault.workspace.repo import Repo

Ref = tuple[str, bool]


def gc_spilled(r: Repo, keep: set[Ref], dry_run: bool) -> tuple[str, ...]:
    """The oids whose spilled copies go (or would, with ``dry_run``). The caller holds the repo lock."""
    from labvault.api.lab import lab_config
    from labvault.api.spill_setup import lookup_for
    from labvault.tiers.movelock import move_lock
    from labvault.tiers.spill_rows import states
    from labvault.tiers.spill_run import SpillTarget, drop_spilled, recover

    lookup = lookup_for(r)
    if lookup is None:
        return ()
    gone: set[str] = set()
    with move_lock(lab_config(r.config.get("labvault", "spill_lab")), r.progress):
        for tier, store in sorted(lookup.stores.items()):
            target = SpillTarget(lookup.cat, lookup.cache, str(r.root), tier, store)
            if not dry_run:
                recover(r.odb, target)
            rows = states(lookup.cat, lookup.cache, tier)
            unused = sorted(o for o, s in rows.items() if s == "spilled" and (o, False) not in keep)
            if not dry_run:
                drop_spilled(target, unused)
            gone.update(unused)
    return tuple(sorted(gone))
