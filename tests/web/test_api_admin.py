"""The admin actions of the JSON API against a real server, on SQLite and PostgreSQL, on a lab of
its own (they change it): lifecycle apply, promote, demote and access grant/revoke; only admins
may call them, each defaults to a dry run, and each answers the shape of its command's ``--json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from labvault import api
from labvault.api import users
from labvault.api.jsonshape import apply_json
from labvault.catalog import store
from labvault.core import acl
from labvault.web.app import Settings
from tests.catalog.conftest import PgServer, new_catalog_url, pg_server  # noqa: F401  (fixture)
from tests.web.client import Client
from tests.web.conftest import PASSWORD, RunningServer, stable

OLD = 1_700_000_000  # older than the scan's racy window
LATER = datetime.now() + timedelta(days=8)  # past the 7-day hot-to-warm rule, short of warm-to-cold's 30
LV = str(Path(sys.executable).parent / "labvault")


class AdminLab:
    def __init__(self, root: Path, url: str, server: RunningServer, tokens: dict[str, str]) -> None:
        self.root, self.url, self.server, self.tokens = root, url, server, tokens

    @property
    def config(self) -> Path:
        return self.root / "lab.yaml"

    @property
    def unit(self) -> Path:
        return self.root / "mnt" / "nvme0" / "datasets" / "imagenet_v2_train"

    def client(self, role: str) -> Client:
        return Client(self.server.url, self.tokens[role])


def _files(base: Path) -> dict[str, bytes]:
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


@pytest.fixture(params=["sqlite", "postgresql"])
def admin_lab(request: pytest.FixtureRequest, tmp_path: Path, pg_server: PgServer | None,  # noqa: F811
              monkeypatch: pytest.MonkeyPatch) -> Iterator[AdminLab]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))
    monkeypatch.setenv("LABVAULT_SYSTEM_CONFIG_DIR", str(tmp_path / "system-config"))
    monkeypatch.delenv("LABVAULT_LAB", raising=False)
    monkeypatch.delenv("LABVAULT_CATALOG_URL", raising=False)
    url = new_catalog_url(request.param, tmp_path, pg_server)
    config = tmp_path / "lab.yaml"
    api.lab_init(tmp_path / "mnt", config)
    with config.open("a") as f:
        f.write(f"catalog_url: {url}\n")
    unit = tmp_path / "mnt" / "nvme0" / "datasets" / "imagenet_v2_train"
    for i in range(12):
        path = unit / f"part{i % 3}" / f"f{i:02d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(1000 + 97 * i))
        os.utime(path, (OLD, OLD))
    api.lab_scan(config, url)
    tokens = {}
    for role in ("viewer", "editor", "admin"):
        users.user_add(role, role, PASSWORD, catalog_url=url)
        tokens[role] = users.token_create(role, catalog_url=url).token
    settings = Settings(catalog_url=url, lab=str(config), auth_required=True)
    with RunningServer(settings) as server:
        yield AdminLab(tmp_path, url, server, tokens)
    store.forget(url)


ACTIONS = (("/api/v1/lifecycle/apply", {}), ("/api/v1/promote", {"name": "imagenet"}),
           ("/api/v1/demote", {"name": "imagenet", "to": "cold"}),
           ("/api/v1/access/grant", {"principal": "nobody", "permission": "read", "targets": ["x"]}),
           ("/api/v1/access/revoke", {"principal": "nobody", "permission": "read", "targets": ["x"]}))


def test_only_admins_may_act(admin_lab: AdminLab) -> None:
    before = _files(admin_lab.unit)
    for role in ("viewer", "editor"):
        for path, body in ACTIONS:
            assert admin_lab.client(role).post_json(path, {**body, "dry_run": False}).status == 403, (role, path)
    assert Client(admin_lab.server.url).post_json("/api/v1/lifecycle/apply", {"dry_run": False}).status in (401, 403)
    assert not admin_lab.unit.is_symlink() and _files(admin_lab.unit) == before


def test_apply_dry_run_then_for_real_then_promote_back(admin_lab: AdminLab) -> None:
    admin = admin_lab.client("admin")
    before = _files(admin_lab.unit)
    dry = admin.post_json("/api/v1/lifecycle/apply", {"as_of": LATER.isoformat()})  # dry_run by default
    assert dry.status == 200, dry.text
    assert [(o["ref"], o["status"], o["dst_tier"]) for o in dry.json()["outcomes"]] == [
        ("dataset imagenet@v2 (train)", "would move", "warm")]
    assert not admin_lab.unit.is_symlink()
    cli = subprocess.run([LV, "lifecycle", "apply", "--dry-run", "--json", "--lab", str(admin_lab.config),
                          "--as-of", LATER.isoformat()],
                         capture_output=True, text=True, check=True)
    assert stable(dry.json()) == stable(json.loads(cli.stdout))
    assert stable(dry.json()) == stable(apply_json(api.lifecycle_apply(dry_run=True, as_of=LATER, lab=admin_lab.config)))

    done = admin.post_json("/api/v1/lifecycle/apply", {"dry_run": False, "as_of": LATER.isoformat()})
    assert done.status == 200, done.text
    assert [o["status"] for o in done.json()["outcomes"]] == ["moved"]
    assert done.json()["moved_bytes"] == sum(len(b) for b in before.values())
    assert admin_lab.unit.is_symlink()
    warm = admin_lab.root / "mnt" / "ssd0" / "datasets" / admin_lab.unit.name
    assert _files(warm) == before
    again = admin.post_json("/api/v1/lifecycle/apply", {"dry_run": False, "as_of": LATER.isoformat()}).json()
    assert again["outcomes"] == [] and again["plan"]["moves"] == []

    assert admin.post_json("/api/v1/promote", {"name": "imagenet", "version": "v2"}).json()["outcomes"][0][
        "status"] == "would move"
    back = admin.post_json("/api/v1/promote", {"name": "imagenet@v2", "dry_run": False})
    assert back.status == 200, back.text
    assert [(o["status"], o["dst_tier"]) for o in back.json()["outcomes"]] == [("moved", "hot")]
    assert not admin_lab.unit.is_symlink() and _files(admin_lab.unit) == before


def test_bad_requests_are_one_line_and_change_nothing(admin_lab: AdminLab) -> None:
    admin = admin_lab.client("admin")
    before = _files(admin_lab.unit)
    no_tier = admin.post_json("/api/v1/demote", {"name": "imagenet", "dry_run": False})
    assert no_tier.status == 400 and "demote needs the tier" in no_tier.json()["error"]
    unknown = admin.post_json("/api/v1/promote", {"name": "no_such_set", "dry_run": False})
    assert unknown.status == 404 and "\n" not in unknown.json()["error"]
    bad_tier = admin.post_json("/api/v1/demote", {"name": "imagenet", "to": "nowhere", "dry_run": False})
    assert bad_tier.status == 400, bad_tier.text
    assert admin.post_json("/api/v1/lifecycle/apply", {"max_bytes": -1}).status == 422
    assert admin.post_json("/api/v1/access/grant", {"principal": "nobody", "permission": "own",
                                                     "targets": [str(admin_lab.unit)]}).status == 422
    assert not admin_lab.unit.is_symlink() and _files(admin_lab.unit) == before


def test_grant_and_revoke(admin_lab: AdminLab) -> None:
    admin = admin_lab.client("admin")
    body = {"principal": "nobody", "permission": "read", "targets": [str(admin_lab.unit)]}
    dry = admin.post_json("/api/v1/access/grant", body)
    assert dry.status == 200, dry.text
    assert [(g["principal"], g["before"], g["after"], g["dry_run"]) for g in dry.json()["items"]] == [
        ("user:nobody", None, "read", True)]
    assert all(("user", "nobody") not in f.named for f in acl.read(str(admin_lab.unit)))
    done = admin.post_json("/api/v1/access/grant", {**body, "dry_run": False}).json()["items"]
    assert [(g["after"], g["changed"]) for g in done] == [("read", True)]
    assert all(f.named[("user", "nobody")] in ("r--", "r-x") for f in acl.read(str(admin_lab.unit)))
    shown = admin_lab.client("viewer").get("/api/v1/access").json()["items"]
    assert [(g["principal_kind"], g["principal"], g["permission"]) for g in shown] == [("user", "nobody", "read")]
    gone = admin.post_json("/api/v1/access/revoke", {**body, "dry_run": False}).json()["items"]
    assert [(g["before"], g["after"]) for g in gone] == [("read", None)]
    assert all(("user", "nobody") not in f.named for f in acl.read(str(admin_lab.unit)))


def _backdate(url: str, days: int) -> None:
    """The lab's units registered, changed and last read ``days`` ago (as a lab left alone that long)."""
    import sqlalchemy as sa

    from labvault.catalog.lab_schema import lab_units

    then = datetime.now() - timedelta(days=days)
    with store.open_catalog(url).engine.begin() as conn:
        conn.execute(sa.update(lab_units).values(created_at=then, modified_at=then, last_access=None))


