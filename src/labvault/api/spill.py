"""``labvault cache spill``: a repo's cache objects that no kept revision uses and that were not
read for N days move to a folder tier's object store::

    from labvault import api

    plan = api.cache_spill(to="cold", days=30, all_commits=True, dry_run=True)
    print(plan.moved, plan.moved_bytes, plan.objects[:5])
    api.cache_spill(to="cold", days=30, all_commits=True)

The tier becomes a remote of the repo (named after the tier, in ``.dvc/config``; the default
remote only when none is set), so ``dvc pull -r cold`` reads the spilled objects too. The repo's
``.dvc/labvault.local.conf`` names the tiers it spilled to (``labvault.spill_tiers``): only then do
``status``, ``checkout``, ``pull`` and ``gc --spilled`` look in the catalog. See "Cache spill" in
docs/design.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from labvault.catalog.store import now
from labvault.core.odb import ObjectStore
from labvault.errors import ConfigError, StorageError
from labvault.progress import NULL_PROGRESS, Progress
from labvault.tiers.lab import LabConfig, Tier
from labvault.workspace.repo import open_repo

PathLike = str | os.PathLike[str]

__all__ = ["SpillResult", "cache_spill"]


@dataclass(frozen=True)
class SpillResult:
    dry_run: bool
    tier: str
    tier_path: str
    remote: str
    default_remote: bool  # the tier's remote became the repo's default (none was set)
    days: float
    cutoff: str  # ISO time (UTC): objects last read before it spill
    moved: int  # files that left the cache (or would)
    moved_bytes: int
    manifests: int  # folder manifests copied (they stay in the cache)
    kept: int  # objects a kept revision uses
    recent: int  # unused objects read since the cutoff
    legacy: int  # unused objects of the 2.x layout (never spilled)
    revisions: int
    rolled_back: int  # interrupted spills rolled back (object still in the cache)
    finished: int  # interrupted spills finished (the tier's copy verified)
    objects: tuple[str, ...]  # the oids that move


def folder_tier(lab: LabConfig, name: str | None) -> Tier:
    """The tier to spill to: ``name``, else the coldest folder tier; a bucket tier is refused."""
    if name is None:
        folders = [t for t in lab.tiers if t.path is not None]
        if not folders:
            raise ConfigError("the lab config has no folder tier to spill to", "add a tier with a `path`")
        return folders[-1]
    tier = lab.tier(name)
    if tier.path is None:
        raise ConfigError(f"tier {name!r} is a bucket ({tier.url}): cache spill is folder-only",
                          "spill to a tier with a `path` (a mounted folder)")
    return tier


def tier_store(tier: Tier, odb: ObjectStore) -> ObjectStore:
    assert tier.path is not None
    if not tier.path.is_dir():
        raise StorageError(f"tier {tier.name}'s folder {tier.path} does not exist",
                           "mount it, or create the lab's layout with `labvault lab init`")
    store = ObjectStore(tier.path)
    if os.path.realpath(store.root) == os.path.realpath(odb.root):
        raise ConfigError(f"tier {tier.name}'s folder {tier.path} is this repo's cache folder",
                          "spill to another tier")
    return store


def cache_spill(
    to: str | None = None,
    days: float = 30.0,
    all_tags: bool = False,
    all_branches: bool = False,
    all_commits: bool = False,
    dry_run: bool = False,
    repo: PathLike | None = None,
    lab: PathLike | None = None,
    catalog_url: str | None = None,
    progress: Progress = NULL_PROGRESS,
) -> SpillResult:
    """Plan the spill (what gc would delete, less what was read in the last ``days``), then
    (unless ``dry_run``) register the tier and execute it. Bad input changes nothing."""
    from labvault.api.lab import lab_catalog, lab_config
    from labvault.api.spill_setup import cache_key, register_tier
    from labvault.tiers.movelock import move_lock
    from labvault.tiers.spill_lookup import last_reads
    from labvault.tiers.spill_plan import plan_spill
    from labvault.tiers.spill_rows import states
    from labvault.tiers.spill_run import SpillTarget, execute_spill, recover
    from labvault.workspace.used import collect_used

    if not days >= 0:
        raise ConfigError(f"--days must be a number of days, 0 or more, not {days}", "e.g. --days 30")
    config = lab_config(lab)
    tier = folder_tier(config, to)
    r = open_repo(Path(repo) if repo is not None else None, progress)
    store = tier_store(tier, r.odb)
    cat = lab_catalog(config, catalog_url)
    target = SpillTarget(cat, cache_key(r), str(r.root), tier.name, store)
    with r.locked(), move_lock(config, progress):
        rec = None if dry_run else recover(r.odb, target)
        used = collect_used(r, all_tags, all_branches, all_commits)
        cutoff = now() - timedelta(days=days)
        copied = frozenset(o for o, s in states(cat, target.cache, tier.name).items()
                           if s == "spilled" and o.endswith(".dir") and os.path.isfile(store.oid_path(o)))
        plan = plan_spill(r.odb, used.refs, tier.name, cutoff, lambda oids: last_reads(cat, oids), copied)
        remote, default = tier.name, False
        if not dry_run and (plan.move or plan.manifests):
            remote, default = register_tier(r, tier, config, catalog_url)
            execute_spill(plan, r.odb, target, r.state.bump_generation, progress)
    return SpillResult(
        dry_run=dry_run, tier=tier.name, tier_path=str(tier.path), remote=remote, default_remote=default,
        days=days, cutoff=cutoff.isoformat(timespec="seconds") + "Z", moved=len(plan.move),
        moved_bytes=plan.move_bytes, manifests=len(plan.manifests), kept=plan.kept, recent=plan.recent,
        legacy=plan.legacy, revisions=used.revisions,
        rolled_back=len(rec.rolled_back) if rec else 0, finished=len(rec.finished) if rec else 0,
        objects=tuple(i.oid for i in plan.move),
    )
