"""``verify --remote/--tier`` and scrubbing: injected damage (flipped byte, truncated, missing) is
found every time, on a folder and an S3 (moto) remote and on a tier, named by what it belongs
to; slices and budgets cover every object; ``--status`` figures."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault import api
from labvault.catalog.scrub_schema import verify_records
from labvault.catalog.store import forget, now, open_catalog
from labvault.core import scrub_plan
from labvault.errors import UsageError
from tests.conftest import Runner
from tests.remote_support import RemoteTarget, make_target
from tests.services import s3_server  # noqa: F401  (fixture)

# --- the slice and budget rules, against the obvious model --------------------------------------

@given(st.lists(st.text(min_size=1, max_size=40), unique=True, max_size=200), st.integers(1, 12))
def test_slices_are_disjoint_and_cover_everything(keys: list[str], total: int) -> None:
    slices = [scrub_plan.in_slice(keys, n, total) for n in range(1, total + 1)]
    assert sorted(k for s in slices for k in s) == sorted(keys)
    for n in range(1, total + 1):  # the same slice every time (a run can be repeated)
        assert scrub_plan.in_slice(list(reversed(keys)), n, total) == sorted(slices[n - 1], key=list(
            reversed(keys)).index)


@given(st.dictionaries(st.text(min_size=1, max_size=20), st.integers(0, 1000), min_size=1, max_size=60),
       st.integers(1, 3000))
def test_budget_runs_rotate_through_everything(sizes: dict[str, int], limit: int) -> None:
    """Runs that each verify what the budget allows, least recently verified first, reach every
    key within ceil(total/limit) + len runs, and never skip one for two rounds."""
    clock = now()
    verified: dict[str, object] = {}
    seen: set[str] = set()
    for run in range(len(sizes) + sum(sizes.values()) // limit + 2):
        ordered = scrub_plan.by_age(list(sizes), verified)  # type: ignore[arg-type]
        chosen = scrub_plan.within_bytes(ordered, sizes, limit)
        assert chosen and chosen == ordered[:len(chosen)]
        assert sum(sizes[k] for k in chosen) <= limit or len(chosen) == 1
        for k in chosen:
            verified[k] = clock + timedelta(seconds=run)
        seen.update(chosen)
    assert seen == set(sizes)


def test_budget_and_slice_parsing() -> None:
    assert scrub_plan.parse_budget("500GB").bytes == 500 * 1000**3
    assert scrub_plan.parse_budget("2GiB").bytes == 2 << 30
    assert scrub_plan.parse_budget("1000").bytes == 1000
    assert scrub_plan.parse_budget("30m").seconds == 1800
    assert scrub_plan.parse_budget("2h").seconds == 7200
    assert scrub_plan.parse_slice("3/7") == (3, 7)
    for bad in ("0/3", "4/3", "x", "3"):
        with pytest.raises(UsageError):
            scrub_plan.parse_slice(bad)
    for bad in ("", "lots", "-1GB", "0s"):
        with pytest.raises(UsageError):
            scrub_plan.parse_budget(bad)


# --- a repo pushed to a remote ------------------------------------------------------------------

def _repo(tmp_path: Path, target: RemoteTarget, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k, v in target.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("LABVAULT_CATALOG_URL", f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    repo = tmp_path / "proj"
    repo.mkdir()
    api.init(repo, no_scm=True)
    (repo / "data" / "images").mkdir(parents=True)
    for i in range(6):
        (repo / "data" / "images" / f"img{i}.png").write_bytes(os.urandom(3000 + i))
    (repo / "data" / "labels.csv").write_bytes(b"id,label\n" + os.urandom(900))
    api.add(["data/images", "data/labels.csv"], repo=repo)
    api.remote_add("store", target.url, default=True, repo=repo)
    for option, value in target.cli_options:
        api.remote_modify("store", option, value, repo=repo)
    api.push(repo=repo)
    return repo


def _file_objects(target: RemoteTarget) -> dict[str, str]:
    """md5 -> key of the file objects (not manifests) on the remote."""
    out = {}
    for key in target.object_keys():
        parts = key.split("/")
        if not parts[3].endswith(".dir"):
            out[parts[2] + parts[3]] = key
    return out


def _damage(target: RemoteTarget, key: str, how: str, at: int = 0) -> bytes:
    """Damage one object; returns its bytes for repair."""
    data = target.read(key)
    if how == "flip":
        pos = at % len(data)
        target.write(key, data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1:])
    elif how == "truncate":
        target.write(key, data[:at % len(data)])
    else:
        target.remove(key)
    return data


@pytest.fixture(params=["local", "s3"])
def pushed(request: pytest.FixtureRequest, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, RemoteTarget]]:
    target = make_target(request.param, request, tmp_path)
    repo = _repo(tmp_path, target, monkeypatch)
    yield repo, target
    forget()


def test_every_kind_of_damage_is_found_and_named(pushed: tuple[Path, RemoteTarget]) -> None:
    repo, target = pushed
    clean = api.verify_remote("store", repo=repo)
    assert clean.ok and clean.objects == clean.checked == 8 and clean.bytes_read == clean.bytes
    objects = _file_objects(target)
    label_md5 = next(m for m in objects if (repo / "data/labels.csv").read_bytes()[:9] == target.read(objects[m])[:9])
    images = sorted(m for m in objects if m != label_md5)
    damaged = {label_md5: "flip", images[0]: "truncate", images[1]: "remove"}
    for md5, how in damaged.items():
        _damage(target, objects[md5], how, at=5)
    r = api.verify_remote("store", repo=repo)
    found = {p.item: p.problem for p in r.problems}
    assert found == {label_md5: "corrupt", images[0]: "corrupt", images[1]: "missing"}
    by_item = {p.item: p.belongs_to for p in r.problems}
    assert by_item[label_md5] == ("data/labels.csv (data/labels.csv.dvc, workspace)",)
    assert by_item[images[1]][0].startswith("data/images/img") and "(data/images.dvc, workspace)" in by_item[images[1]][0]
    status = api.verify_status(remote="store", repo=repo)
    assert {p.item for p in status.failures} == set(damaged)
    assert status.objects == 7 and status.never_verified == 0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 6), how=st.sampled_from(["flip", "truncate", "remove"]), at=st.integers(0, 10_000),
       total=st.integers(1, 5))
def test_injected_damage_is_found_every_time_by_its_slice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          which: int, how: str, at: int, total: int) -> None:
    base = tmp_path / f"ex-{which}-{how}-{at}-{total}"
    if base.exists():
        shutil.rmtree(base)
    base.mkdir()
    (base / "remote-store").mkdir()
    target = RemoteTarget("local", str(base / "remote-store"), {}, {}, str(base / "nowhere"), _root=base / "remote-store")
    repo = _repo(base, target, monkeypatch)
    objects = sorted(_file_objects(target).items())
    md5, key = objects[which % len(objects)]
    _damage(target, key, how, at)
    hits = []
    for n in range(1, total + 1):
        r = api.verify_remote("store", slice=(n, total), repo=repo)
        hits += [(p.item, p.problem) for p in r.problems if p.item == md5]
    # a corrupt object is found by its one slice; a missing one by every run (it is not listed)
    if how == "remove":
        assert hits == [(md5, "missing")] * total
    else:
        assert hits == [(md5, "corrupt")]
    forget()


def test_slices_cover_the_remote_once_and_status_counts(pushed: tuple[Path, RemoteTarget]) -> None:
    repo, _target = pushed
    checked: list[int] = []
    for n in range(1, 4):
        checked.append(api.verify_remote("store", slice=(n, 3), repo=repo).checked)
    assert sum(checked) == 8
    cat = open_catalog(os.environ["LABVAULT_CATALOG_URL"])
    with cat.read() as conn:
        rows = conn.execute(sa.select(verify_records.c.item, verify_records.c.ok)).all()
    assert len(rows) == 8 and all(ok for _, ok in rows)
    status = api.verify_status(remote="store", repo=repo)
    assert (status.verified_30d, status.verified_90d, status.never_verified) == (1.0, 1.0, 0)
    later = api.verify_status(remote="store", repo=repo, when=now() + timedelta(days=45))
    assert (later.verified_30d, later.verified_90d) == (0.0, 1.0)
    # half the records made old: 30-day coverage halves, the oldest is the old one
    items = sorted(i for i, _ in rows)[:4]
    old = now() - timedelta(days=40)
    with cat.engine.begin() as conn:
        conn.execute(verify_records.update().where(verify_records.c.item.in_(items)).values(verified_at=old))
    status = api.verify_status(remote="store", repo=repo)
    assert status.verified_30d == 0.5 and status.oldest_verified_at == old.isoformat()
    # a budget run picks the least recently verified first
    r = api.verify_remote("store", budget="1", repo=repo)
    assert r.checked == 1
    with cat.read() as conn:
        fresh = conn.execute(sa.select(verify_records.c.item).where(verify_records.c.verified_at > old)).scalars().all()
    assert len(fresh) == 5 and set(items) - set(fresh) != set(items)


def test_cli_exit_codes_and_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lv: Runner,
                                 env: dict[str, str], request: pytest.FixtureRequest) -> None:
    target = make_target("local", request, tmp_path)
    repo = _repo(tmp_path, target, monkeypatch)
    env["LABVAULT_CATALOG_URL"] = os.environ["LABVAULT_CATALOG_URL"]
    ok = json.loads(lv("verify", "--remote", "store", "--json", cwd=repo).stdout)
    assert ok["ok"] and ok["checked"] == 8 and ok["problems"] == []
    key = next(iter(_file_objects(target).values()))
    _damage(target, key, "flip")
    proc = lv("verify", "--remote", "store", "--slice", "1/1", cwd=repo, check=False)
    assert proc.returncode == 9 and "corrupt:" in proc.stdout and "belongs to" in proc.stdout
    status = lv("verify", "--status", "--remote", "store", "--json", cwd=repo, check=False)
    assert status.returncode == 9 and len(json.loads(status.stdout)["failures"]) == 1
    bad = lv("verify", "--remote", "store", "--slice", "4/3", cwd=repo, check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    cache = lv("verify", "--slice", "1/3", "--json", cwd=repo)  # the cache is intact
    assert json.loads(cache.stdout)["kind"] == "cache"
    bad = lv("verify", "--remote", "store", "--tier", "hot", cwd=repo, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error:")


# --- a tier -------------------------------------------------------------------------------------

def test_tier_damage_is_found_with_its_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "hot"
    (root / "datasets" / "imagenet_v2_train").mkdir(parents=True)
    for i in range(4):
        (root / "datasets" / "imagenet_v2_train" / f"part{i}.bin").write_bytes(os.urandom(2000))
    (root / "datasets" / "coco_v1_val.zip").write_bytes(os.urandom(5000))
    (root / "datasets" / "mnist_v1_test").mkdir()
    (root / "datasets" / "mnist_v1_test" / "x.bin").write_bytes(os.urandom(100))
    # files modified within the scan's racy window are not recorded in its stat cache (by design),
    # and the detail below names files against those records: date them a minute back
    past = time.time() - 60
    for f in (root / "datasets").rglob("*"):
        os.utime(f, (past, past))
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump({"version": 1, "tiers": {"hot": {"path": str(root)}}}))
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    monkeypatch.delenv("LABVAULT_CATALOG_URL", raising=False)
    api.lab_scan(lab=lab, catalog_url=url)
    clean = api.verify_tier("hot", lab=lab, catalog_url=url)
    assert clean.ok and clean.objects == clean.checked == 3
    part = root / "datasets" / "imagenet_v2_train" / "part2.bin"
    data = part.read_bytes()
    part.write_bytes(data[:100] + bytes([data[100] ^ 0x80]) + data[101:])
    with open(root / "datasets" / "coco_v1_val.zip", "r+b") as f:
        f.truncate(10)
    shutil.rmtree(root / "datasets" / "mnist_v1_test")
    r = api.verify_tier("hot", lab=lab, catalog_url=url)
    found = {os.path.basename(p.item): (p.problem, p.belongs_to[0]) for p in r.problems}
    assert found["imagenet_v2_train"][0] == "corrupt" and "imagenet@v2" in found["imagenet_v2_train"][1]
    assert found["coco_v1_val.zip"][0] == "corrupt" and found["mnist_v1_test"][0] == "missing"
    detail = next(p.detail for p in r.problems if p.item.endswith("imagenet_v2_train"))
    assert detail is not None and "changed: part2.bin" in detail
    status = api.verify_status(tier="hot", lab=lab, catalog_url=url)
    assert len(status.failures) == 3 and status.verified_30d == 0.0
    slices = [api.verify_tier("hot", slice=(n, 2), lab=lab, catalog_url=url).checked for n in (1, 2)]
    assert sum(slices) == 3
    forget(url)


# --- the cache ----------------------------------------------------------------------------------

def test_cache_scrub_finds_damage_and_rotates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "remote-store").mkdir()
    target = RemoteTarget("local", str(tmp_path / "remote-store"), {}, {}, str(tmp_path / "nowhere"),
                          _root=tmp_path / "remote-store")
    repo = _repo(tmp_path, target, monkeypatch)
    clean = api.verify_cache(repo=repo)
    assert clean.ok and clean.kind == "cache" and clean.checked == clean.objects == 8
    cache = repo / ".dvc" / "cache" / "files" / "md5"
    objs = sorted(p for p in cache.glob("??/*") if not p.name.endswith(".dir"))
    flipped, removed = objs[0], objs[1]
    data = flipped.read_bytes()
    flipped.chmod(0o644)
    flipped.write_bytes(bytes([data[0] ^ 1]) + data[1:])
    removed.chmod(0o644)
    removed.unlink()
    found = {p.item: p.problem for p in api.verify_cache(repo=repo).problems}
    assert found == {flipped.parent.name + flipped.name: "corrupt", removed.parent.name + removed.name: "missing"}
    # a budget of one object per run reaches all 7 left in 7 runs, least recently verified first
    started = now()
    for _ in range(7):
        assert api.verify_cache(budget="1", repo=repo).checked == 1
    cat = open_catalog(os.environ["LABVAULT_CATALOG_URL"])
    with cat.read() as conn:
        recent = conn.execute(sa.select(verify_records.c.item).where(
            verify_records.c.scope.startswith("cache:"), verify_records.c.size > 0,
            verify_records.c.verified_at >= started)).scalars().all()
    assert len(recent) == 7  # every object once
    status = api.verify_status(repo=repo)
    assert status.kind == "cache" and status.objects == 7 and status.never_verified == 0
    assert {p.item for p in status.failures} == set(found)


def test_legacy_remote_objects_are_hashed_as_dvc2_named_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A DVC 2.x object of a text file with CRLF is named by the md5 of its bytes with LF."""
    from labvault.core.hashing import md5_file
    from labvault.remotes.local import LocalBackend
    from labvault.remotes.scrub import list_objects, read_back

    root = tmp_path / "old-remote"
    text = tmp_path / "t.txt"
    text.write_bytes(b"a,b\r\n1,2\r\n")
    oid = md5_file(text, legacy=True)
    assert oid != md5_file(text)
    (root / oid[:2]).mkdir(parents=True)
    (root / oid[:2] / oid[2:]).write_bytes(text.read_bytes())
    backend = LocalBackend(str(root))
    listed = list_objects(backend)
    assert listed == {(oid, True): 10}
    assert [c.problem for c in read_back(backend, list(listed.items()))] == [None]