def test_the_tiers_page_applies_the_plan_for_admins_only(admin_lab: AdminLab) -> None:
    _backdate(admin_lab.url, 8)
    before = _files(admin_lab.unit)
    viewer = Client(admin_lab.server.url)
    assert viewer.login("viewer", PASSWORD).status == 303
    page = viewer.get("/tiers")
    assert page.status == 200 and "imagenet" in page.text and 'action="/tiers/apply"' not in page.text
    csrf = {"csrf_token": viewer.cookie("lv_csrf") or ""}
    assert viewer.post_form("/tiers/apply", {**csrf, "dry_run": "0"}).status == 403

    admin = Client(admin_lab.server.url)
    assert admin.login("admin", PASSWORD).status == 303
    page = admin.get("/tiers")
    assert 'action="/tiers/apply"' in page.text
    field = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert admin.post_form("/tiers/apply", {"dry_run": "0"}).status == 403  # no CSRF token
    dry = admin.post_form("/tiers/apply", {"csrf_token": field, "dry_run": "1"})
    assert dry.status == 200 and "would move" in dry.text and not admin_lab.unit.is_symlink()
    done = admin.post_form("/tiers/apply", {"csrf_token": field})
    assert done.status == 200 and ">moved<" in done.text, done.text
    assert admin_lab.unit.is_symlink() and _files(admin_lab.unit) == before
