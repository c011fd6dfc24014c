"""protect / unprotect on repository outputs and lab datasets, against the obvious way (os.stat of
every file, the flags read back, the .dvc file's text, the catalog's rows)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault import api
from labvault.core import readonly
from labvault.errors import CatalogError, PathError, ProtectedDataError
from labvault.workspace.pointer import load_pointer

LV = [str(Path(sys.executable).parent / "labvault")]


def modes(base: Path) -> dict[str, int]:
    out = {}
    for root, dirs, files in os.walk(base):
        for n in [".", *dirs, *files]:
            p = os.path.normpath(os.path.join(root, n))
            out[os.path.relpath(p, base)] = stat.S_IMODE(os.lstat(p).st_mode)
    return out


def lv(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LV, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_protect_clears_write_bits_keeps_read_bits_and_records(repo: Path) -> None:
    reviews = repo / "data/raw/reviews"
    before = modes(reviews)
    labels_mode = stat.S_IMODE(os.stat(repo / "data/raw/labels.csv").st_mode)
    results = api.protect(["data/raw/reviews", "data/raw/labels.csv"])
    assert [(r.kind, r.changed) for r in results] == [("repo", True), ("repo", True)]
    assert modes(reviews) == {k: v & ~0o222 for k, v in before.items()}
    assert stat.S_IMODE(os.stat(repo / "data/raw/labels.csv").st_mode) == labels_mode & ~0o222 == 0o444
    # The immutable flag: set everywhere (tests run as root on ext4), or not at all, as reported.
    flagged = {p: readonly.is_immutable(str(reviews / p)) for p in before}
    assert set(flagged.values()) == {bool(results[0].immutable)}
    if results[0].immutable:
        with pytest.raises(PermissionError):
            (reviews / "a.csv").open("a")
        with pytest.raises(PermissionError):
            (reviews / "new.csv").write_text("x")
        with pytest.raises(PermissionError):
            os.rename(reviews / "a.csv", reviews / "c.csv")
    else:
        assert results[0].immutable_problem
    for rel in ("data/raw/reviews.dvc", "data/raw/labels.csv.dvc"):
        assert load_pointer(repo / rel).extra["meta"] == {"labvault": {"protected": True}}
    rows = {p.path: p for p in api.protected()}
    assert set(rows) == {str(reviews), str(repo / "data/raw/labels.csv")}
    assert rows[str(reviews)].kind == "repo" and rows[str(reviews)].content_hash == load_pointer(repo / "data/raw/reviews.dvc").outs[0].oid
    assert rows[str(reviews)].immutable == bool(results[0].immutable)
    again = api.protect(["data/raw/reviews"])
    assert not again[0].changed and api.status(repo=repo).clean


def test_dry_run_changes_nothing(repo: Path) -> None:
    before = (modes(repo / "data"), (repo / "data/raw/reviews.dvc").read_text())
    r = api.protect(["data/raw"], dry_run=True)
    assert {x.path for x in r} == {str(repo / "data/raw/reviews"), str(repo / "data/raw/labels.csv")}
    assert all(x.dry_run and x.changed for x in r)
    assert (modes(repo / "data"), (repo / "data/raw/reviews.dvc").read_text()) == before
    assert api.protected() == []
    assert not readonly.is_immutable(str(repo / "data/raw/reviews"))


def test_status_flags_a_changed_protected_output_and_add_refuses_it(repo: Path) -> None:
    api.protect(["data/raw/reviews"])
    target = repo / "data/raw/reviews/a.csv"
    readonly.set_immutable(str(target), False)  # what root or a careless tool could do
    os.chmod(target, 0o644)
    target.write_text("id,text\n1,changed\n")
    out = {o.path: o for o in api.status(repo=repo).outputs}
    assert out["data/raw/reviews"].protected and out["data/raw/reviews"].status == "modified"
    assert not out["data/raw/labels.csv"].protected
    pointer = (repo / "data/raw/reviews.dvc").read_text()
    for call in (lambda: api.commit(["data/raw/reviews"], repo=repo), lambda: api.add(["data/raw/reviews"], repo=repo)):
        with pytest.raises(ProtectedDataError):
            call()
        assert (repo / "data/raw/reviews.dvc").read_text() == pointer
    shown = lv("status", cwd=repo)
    assert "data/raw/reviews: protected, modified" in shown.stdout
    refused = lv("commit", cwd=repo)
    assert refused.returncode == 4 and refused.stderr.count("\n") == 1 and "--new-version" in refused.stderr
    assert "Traceback" not in refused.stderr
    done = api.commit(["data/raw/reviews"], repo=repo, new_version=True)
    assert done[0].changed and (repo / "data/raw/reviews.dvc").read_text() != pointer
    assert api.protected()[0].content_hash == done[0].oid
    assert stat.S_IMODE(os.stat(target).st_mode) & 0o222 == 0
    assert load_pointer(repo / "data/raw/reviews.dvc").extra["meta"]["labvault"]["protected"] is True
    assert api.status(repo=repo).clean


def test_unprotect_restores_the_pointer_and_owner_write(repo: Path) -> None:
    pointer = (repo / "data/raw/reviews.dvc").read_text()
    before = modes(repo / "data/raw/reviews")
    api.protect(["data/raw/reviews"])
    preview = api.lift_protection(["data/raw/reviews"], dry_run=True)
    assert preview[0].changed and readonly.is_immutable(str(repo / "data/raw/reviews")) == bool(
        api.protected()[0].immutable)
    lifted = api.lift_protection(["data/raw/reviews"])
    assert lifted[0].changed
    assert (repo / "data/raw/reviews.dvc").read_text() == pointer
    assert modes(repo / "data/raw/reviews") == {k: (v & ~0o222) | 0o200 for k, v in before.items()}
    assert not any(readonly.is_immutable(str(repo / "data/raw/reviews" / p)) for p in before)
    assert api.protected() == []
    (repo / "data/raw/reviews/a.csv").write_text("editable again\n")
    assert not api.lift_protection(["data/raw/labels.csv"])[0].changed


def test_the_command_line(repo: Path) -> None:
    r = lv("protect", "data/raw/reviews", "--json", cwd=repo)
    assert r.returncode == 0, r.stderr
    assert '"kind": "repo"' in r.stdout
    r = lv("unprotect", "data/raw/reviews", "--dry-run", cwd=repo)
    assert r.returncode == 0 and "would lift the protection" in r.stdout
    assert readonly.writable_entries(str(repo / "data/raw/reviews")) == []
    r = lv("unprotect", "data/raw/reviews", cwd=repo)
    assert r.returncode == 0 and "lifted the protection" in r.stdout
    (repo / "notes.txt").write_text("not tracked\n")
    for args in (["protect", "notes.txt"], ["protect", "nosuchdataset"], ["protect", "/etc/passwd"]):
        r = lv(*args, cwd=repo)
        assert r.returncode == 2 and r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, (args, r.stderr)
    assert stat.S_IMODE(os.stat("/etc/passwd").st_mode) & 0o200


def test_card_check_refuses_protected_and_raw_data_without_a_card(repo: Path) -> None:
    report = api.card_check(["data/raw/reviews"])
    assert any("raw dataset without a provenance card" in p.problem or "no provenance card" in p.problem
               for p in report.problems)
    api.protect(["data/raw/labels.csv"])
    report = api.card_check(["data"])
    lines = [p.line() for p in report.problems]
    assert any(line.startswith("data/raw/labels.csv: protected dataset without a provenance card") for line in lines)
    api.card_new("data/raw", source="https://example.com/labels", license="CC BY 4.0", description="labels")
    report = api.card_check(["data/raw/labels.csv"])
    assert not any("without a provenance card" in p.problem for p in report.problems)
    # data/ holds a card now (data/raw/README.md), yet the raw folder output beside it has none.
    r = lv("card", "check", "data", cwd=repo)
    assert r.returncode == 1
    assert "data/raw/reviews: raw dataset without a provenance card" in r.stdout


def test_protect_a_lab_dataset_by_name(iso: Path, tmp_path: Path) -> None:
    root = tmp_path / "mnt"
    api.lab_init(root)
    ds = root / "nvme0/datasets/imagenet_v2_train"
    (ds / "sub").mkdir(parents=True)
    (ds / "a.bin").write_bytes(os.urandom(1000))
    (ds / "sub/b.txt").write_text("hello\n")
    old = 1_700_000_000
    for p in (ds / "a.bin", ds / "sub/b.txt"):
        os.utime(p, (old, old))
    api.lab_scan()
    results = api.protect(["imagenet@v2"])
    assert [(r.kind, r.target, r.path) for r in results] == [("lab", "imagenet@v2", str(ds))]
    assert readonly.writable_entries(str(ds)) == []
    assert [p.kind for p in api.protected()] == ["lab"]
    report = api.card_check(["imagenet@v2"])
    assert any("without a provenance card" in p.problem for p in report.problems)
    assert api.protect([str(ds / "sub/b.txt")])[0].path == str(ds)  # a path inside names the dataset
    api.lift_protection(["imagenet@v2"])
    assert api.protected() == [] and (ds / "a.bin").stat().st_mode & 0o200
    with pytest.raises(CatalogError):
        api.protect(["nosuch@v1"])
    with pytest.raises(PathError):
        api.protect([str(iso)])  # neither tracked nor on the lab's folders


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c/d", "c/e", "f/g/h"]), st.integers(0o400, 0o777)),
                min_size=1, max_size=6, unique_by=lambda t: t[0]),
       st.integers(0o500, 0o777))
def test_read_only_model(tmp_path: Path, files: list[tuple[str, int]], dir_mode: int) -> None:
    """make_read_only then make_writable, against the model: every mode minus its write bits,
    then plus the owner's write bit; nothing else changes."""
    base = tmp_path / f"t{abs(hash((tuple(files), dir_mode)))}"
    for rel, _ in files:
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_text(rel)
    for rel, mode in files:
        os.chmod(base / rel, mode)
    for root, dirs, _ in os.walk(base):
        for d in dirs:
            os.chmod(os.path.join(root, d), dir_mode)
    before = modes(base)
    readonly.make_read_only(str(base), immutable=False)
    assert modes(base) == {k: v & ~0o222 for k, v in before.items()}
    readonly.make_writable(str(base))
    assert modes(base) == {k: (v & ~0o222) | 0o200 for k, v in before.items()}
