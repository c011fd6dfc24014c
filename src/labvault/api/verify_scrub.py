"""Reading stored data back and scrubbing::

    from labvault import api

    r = api.verify_remote("storage", slice=(3, 7))      # the 3rd of 7 slices of the remote's objects
    for p in r.problems:
        print(p.problem, p.item, p.belongs_to)          # ("data/images/cat.png (data/images.dvc, workspace)",)
    api.verify_tier("cold", budget="500GB")             # the least recently verified units first
    print(api.verify_status(remote="storage").verified_30d)

Every object read is recorded in the catalog (``verify_records``, revision 0008) with when and
what was found; ``verify_status`` turns that into coverage. See docs/design.md ("Verifying and
scrubbing").
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from labvault.api.verify_types import CoverageStatus, ScrubProblem, ScrubResult
from labvault.catalog.scrub_log import Record, record, records
from labvault.catalog.store import Catalog, now
from labvault.core import scrub_plan
from labvault.errors import UsageError
from labvault.progress import NULL_PROGRESS, Progress

PathLike = str | os.PathLike[str]

__all__ = ["CoverageStatus", "ScrubProblem", "ScrubResult", "verify_cache", "verify_remote", "verify_status",
           "verify_tier"]


def _select(keys: list[str], sizes: dict[str, int], done: dict[str, Record], slice: tuple[int, int] | None,
            budget: str | None) -> tuple[list[str], float | None]:
    """The keys this run reads, in order, and the monotonic deadline of a time budget."""
    if slice is not None and budget is not None:
        raise UsageError("--slice and --budget do not go together", "give one of them")
    if slice is not None:
        n, t = slice
        if not 1 <= n <= t:
            raise UsageError(f"invalid slice {n}/{t}", "give N/T with 1 <= N <= T, e.g. --slice 3/7")
        return scrub_plan.in_slice(sorted(keys), n, t), None
    if budget is None:
        return sorted(keys), None
    b = scrub_plan.parse_budget(budget)
    ordered = scrub_plan.by_age(keys, {k: r.verified_at for k, r in done.items()})
    if b.bytes is not None:
        return scrub_plan.within_bytes(ordered, sizes, b.bytes), None
    assert b.seconds is not None
    return ordered, time.monotonic() + b.seconds


def verify_remote(remote: str | None = None, slice: tuple[int, int] | None = None, budget: str | None = None,
                  revisions: Sequence[str] = (), repo: PathLike | None = None, catalog_url: str | None = None,
                  record_results: bool = True, progress: Progress = NULL_PROGRESS) -> ScrubResult:
    """Read back the objects of ``remote`` (the default one when None): all, the slice N/T, or
    what ``budget`` allows; plus every object the workspace (and ``revisions``) names that the
    remote lacks. Problems name the outputs the objects belong to."""
    from labvault.api.catalog import catalog_open
    from labvault.api.data import _open
    from labvault.remotes.scrub import fetch_tree, list_objects, read_back
    from labvault.workspace.owners import collect_owners
    from labvault.workspace.remotes import open_remote, remote_url

    r = _open(repo, progress)
    store = open_remote(r, remote, r.jobs)
    name, url = remote_url(r, store.name)
    try:
        listed = list_objects(store.backend)
        owners = collect_owners(r, tuple(revisions), lambda oid, legacy: fetch_tree(store.backend, oid, legacy))
        scope = f"remote:{url}"
        cat = catalog_open(catalog_url, repo)
        done = records(cat, scope)
        by_key = {oid: (oid, legacy) for oid, legacy in listed}
        sizes = {oid: size for (oid, _legacy), size in listed.items()}
        chosen, deadline = _select(list(by_key), sizes, done, slice, budget)
        again = [k for k, rec in done.items() if rec.problem == "missing" and k in by_key and k not in chosen]
        checks = read_back(store.backend, [(by_key[k], sizes[k]) for k in chosen + sorted(again)], store.jobs,
                           deadline, progress)
        held = {oid for oid, _legacy in listed}
        lacking = sorted({oid for oid, legacy in owners.refs if oid not in held
                          and ((oid, legacy) not in owners.optional or r.odb.exists(oid, legacy))})
    finally:
        store.backend.close()
    at = now()
    rows = [Record(c.ref[0], c.size, at, c.problem is None, c.problem, c.detail) for c in checks]
    rows += [Record(oid, 0, at, False, "missing", "named by the workspace, not on the remote") for oid in lacking]
    problems = [ScrubProblem(row.item, row.problem or "", row.size, row.detail, owners.of(row.item))
                for row in rows if not row.ok]
    if record_results:
        record(cat, scope, rows)
    return ScrubResult("remote", name, len(listed), sum(sizes.values()), len(chosen), len(checks),
                       sum(c.size for c in checks), _slice_text(slice), budget, tuple(problems), record_results)


def verify_cache(slice: tuple[int, int] | None = None, budget: str | None = None, repo: PathLike | None = None,
                 catalog_url: str | None = None, record_results: bool = True,
                 progress: Progress = NULL_PROGRESS) -> ScrubResult:
    """Scrub the repo's cache: re-hash its objects (all, the slice N/T, or what ``budget`` allows)
    and report the objects the workspace names that the cache lacks; recorded like a remote's."""
    from labvault.api.catalog import catalog_open
    from labvault.api.data import _open
    from labvault.core.verify import check_objects
    from labvault.workspace.owners import collect_owners

    r = _open(repo, progress)
    objects = {o.oid: o for o in r.odb.iter_objects(with_size=True)}
    owners = collect_owners(r)
    scope = f"cache:{r.odb.root}"
    cat = catalog_open(catalog_url, repo)
    done = records(cat, scope)
    sizes = {k: o.size for k, o in objects.items()}
    chosen, deadline = _select(list(objects), sizes, done, slice, budget)
    checks = check_objects(r.odb, [objects[k] for k in chosen], r.jobs, deadline, progress)
    lacking = sorted({oid for oid, legacy in owners.refs - owners.optional if not r.odb.exists(oid, legacy)})
    at = now()
    rows = [Record(o.oid, o.size, at, p is None, p, None) for o, p in checks]
    rows += [Record(oid, 0, at, False, "missing", "named by the workspace, not in the cache") for oid in lacking]
    if record_results:
        record(cat, scope, rows)
    problems = tuple(ScrubProblem(row.item, row.problem or "", row.size, row.detail, owners.of(row.item))
                     for row in rows if not row.ok)
    return ScrubResult("cache", str(r.odb.root), len(objects), sum(sizes.values()), len(chosen), len(checks),
                       sum(o.size for o, _ in checks), _slice_text(slice), budget, problems, record_results)


