"""Protection and access control seen by unprivileged users (root ignores modes, so each check
runs a child process as a test user through setpriv): a user cannot change protected raw data,
nor read a group's data it is not in; a granted user can read (and write when granted write); a
revoked one cannot; the labvault command line run by such a user fails with one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from labvault import api
from tests.access.conftest import LabUsers, clear_flags

LV = str(Path(sys.executable).parent / "labvault")

# One attempt per line, each printing its outcome: "ok" or the exception's class name.
PROBE = r"""
import os, sys
def attempt(name, fn):
    try:
        fn()
        print(name, "ok")
    except OSError as e:
        print(name, type(e).__name__)
d = sys.argv[1]
attempt("list", lambda: os.listdir(d))
attempt("read", lambda: open(os.path.join(d, "a.csv")).read())
attempt("append", lambda: open(os.path.join(d, "a.csv"), "a").write("x"))
attempt("create", lambda: open(os.path.join(d, "new.csv"), "w").write("x"))
attempt("rename", lambda: os.rename(os.path.join(d, "a.csv"), os.path.join(d, "c.csv")))
attempt("delete", lambda: os.unlink(os.path.join(d, "b.csv")))
attempt("chmod", lambda: os.chmod(os.path.join(d, "a.csv"), 0o644))
"""


def probe(users: LabUsers, user: str, folder: Path) -> dict[str, str]:
    proc = users.run_as(user, [sys.executable, "-c", PROBE, str(folder)])
    assert proc.returncode == 0, proc.stderr
    return dict(line.split(" ", 1) for line in proc.stdout.splitlines())


@pytest.fixture
def shared(iso: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A repository in a folder every user may enter (pytest's own temp folders are root-only),
    with a catalog the test users may write too."""
    base = Path(tempfile.mkdtemp(prefix="lv-privdrop-"))
    os.chmod(base, 0o755)
    catalog = base / "catalog"
    catalog.mkdir()
    os.chmod(catalog, 0o777)
    monkeypatch.setenv("LABVAULT_CATALOG_URL", f"sqlite:///{catalog / 'catalog.sqlite'}")
    repo = base / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    api.init(repo)
    for folder in ("raw/reviews", "secret", "processed"):
        (repo / "data" / folder).mkdir(parents=True)
        for name in ("a.csv", "b.csv"):
            (repo / "data" / folder / name).write_text(f"{folder}/{name}\n")
    api.add(["data/raw/reviews"], repo=repo)
    monkeypatch.chdir(repo)
    try:
        yield repo
    finally:
        clear_flags(base)
        shutil.rmtree(base)


def test_nobody_changes_protected_raw_data_not_even_its_owner(shared: Path, lab_users: LabUsers) -> None:
    reviews = shared / "data/raw/reviews"
    for p in [reviews, *reviews.iterdir()]:
        shutil.chown(p, user=lab_users.alice)  # alice owns the data: modes alone would not stop her
    os.chmod(reviews, 0o775)
    result = api.protect(["data/raw/reviews"])[0]
    for user in (lab_users.alice, lab_users.bob):
        seen = probe(lab_users, user, reviews)
        assert seen["list"] == seen["read"] == "ok"
        assert {seen[k] for k in ("append", "create", "rename", "delete")} == {"PermissionError"}, (user, seen)
    owner = probe(lab_users, lab_users.alice, reviews)
    # Only the immutable flag stops the owner from giving herself write permission back.
    assert owner["chmod"] == ("PermissionError" if result.immutable else "ok"), (result, owner)
    assert probe(lab_users, lab_users.bob, reviews)["chmod"] == "PermissionError"
    assert sorted(p.name for p in reviews.iterdir()) == ["a.csv", "b.csv"]
    assert (reviews / "a.csv").read_text() == "raw/reviews/a.csv\n"


def test_group_data_is_read_by_granted_users_only(shared: Path, lab_users: LabUsers) -> None:
    secret = shared / "data/secret"
    shutil.chown(secret, group=lab_users.outsiders)
    os.chmod(secret, 0o750)
    for p in secret.iterdir():
        shutil.chown(p, group=lab_users.outsiders)
        os.chmod(p, 0o640)
    for user in (lab_users.alice, lab_users.bob):
        assert probe(lab_users, user, secret)["list"] == "PermissionError"
    api.access_grant(f"group:{lab_users.team}", "read", ["data/secret"])
    alice, bob = probe(lab_users, lab_users.alice, secret), probe(lab_users, lab_users.bob, secret)
    assert alice["list"] == alice["read"] == "ok" and alice["append"] == alice["create"] == "PermissionError"
    assert bob["list"] == bob["read"] == "PermissionError"
    api.access_grant(lab_users.bob, "write", ["data/secret"])
    bob = probe(lab_users, lab_users.bob, secret)
    assert bob["read"] == bob["append"] == bob["create"] == bob["rename"] == "ok", bob
    # New files inherit the grants: alice (through her group) reads what bob wrote.
    alice = lab_users.run_as(lab_users.alice, [sys.executable, "-c", f"print(open({str(secret / 'new.csv')!r}).read())"])
    assert alice.returncode == 0 and alice.stdout.strip() == "x"
    for p in secret.iterdir():  # back to a.csv and b.csv, owned by root (bob owns what he made)
        p.unlink()
    for name in ("a.csv", "b.csv"):
        (secret / name).write_text(name)
    api.access_revoke(lab_users.bob, "write", ["data/secret"])
    bob = probe(lab_users, lab_users.bob, secret)
    assert bob["list"] == bob["read"] == "ok"
    assert bob["append"] == bob["create"] == bob["rename"] == bob["delete"] == "PermissionError", bob
    api.access_revoke(lab_users.bob, "read", ["data/secret"])
    api.access_revoke(f"group:{lab_users.team}", "read", ["data/secret"])
    for user in (lab_users.alice, lab_users.bob):
        assert probe(lab_users, user, secret)["list"] == "PermissionError"
    assert api.access_show() == []


def test_the_command_line_as_an_unprivileged_user_fails_with_one_line(shared: Path, lab_users: LabUsers) -> None:
    api.protect(["data/raw/reviews"])
    home = str(shared.parent / "catalog")
    env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": home, "XDG_DATA_HOME": home,
           "LABVAULT_SYSTEM_CONFIG_DIR": home}
    for args in (["unprotect", "data/raw/reviews"], ["protect", "data/processed"], ["add", "data/raw/reviews"],
                 ["commit", "--new-version"], ["access", "grant", lab_users.bob, "read", "data/raw/reviews"]):
        proc = lab_users.run_as(lab_users.alice, [LV, *args], cwd=shared, env=env)
        assert proc.returncode != 0, (args, proc.stdout)
        assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert api.status(repo=shared).clean
    assert [p.path for p in api.protected()] == [str(shared / "data/raw/reviews")]
