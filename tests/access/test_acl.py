"""access grant / revoke / show / check with the real setfacl and getfacl: the ACLs read back with
getfacl (our own parse of its output, checked against the file system's modes), the catalog's
rows, and the audit's findings after each kind of damage done by hand."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from labvault import api
from labvault.core import acl
from labvault.errors import PathError, UsageError
from tests.access.conftest import LabUsers

LV = str(Path(sys.executable).parent / "labvault")


def entries(path: Path) -> dict[str, tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]]:
    """relpath -> (named entries, named default entries), straight from getfacl."""
    return {os.path.relpath(f.path, path): (f.named, f.default_named) for f in acl.read(str(path))}


def test_grant_revoke_and_the_records(repo: Path, lab_users: LabUsers) -> None:
    alice, team = lab_users.alice, lab_users.team
    data = repo / "data" / "raw"
    r = api.access_grant(alice, "read", ["data/raw"])
    assert [(x.principal, x.before, x.after) for x in r] == [(f"user:{alice}", None, "read")]
    got = entries(data)
    for rel, (named, defaults) in got.items():
        is_dir = (data / rel).is_dir()
        assert named[("user", alice)] == ("r-x" if is_dir else "r--"), rel
        assert defaults == ({("user", alice): "r-x"} if is_dir else {}), rel
    (data / "later.csv").write_text("new\n")  # inherits the default entry
    assert acl.read(str(data / "later.csv"))[0].named[("user", alice)] in ("r--", "r-x")
    (data / "later.csv").unlink()

    api.access_grant(f"group:{team}", "write", ["data/raw/reviews"])
    assert entries(data / "reviews")["a.csv"][0][("group", team)] == "rw-"
    api.access_grant(alice, "read", ["data/raw"])  # again: nothing changes
    shown = {(g.principal_kind, g.principal, g.permission, g.path) for g in api.access_show()}
    assert shown == {("user", alice, "read", str(data)), ("group", team, "write", str(data / "reviews"))}
    assert [g.principal for g in api.access_show(["data/raw/reviews/a.csv"])] == [team, alice] or \
        {g.principal for g in api.access_show(["data/raw/reviews/a.csv"])} == {team, alice}
    assert api.access_check().ok, api.access_check().problems

    down = api.access_revoke(f"group:{team}", "write", ["data/raw/reviews"])
    assert (down[0].before, down[0].after) == ("write", "read")
    assert entries(data / "reviews")["a.csv"][0][("group", team)] == "r--"
    api.access_revoke(f"group:{team}", "read", ["data/raw/reviews"])
    api.access_revoke(alice, "read", ["data/raw"])
    assert all(named == {} and defaults == {} for named, defaults in entries(data).values())
    assert api.access_show() == []
    assert api.access_check().ok


def test_access_for_follows_groups_and_protection(repo: Path, lab_users: LabUsers) -> None:
    api.access_grant(f"group:{lab_users.team}", "write", ["data/raw/reviews"])
    api.access_grant(lab_users.bob, "read", ["data/raw/labels.csv"])
    a = api.access_for(lab_users.alice)
    assert lab_users.team in a.groups
    assert a.may(str(repo / "data/raw/reviews/a.csv"), "write") and a.may(str(repo / "data/raw/reviews"))
    assert not a.may(str(repo / "data/raw/labels.csv"))
    b = api.access_for(lab_users.bob)
    assert b.may(str(repo / "data/raw/labels.csv")) and not b.may(str(repo / "data/raw/labels.csv"), "write")
    assert not b.may(str(repo / "data/raw/reviews/a.csv"))
    api.access_revoke(f"group:{lab_users.team}", "write", ["data/raw/reviews"])
    api.protect(["data/raw/reviews"])
    a = api.access_for(lab_users.alice)
    assert a.may(str(repo / "data/raw/reviews/a.csv")) and not a.may(str(repo / "data/raw/reviews/a.csv"), "write")


def test_protected_data_takes_read_grants_but_refuses_write(repo: Path, lab_users: LabUsers) -> None:
    res = api.protect(["data/raw/reviews"])
    with pytest.raises(UsageError, match="protected"):
        api.access_grant(lab_users.alice, "write", ["data/raw/reviews"])
    with pytest.raises(UsageError, match="protected"):
        api.access_grant(lab_users.alice, "write", ["data/raw"])  # holds protected data
    api.access_grant(lab_users.alice, "read", ["data/raw/reviews"])  # through the immutable flag
    assert entries(repo / "data/raw/reviews")["a.csv"][0] == {("user", lab_users.alice): "r--"}
    from labvault.core import readonly

    assert readonly.is_immutable(str(repo / "data/raw/reviews/a.csv")) == bool(res[0].immutable)
    assert api.access_check().ok, api.access_check().problems


def test_dry_run_and_bad_input_change_nothing(repo: Path, lab_users: LabUsers, tmp_path: Path) -> None:
    before = entries(repo / "data")
    r = api.access_grant(lab_users.alice, "write", ["data/raw"], dry_run=True)
    assert r[0].dry_run and r[0].changed and entries(repo / "data") == before and api.access_show() == []
    with pytest.raises(UsageError, match="no user or group named"):
        api.access_grant("lvnosuchprincipal", "read", ["data/raw"])
    with pytest.raises(UsageError, match="no group named"):
        api.access_grant(f"group:{lab_users.alice}", "read", ["data/raw"])
    with pytest.raises(UsageError, match="unknown permission"):
        api.access_grant(lab_users.alice, "execute", ["data/raw"])
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with pytest.raises(PathError, match="outside"):
        api.access_grant(lab_users.alice, "read", ["data/raw", str(outside)])  # checked before any change
    with pytest.raises(PathError):
        api.access_grant(lab_users.alice, "read", [".dvc/config"])
    assert entries(repo / "data") == before and api.access_show() == []
    assert acl.read(str(outside))[0].named == {}
    # Without setfacl: one line, exit 2, nothing changed.
    env = {**os.environ, "PATH": str(tmp_path / "empty-bin")}
    proc = subprocess.run([LV, "access", "grant", lab_users.alice, "read", "data/raw"], cwd=repo, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "setfacl is not installed" in proc.stderr
    proc = subprocess.run([LV, "access", "grant", "lvnosuchprincipal", "read", "data/raw"], cwd=repo,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert entries(repo / "data") == before


def test_check_finds_each_kind_of_damage(repo: Path, lab_users: LabUsers) -> None:
    api.access_grant(f"group:{lab_users.team}", "read", ["data/raw"])
    api.protect(["data/raw/labels.csv"])
    assert api.access_check().ok
    reviews = repo / "data/raw/reviews"
    os.chmod(reviews / "a.csv", 0o666)  # world-writable
    subprocess.run(["setfacl", "-m", f"u:{lab_users.bob}:rw", str(reviews / "b.csv")], check=True)  # unrecorded
    subprocess.run(["setfacl", "-x", f"g:{lab_users.team}", str(reviews)], check=True)  # entry lost
    os.chown(reviews / "b.csv", -1, 65534)  # another group
    labels = repo / "data/raw/labels.csv"
    from labvault.core import readonly

    readonly.set_immutable(str(labels), False)
    os.chmod(labels, 0o644)  # protected, yet writable
    report = api.access_check()
    kinds = {(os.path.relpath(p.path, repo), p.kind) for p in report.problems}
    assert ("data/raw/reviews/a.csv", "world_writable") in kinds
    assert ("data/raw/reviews/b.csv", "extra_acl") in kinds
    assert ("data/raw/reviews", "missing_acl") in kinds
    assert ("data/raw/reviews/b.csv", "mixed_group") in kinds
    assert ("data/raw/labels.csv", "protected_writable") in kinds
    proc = subprocess.run([LV, "access", "check"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 1 and len(proc.stdout.splitlines()) == len(report.problems)
    json_out = subprocess.run([LV, "access", "check", "--json"], cwd=repo, capture_output=True, text=True)
    assert json_out.returncode == 1 and '"world_writable"' in json_out.stdout