def verify_tier(tier: str, slice: tuple[int, int] | None = None, budget: str | None = None,
                lab: PathLike | None = None, catalog_url: str | None = None, record_results: bool = True,
                progress: Progress = NULL_PROGRESS) -> ScrubResult:
    """Read back the live placements of ``tier`` (a folder tier) and compare each with its unit's
    content hash: all, the slice N/T, or what ``budget`` allows."""
    from labvault.api.lab import lab_catalog
    from labvault.tiers import load as _load
    from labvault.tiers.scrub import check_items, tier_items

    config = _load.load_lab(lab)
    t = config.tier(tier)
    if not t.is_local:
        raise UsageError(f"tier {tier!r} is a bucket tier; verify --tier reads folder tiers",
                         "verify its bucket as a remote (labvault verify --remote NAME)")
    cat = lab_catalog(config, catalog_url)
    items = {i.location: i for i in tier_items(cat, tier)}
    scope = f"tier:{tier}"
    done = records(cat, scope)
    sizes = {k: i.size for k, i in items.items()}
    chosen, deadline = _select(list(items), sizes, done, slice, budget)
    checks = check_items(cat, [items[k] for k in chosen], deadline, progress)
    at = now()
    rows = [Record(c.item.location, c.item.size, at, c.problem is None, c.problem, c.detail) for c in checks]
    if record_results:
        record(cat, scope, rows)
    problems = tuple(ScrubProblem(c.item.location, c.problem, c.item.size, c.detail, (f"{c.item.kind} {c.item.unit}",))
                     for c in checks if c.problem is not None)
    return ScrubResult("tier", tier, len(items), sum(sizes.values()), len(chosen), len(checks),
                       sum(c.item.size for c in checks), _slice_text(slice), budget, problems, record_results)


