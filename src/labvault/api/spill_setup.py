"""A repo that spilled: its tier as a remote, the marker that says where to look, and the look-ups
``status``, ``checkout``, ``pull`` and ``gc --spilled`` make (only when the marker is there: a repo
that never spilled costs nothing more than reading its config, which every command does)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from labvault.config import ConfigFile, level_file
from labvault.core.odb import ObjectStore
from labvault.core.tree import is_dir_oid
from labvault.errors import ConfigError, LabvaultError
from labvault.workspace.repo import Repo

if TYPE_CHECKING:
    from labvault.tiers.lab import LabConfig, Tier
    from labvault.tiers.spill_lookup import SpillLookup
    from labvault.workspace.index import Tracked

MARK = ("labvault", "spill_tiers")


def spill_tiers(r: Repo) -> list[str]:
    """The tiers the repo's cache spilled to (``labvault.spill_tiers``, comma-separated)."""
    value = r.config.get(*MARK) or ""
    return [t.strip() for t in value.split(",") if t.strip()]


def cache_key(r: Repo) -> str:
    """The key of the repo's cache in ``cache_spills``: the real path of its folder."""
    return os.path.realpath(r.odb.cache_dir)


def register_tier(r: Repo, tier: Tier, lab: LabConfig, catalog_url: str | None) -> tuple[str, bool]:
    """The tier as remote ``tier.name`` (its folder: DVC's ``files/md5`` layout) in ``.dvc/config``,
    the default one only when the repo has none; and the marker in ``.dvc/labvault.local.conf``.
    Returns (remote name, whether it became the default). Written before any object moves."""
    from labvault.workspace.remotes import remote_add, remote_url

    name, url = tier.name, str(tier.path)
    default = False
    if name in r.config.remote_names():
        _, have = remote_url(r, name)
        if have.rstrip("/") != url.rstrip("/"):
            raise ConfigError(f"remote {name!r} exists with url {have}, not tier {name}'s folder {url}",
                              f"rename that remote (`labvault remote rename {name} NEW`), then spill again")
    else:
        default = not r.config.get("core", "remote")
        remote_add(r, name, url, default=default, level="repo", force=False)
    f = ConfigFile.load(level_file("local", r.dvc_dir, "labvault"))
    section = f.sections.setdefault("labvault", {})
    tiers = [t for t in section.get("spill_tiers", "").split(",") if t.strip()]
    changed = False
    if name not in tiers:
        section["spill_tiers"] = ",".join([*tiers, name])
        changed = True
    for key, value in (("spill_lab", str(lab.source) if lab.source else None), ("spill_catalog", catalog_url)):
        if value and section.get(key) != value:
            section[key] = value
            changed = True
    if changed:
        f.save()
    r.__dict__.pop("config", None)
    return name, default


def lookup_for(r: Repo) -> SpillLookup | None:
    """The spilled-object look-up of a repo that spilled, else None (no catalog touched). A lab or
    catalog that cannot be opened costs one warning line: spilled objects then count as missing."""
    names = spill_tiers(r)
    if not names:
        return None
    import sqlalchemy.exc

    from labvault.api.lab import lab_catalog, lab_config
    from labvault.tiers.spill_lookup import SpillLookup

    try:
        lab = lab_config(r.config.get("labvault", "spill_lab"))
        stores = {n: ObjectStore(str(lab.tier(n).path)) for n in names if lab.tier(n).path is not None}
        cat = lab_catalog(lab, r.config.get("labvault", "spill_catalog"))
        return SpillLookup(cat, cache_key(r), stores)
    except (LabvaultError, OSError, sqlalchemy.exc.SQLAlchemyError) as exc:
        line = exc.line() if isinstance(exc, LabvaultError) else str(exc).splitlines()[0]
        r.progress.message(f"warning: spilled objects not looked up: {line}")
        return None


