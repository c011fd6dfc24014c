"""``labvault verify --remote/--tier/--status``: scrubbing runs and coverage, as text or JSON."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.main import _state, emit_json, human_size
from labvault.core.scrub_plan import parse_slice
from labvault.errors import UsageError

CORRUPTION_EXIT = 9


def run_scrub(ctx: click.Context, remote: str | None, tier: str | None, slice_: str | None, budget: str | None,
              status: bool, revisions: tuple[str, ...], lab: str | None, catalog_url: str | None, as_json: bool,
              remove_corrupt: bool) -> int:
    if remote is not None and tier is not None:
        raise UsageError("--remote and --tier do not go together", "verify one at a time")
    if remove_corrupt:
        raise UsageError("--remove-corrupt works on a whole-cache verify only", "drop --remote/--tier/--status/"
                                                                                "--slice/--budget")
    if status:
        if slice_ is not None or budget is not None:
            raise UsageError("--status reads nothing: --slice and --budget do not apply", "drop them")
        cov = api.verify_status(remote=remote, tier=tier, lab=lab, catalog_url=catalog_url)
        _show_status(cov, as_json)
        if not cov.ok:
            ctx.exit(CORRUPTION_EXIT)
        return 0
    parsed = parse_slice(slice_) if slice_ is not None else None
    progress = _state(ctx).progress
    if remote is None and tier is None:
        r = api.verify_cache(parsed, budget, catalog_url=catalog_url, progress=progress)
    elif remote is not None:
        r = api.verify_remote(remote, parsed, budget, revisions, catalog_url=catalog_url, progress=progress)
    else:
        assert tier is not None
        r = api.verify_tier(tier, parsed, budget, lab=lab, catalog_url=catalog_url, progress=progress)
    if as_json:
        emit_json(r.to_json())
    else:
        part = f" (slice {r.slice})" if r.slice else f" (budget {r.budget})" if r.budget else ""
        click.echo(f"{r.kind} {r.name}: read {r.checked} of {r.objects} objects{part}, {human_size(r.bytes_read)}: "
                   f"{len(r.problems)} problem(s)")
        for p in r.problems:
            click.echo(f"{p.problem}: {p.item}" + (f": {p.detail}" if p.detail else ""))
            for owner in p.belongs_to:
                click.echo(f"  belongs to {owner}")
    if not r.ok:
        ctx.exit(CORRUPTION_EXIT)
    return 0


def _show_status(cov: api.CoverageStatus, as_json: bool) -> None:
    if as_json:
        emit_json(cov.to_json())
        return
    click.echo(f"{cov.kind} {cov.name}: {cov.objects} objects ({human_size(cov.bytes)})")
    click.echo(f"  verified intact within 30 days: {cov.verified_30d:.1%}, within 90 days: {cov.verified_90d:.1%}")
    click.echo(f"  never verified: {cov.never_verified}")
    click.echo(f"  oldest verification: {cov.oldest_verified_at or '-'}, newest: {cov.last_verified_at or '-'}")
    click.echo(f"  failures: {len(cov.failures)}")
    for p in cov.failures:
        click.echo(f"{p.problem}: {p.item}" + (f": {p.detail}" if p.detail else ""))
        for owner in p.belongs_to:
            click.echo(f"  belongs to {owner}")
