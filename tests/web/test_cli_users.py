"""``labvault user``, ``token`` and ``serve``'s refusal, as a user runs them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from labvault.api import users
from tests.conftest import Runner


def _run(lv: Runner, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*lv.argv0, *args], cwd=lv.cwd, env=lv.env, input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_users_and_tokens_from_the_command_line(lv: Runner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cat.sqlite'}"
    added = _run(lv, "user", "add", "ada", "--role", "admin", "--password-stdin", "--catalog", url, "--json",
                 stdin="a long enough password\n")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["role"] == "admin"
    assert users.authenticate_password("ada", "a long enough password", url) is not None

    made = _run(lv, "token", "create", "--user", "ada", "--role", "viewer", "--expires", "30", "--catalog", url,
                "--json")
    token = json.loads(made.stdout)["token"]
    assert token.startswith("lv_") and users.authenticate_token(token, url) is not None
    listed = _run(lv, "token", "list", "--catalog", url, "--json")
    rows = json.loads(listed.stdout)
    assert token not in listed.stdout and rows[0]["prefix"] == token[:10] and rows[0]["role"] == "viewer"

    dry = _run(lv, "token", "revoke", str(rows[0]["id"]), "--dry-run", "--catalog", url)
    assert dry.returncode == 0 and users.authenticate_token(token, url) is not None
    assert _run(lv, "token", "revoke", str(rows[0]["id"]), "--catalog", url).returncode == 0
    assert users.authenticate_token(token, url) is None

    plain = _run(lv, "user", "list", "--catalog", url)
    assert "ada" in plain.stdout and "admin" in plain.stdout
    assert _run(lv, "user", "remove", "ada", "--dry-run", "--catalog", url).returncode == 0
    assert [u.name for u in users.user_list(url)] == ["ada"]
    assert _run(lv, "user", "remove", "ada", "--catalog", url).returncode == 0
    assert users.user_list(url) == []


def test_bad_input_is_one_line_and_changes_nothing(lv: Runner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cat.sqlite'}"
    short = _run(lv, "user", "add", "bob", "--role", "viewer", "--password-stdin", "--catalog", url, stdin="short\n")
    assert short.returncode == 2 and short.stderr.count("\n") == 1 and "shorter than 8" in short.stderr
    bad_name = _run(lv, "user", "add", "../x", "--role", "viewer", "--no-password", "--catalog", url)
    assert bad_name.returncode == 2 and "invalid user name" in bad_name.stderr
    assert users.user_list(url) == []
    _run(lv, "user", "add", "bob", "--role", "viewer", "--no-password", "--catalog", url)
    twice = _run(lv, "user", "add", "bob", "--role", "admin", "--no-password", "--catalog", url)
    assert twice.returncode == 2 and "exists already" in twice.stderr
    higher = _run(lv, "token", "create", "--user", "bob", "--role", "admin", "--catalog", url)
    assert higher.returncode == 2 and "cannot have role admin" in higher.stderr
    assert users.token_list(catalog_url=url) == []


def test_serve_refuses_a_public_address_without_an_admin(lv: Runner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cat.sqlite'}"
    proc = _run(lv, "serve", "--host", "0.0.0.0", "--port", "0", "--catalog", url)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "refusing to serve on 0.0.0.0" in proc.stderr
