"""Retention decisions equal real restic's (`restic forget --dry-run --json`, restic 0.14).

One restic repository per test session holds one history of backdated snapshots of two tiny
files (varied hosts, paths, tags, times clustered so that hours, days, ISO weeks, months and
years collide), in a time zone with summer time. Each `forget --dry-run` call applies one random
policy to a random selection (`--host`, `--tag` filters, `--group-by`), and every group restic
reports is one history compared: identical keep and remove sets and identical reasons. The test
goes on until 500 group histories have been compared.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from labvault.backup.retention import Policy, Snapshot, parse_duration, plan_retention

RESTIC = shutil.which("restic")
pytestmark = pytest.mark.skipif(RESTIC is None, reason="restic (Debian package `restic`) is the oracle: make postgres")
HOSTS = ["h1", "h2", "h3"]
TAGS = ["a", "b", "c"]
NSNAPSHOTS = 48
HISTORIES = 500


def _env(repo: Path) -> dict[str, str]:
    return {**os.environ, "RESTIC_REPOSITORY": str(repo), "RESTIC_PASSWORD": "test", "TZ": "Europe/Berlin",
            "RESTIC_CACHE_DIR": str(repo.parent / "cache")}


def _times(rng: random.Random, n: int) -> list[dt.datetime]:
    base = dt.datetime(2019, 12, 20, 12, 0, 0)
    out: set[dt.datetime] = set()
    while len(out) < n:
        scale = rng.choice([dt.timedelta(minutes=50), dt.timedelta(hours=30), dt.timedelta(days=9),
                            dt.timedelta(days=60), dt.timedelta(days=800)])
        t = base + rng.random() * scale
        out.add(t.replace(microsecond=0))
    return sorted(out)


@pytest.fixture(scope="session")
def restic_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("restic")
    repo = root / "repo"
    env = _env(repo)
    subprocess.run([str(RESTIC), "init", "-q"], env=env, check=True, capture_output=True)
    for name in ("f", "g"):
        (root / name).write_text(name)
    rng = random.Random(12)
    for t in _times(rng, NSNAPSHOTS):
        tags = [x for x in TAGS if rng.random() < 0.4]
        args = [str(RESTIC), "backup", "-q", "--host", rng.choice(HOSTS), "--time", t.strftime("%Y-%m-%d %H:%M:%S")]
        for tag in tags:
            args += ["--tag", tag]
        args.append(rng.choice(["f", "g"]))
        subprocess.run(args, env=env, cwd=root, check=True, capture_output=True)
    yield repo


def _parse_time(text: str) -> dt.datetime:
    head, _, rest = text.partition(".")
    if rest:  # fractional seconds (restic writes up to 9 digits), then the offset
        digits = "".join(c for c in rest if c.isdigit())
        tail = rest[len(digits):]
        text = f"{head}.{digits[:6].ljust(6, '0')}{tail}"
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _snapshot(d: dict[str, object]) -> Snapshot:
    return Snapshot(str(d["id"]), _parse_time(str(d["time"])), str(d["hostname"]),
                    tuple(d["paths"]),  # type: ignore[arg-type]
                    frozenset(d.get("tags") or ()))  # type: ignore[arg-type]


def _random_policy(rng: random.Random) -> tuple[list[str], Policy]:
    args: list[str] = []
    kw: dict[str, object] = {}
    for name in ("last", "hourly", "daily", "weekly", "monthly", "yearly"):
        if rng.random() < 0.35:
            n = rng.randint(1, 6)
            args += [f"--keep-{name}", str(n)]
            kw[name] = n
    if rng.random() < 0.3:
        text = "".join(f"{rng.randint(1, 14)}{u}" for u in "ymdh" if rng.random() < 0.4) or f"{rng.randint(1, 50)}d"
        args += ["--keep-within", text]
        kw["within"] = parse_duration(text)
    if rng.random() < 0.25:
        tagsets = [sorted(rng.sample(TAGS, rng.randint(1, 2))) for _ in range(rng.randint(1, 2))]
        for ts in tagsets:
            args += ["--keep-tag", ",".join(ts)]
        kw["keep_tags"] = tuple(frozenset(ts) for ts in tagsets)
    return args, Policy(**kw)  # type: ignore[arg-type]


def test_same_decisions_as_restic(restic_repo: Path) -> None:
    env = _env(restic_repo)
    listing = subprocess.run([str(RESTIC), "snapshots", "--json"], env=env, check=True, capture_output=True)
    every = [_snapshot(d) for d in json.loads(listing.stdout)]
    assert len(every) == NSNAPSHOTS
    rng = random.Random(2026)
    compared = 0
    calls = 0
    while compared < HISTORIES:
        args, policy = _random_policy(rng)
        if policy.is_empty():
            continue  # restic 0.14 refuses to act without a policy; the empty policy is unit-tested
        group_by = rng.choice(["host,paths", "host", "paths", "tags", "host,tags", ""])
        chosen = list(every)
        filters: list[str] = []
        if rng.random() < 0.4:
            host = rng.choice(HOSTS)
            filters += ["--host", host]
            chosen = [s for s in chosen if s.hostname == host]
        if rng.random() < 0.3:
            tag = rng.choice(TAGS)
            filters += ["--tag", tag]
            chosen = [s for s in chosen if tag in s.tags]
        proc = subprocess.run([str(RESTIC), "forget", "--dry-run", "--json", "--group-by", group_by, *filters, *args],
                              env=env, capture_output=True, check=True)
        calls += 1
        theirs = json.loads(proc.stdout or b"[]") or []
        ours = plan_retention(chosen, policy, [g for g in group_by.split(",") if g])
        ours_by_key = {(p.hostname or "", tuple(sorted(p.paths or ())), tuple(sorted(p.tags or ()))): p for p in ours}
        assert len(ours) == len(theirs), (args, group_by, filters)
        for group in theirs:
            key = (group["host"] or "", tuple(sorted(group["paths"] or [])), tuple(sorted(group["tags"] or [])))
            mine = ours_by_key[key]
            keep = {s["id"] for s in group["keep"] or []}
            remove = {s["id"] for s in group["remove"] or []}
            assert {s.id for s in mine.keep} == keep, (args, group_by, filters, key)
            assert {s.id for s in mine.remove} == remove, (args, group_by, filters, key)
            their_reasons = [r["matches"] for r in group["reasons"] or []]
            assert [list(d.reasons) for d in mine.decisions if d.keep] == their_reasons, (args, group_by)
            compared += 1
    assert calls >= 1 and compared >= HISTORIES