def fetch_back(r: Repo, lookup: SpillLookup, oids: set[str]) -> list[str]:
    """Copy the spilled objects among ``oids`` that the cache lacks back into it, each verified
    against its md5 on the way (``remotes.transfer.fetch``). Returns the oids that failed."""
    from labvault.remotes.registry import open_backend
    from labvault.remotes.store import RemoteStore
    from labvault.remotes.transfer import fetch

    found = lookup.present(o for o in oids if not r.odb.exists(o))
    failed: list[str] = []
    for tier in sorted(set(found.values())):
        store = RemoteStore(tier, open_backend(lookup.stores[tier].cache_dir), jobs=4)
        res = fetch(r.odb, store, {(o, False) for o, t in found.items() if t == tier}, r.progress)
        failed += res.missing_remote + res.corrupt + res.failed
    for oid in failed:
        r.progress.message(f"warning: spilled object {oid} could not be fetched back from its tier")
    return failed


def restore(r: Repo, lookup: SpillLookup, tracked: list[Tracked], manifests_only: bool = False) -> None:
    """Fetch back what ``tracked`` outputs need: their manifests first (the files a folder names
    are known only then), then (unless ``manifests_only``) their files."""
    restore_oids(r, lookup, {t.out.oid for t in tracked if t.out.oid and t.out.use_cache and not t.out.legacy},
                 manifests_only)


def restore_oids(r: Repo, lookup: SpillLookup, tops: set[str], manifests_only: bool = False) -> None:
    """Fetch back the spilled objects among ``tops`` the cache lacks: manifests first, then the
    files (those of ``tops`` and those the manifests name)."""
    fetch_back(r, lookup, {o for o in tops if is_dir_oid(o)})
    if manifests_only:
        return
    files = {o for o in tops if not is_dir_oid(o)}
    for oid in tops:
        if is_dir_oid(oid):
            tree = r.odb.try_load_tree(oid)
            files.update(child for _, child in tree or ())
    fetch_back(r, lookup, files)


def refs_hook(r: Repo) -> Callable[[set[tuple[str, bool]]], None] | None:
    """``push``, ``fetch`` and ``pull``: given the refs a transfer needs, fetch back (verified)
    the spilled ones the cache lacks, so the transfer finds them in the cache; None for a repo
    that never spilled (no catalog opened). The caller holds the repo's lock."""
    lookup = lookup_for(r)
    if lookup is None:
        return None
    found = lookup

    def back(refs: set[tuple[str, bool]]) -> None:
        restore_oids(r, found, {oid for oid, legacy in refs if not legacy})

    return back


def held_elsewhere(r: Repo) -> Callable[[set[str]], set[str]] | None:
    """``status --cloud`` and ``verify``: which of the given oids (that the cache lacks) are
    spilled with their tier file present; None for a repo that never spilled."""
    lookup = lookup_for(r)
    if lookup is None:
        return None
    found = lookup
    return lambda oids: set(found.present(oids))


def lazy_held_elsewhere(r: Repo) -> Callable[[set[str]], set[str]] | None:
    """As ``held_elsewhere``, but the catalog is opened only when first asked (most pipeline
    checks find every object in the cache); None for a repo that never spilled. Thread safe."""
    if not spill_tiers(r):
        return None
    import threading

    guard = threading.Lock()
    found: list[Callable[[set[str]], set[str]] | None] = []

    def held(oids: set[str]) -> set[str]:
        with guard:
            if not found:
                found.append(held_elsewhere(r))
        look = found[0]
        return look(oids) if look is not None else set()

    return held


def restore_spilled(r: Repo, targets: list[str] | None, extra: list[Tracked]) -> None:
    """``checkout`` and ``pull``: in a cache that spilled, fetch back (verified) the spilled
    objects the chosen outputs need, under the repo's lock."""
    lookup = lookup_for(r)
    if lookup is None:
        return
    from labvault.workspace.index import select, workspace_outputs

    with r.locked():
        restore(r, lookup, select(workspace_outputs(r) + list(extra), r, targets or None))