def test_owners_at_git_revisions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An object only an older commit's pointer names is reported missing with that revision."""
    import subprocess

    monkeypatch.setenv("LABVAULT_CATALOG_URL", f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    for k, v in (("GIT_AUTHOR_NAME", "t"), ("GIT_AUTHOR_EMAIL", "t@x"), ("GIT_COMMITTER_NAME", "t"),
                 ("GIT_COMMITTER_EMAIL", "t@x")):
        monkeypatch.setenv(k, v)
    repo = tmp_path / "proj"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    api.init(repo)
    (repo / "model.bin").write_bytes(b"first version")
    api.add(["model.bin"], repo=repo)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "v1"], cwd=repo, check=True)
    subprocess.run(["git", "tag", "v1"], cwd=repo, check=True)
    (repo / "model.bin").write_bytes(b"second version")
    api.add(["model.bin"], repo=repo)
    (tmp_path / "remote").mkdir()
    api.remote_add("store", str(tmp_path / "remote"), default=True, repo=repo)
    api.push(repo=repo)  # the workspace's version only
    assert api.verify_remote("store", repo=repo).ok
    r = api.verify_remote("store", revisions=["v1"], repo=repo)
    assert [(p.problem, p.belongs_to) for p in r.problems] == [("missing", ("model.bin (model.bin.dvc, v1)",))]


def test_files_of_a_folder_are_named_from_the_remote_manifest(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "remote-store").mkdir()
    target = RemoteTarget("local", str(tmp_path / "remote-store"), {}, {}, str(tmp_path / "nowhere"),
                          _root=tmp_path / "remote-store")
    repo = _repo(tmp_path, target, monkeypatch)
    for manifest in (repo / ".dvc" / "cache" / "files" / "md5").glob("??/*.dir"):
        manifest.chmod(0o644)
        manifest.unlink()  # the cache no longer knows the folder's files
    img = (repo / "data" / "images" / "img3.png").read_bytes()
    md5 = next(m for m, key in _file_objects(target).items() if target.read(key) == img)
    _damage(target, _file_objects(target)[md5], "flip", at=7)
    r = api.verify_remote("store", repo=repo)
    assert [(p.item, p.belongs_to) for p in r.problems] == [
        (md5, ("data/images/img3.png (data/images.dvc, workspace)",))]