def verify_status(remote: str | None = None, tier: str | None = None, repo: PathLike | None = None,
                  lab: PathLike | None = None, catalog_url: str | None = None,
                  when: datetime | None = None) -> CoverageStatus:
    """Coverage of a remote's objects, a tier's placements, or (neither given) the repo's cache: the fraction read back intact within
    30 and 90 days, the oldest verification, and the objects whose last verification failed."""
    if remote is not None and tier is not None:
        raise UsageError("verify --status takes --remote NAME or --tier NAME, not both", "give one of them")
    if tier is not None:
        from labvault.api.lab import lab_catalog
        from labvault.tiers import load as _load
        from labvault.tiers.scrub import tier_items

        config = _load.load_lab(lab)
        config.tier(tier)
        cat = lab_catalog(config, catalog_url)
        current = {i.location: i.size for i in tier_items(cat, tier)}
        belongs = {i.location: (f"{i.kind} {i.unit}",) for i in tier_items(cat, tier)}
        return _coverage("tier", tier, cat, f"tier:{tier}", current, lambda k: belongs.get(k, ()), when)
    from labvault.api.catalog import catalog_open
    from labvault.api.data import _open
    from labvault.remotes.scrub import list_objects
    from labvault.workspace.owners import collect_owners
    from labvault.workspace.remotes import open_remote, remote_url

    r = _open(repo, NULL_PROGRESS)
    if remote is None:
        cached = {o.oid: o.size for o in r.odb.iter_objects(with_size=True)}
        return _coverage("cache", str(r.odb.root), catalog_open(catalog_url, repo), f"cache:{r.odb.root}", cached,
                         collect_owners(r).of, when)
    store = open_remote(r, remote, r.jobs)
    name, url = remote_url(r, store.name)
    try:
        current = {oid: size for (oid, _legacy), size in list_objects(store.backend).items()}
    finally:
        store.backend.close()
    owners = collect_owners(r)
    return _coverage("remote", name, catalog_open(catalog_url, repo), f"remote:{url}", current, owners.of, when)


def _coverage(kind: str, name: str, cat: Catalog, scope: str, current: dict[str, int],
              belongs: Callable[[str], tuple[str, ...]], when: datetime | None) -> CoverageStatus:
    at = when or now()
    done = records(cat, scope)
    seen = [done[k] for k in current if k in done]
    n = len(current)

    def fraction(days: int) -> float:
        fresh = sum(1 for rec in seen if rec.ok and rec.verified_at >= at - timedelta(days=days))
        return fresh / n if n else 1.0

    failures = tuple(ScrubProblem(rec.item, rec.problem or "", rec.size, rec.detail, belongs(rec.item))
                     for rec in sorted(done.values(), key=lambda x: x.item)
                     if not rec.ok and (rec.item in current or rec.problem == "missing"))
    times = [rec.verified_at for rec in seen]
    return CoverageStatus(kind, name, n, sum(current.values()), fraction(30), fraction(90), n - len(seen),
                          min(times).isoformat() if times else None, max(times).isoformat() if times else None,
                          failures)


def _slice_text(s: tuple[int, int] | None) -> str | None:
    return f"{s[0]}/{s[1]}" if s is not None else None
