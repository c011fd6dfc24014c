"""``serve``, ``user add|list|remove`` and ``token create|list|revoke``: the dashboard server and
who may use it."""

from __future__ import annotations

import sys

import click

from labvault.api import users as api_users
from labvault.cli.main import cli, emit_json, json_option

dry_run_option = click.option("-n", "--dry-run", is_flag=True, help="Show what would change; change nothing.")
lab_option = click.option("--lab", type=click.Path(dir_okay=False),
                          help="The lab config file (default: LABVAULT_LAB, then the user's, then the system's).")
catalog_option = click.option("--catalog", "catalog_url", metavar="URL",
                              help="Catalog database (default: LABVAULT_CATALOG_URL, then the lab config's).")
ROLE = click.Choice(list(api_users.ROLES))


def _url(lab: str | None, catalog_url: str | None) -> str | None:
    return api_users.server_catalog_url(lab, catalog_url)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs an admin user.")
@click.option("--port", default=8600, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@lab_option
@catalog_option
@click.option("--repo", "repos", multiple=True, type=click.Path(file_okay=False),
              help="A repository whose pipeline and metrics to show (repeatable).")
@click.option("--secret-file", type=click.Path(dir_okay=False),
              help="Sign sessions with the secret in this file (made when absent), so that they survive a "
                   "restart (default: a new secret at every start).")
@click.option("--secure-cookies", is_flag=True, help="Mark cookies Secure (behind an HTTPS proxy).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes: 2 or more serve concurrent requests on several cores (one process "
                   "runs one request's Python at a time); the login limit is shared out among them.")
def serve(host: str, port: int, lab: str | None, catalog_url: str | None, repos: tuple[str, ...],
          secret_file: str | None, secure_cookies: bool, workers: int) -> None:
    """Serve the lab's dashboard and JSON API (/api/v1, OpenAPI at /api/docs) until Ctrl-C.

    With no users in the catalog, anyone on this machine may read (never write), and only a
    loopback address is served; once a user exists, everyone signs in. Serving on another
    address needs an admin user.

    \b
    Example:
      labvault serve --lab lab.yaml --repo .
      labvault user add ada --role admin && labvault serve --host 0.0.0.0 --secret-file ~/.labvault-secret
      labvault serve --workers 2 --catalog postgresql://lab@db/catalog
    """
    from labvault.web.server import serve as run
    from labvault.web.server import server_settings

    settings = server_settings(host, lab, catalog_url, repos, secret_file, secure_cookies)
    mode = "sign-in required" if settings.auth_required else "anonymous read-only (no users yet)"
    procs = f", {workers} processes" if workers > 1 else ""
    click.echo(f"labvault dashboard on http://{host}:{port}/ ({mode}{procs}); Ctrl-C stops it", err=True)
    run(settings, host, port, workers=workers)


@cli.group()
def user() -> None:
    """Users of the dashboard server, each with a role: viewer (reads), editor (also registers and
    tags), admin (also tiers, backups, access). There is no sign-up.

    \b
    Example:
      labvault user add ada --role admin
      printf '%s\\n' "$PASSWORD" | labvault user add bob --role viewer --password-stdin --unix bob
      labvault user list --json
    """


def _read_password(password_stdin: bool, no_password: bool) -> str | None:
    if no_password:
        return None
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))


@user.command("add")
@click.argument("name")
@click.option("--role", type=ROLE, required=True, help="What the user may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--no-password", is_flag=True, help="No password: the user signs in with API tokens only.")
@click.option("--unix", metavar="PRINCIPAL",
              help="The unix user or group (user:NAME, group:NAME) whose access grants filter what the user sees.")
@lab_option
@catalog_option
@json_option
def user_add(name: str, role: str, password_stdin: bool, no_password: bool, unix: str | None, lab: str | None,
             catalog_url: str | None, as_json: bool) -> None:
    """Add a user (asks for the password twice unless --password-stdin or --no-password).

    \b
    Example:
      labvault user add ada --role admin
      labvault user add ci --role editor --no-password && labvault token create --user ci
    """
    url = _url(lab, catalog_url)
    u = api_users.user_add(name, role, _read_password(password_stdin, no_password), unix, url)
    emit_json(u) if as_json else click.echo(f"added {u.role} {u.name}")


@user.command("list")
@lab_option
@catalog_option
@json_option
def user_list(lab: str | None, catalog_url: str | None, as_json: bool) -> None:
    """List the users.

    \b
    Example:
      labvault user list --json
    """
    users = api_users.user_list(_url(lab, catalog_url))
    if as_json:
        emit_json(users)
        return
    for u in users:
        login = "password" if u.has_password else "tokens only"
        click.echo(f"{u.name:<20} {u.role:<7} {login:<12} {u.unix_principal or '-'}")


@user.command("remove")
@click.argument("name")
@dry_run_option
@lab_option
@catalog_option
@json_option
def user_remove(name: str, dry_run: bool, lab: str | None, catalog_url: str | None, as_json: bool) -> None:
    """Remove a user and its tokens; its sessions stop working at once.

    \b
    Example:
      labvault user remove bob --dry-run
    """
    u = api_users.user_remove(name, dry_run, _url(lab, catalog_url))
    if as_json:
        emit_json({"dry_run": dry_run, "user": u})
    else:
        click.echo(f"{'would remove' if dry_run else 'removed'} {u.role} {u.name}")


@cli.group()
def token() -> None:
    """API tokens for scripts: send one as `Authorization: Bearer TOKEN`. A token is shown once;
    the catalog keeps only its hash.

    \b
    Example:
      labvault token create --user ada --role viewer --expires 30
      curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8600/api/v1/datasets
    """


@token.command("create")
@click.option("--user", "user_name", required=True, help="Whose token it is.")
@click.option("--role", type=ROLE, help="The token's role (default and at most the user's).")
@click.option("--expires", type=click.FloatRange(min=0, min_open=True), metavar="DAYS",
              help="Stop working after DAYS days (default: never).")
@lab_option
@catalog_option
@json_option
def token_create(user_name: str, role: str | None, expires: float | None, lab: str | None,
                 catalog_url: str | None, as_json: bool) -> None:
    """Make an API token and print it (once: it cannot be shown again).

    \b
    Example:
      labvault token create --user ada --role viewer --expires 30
    """
    new = api_users.token_create(user_name, role, expires, _url(lab, catalog_url))
    if as_json:
        emit_json({"token": new.token, **vars(new.info)})
    else:
        click.echo(new.token)
        click.echo(f"token {new.info.id} ({new.info.role}) for {new.info.user}: shown once, store it now", err=True)


@token.command("list")
@click.option("--user", "user_name", help="Only this user's tokens.")
@lab_option
@catalog_option
@json_option
def token_list(user_name: str | None, lab: str | None, catalog_url: str | None, as_json: bool) -> None:
    """List tokens (their first characters, never the tokens).

    \b
    Example:
      labvault token list --user ada
    """
    tokens = api_users.token_list(user_name, _url(lab, catalog_url))
    if as_json:
        emit_json(tokens)
        return
    for t in tokens:
        state = "revoked" if t.revoked else f"expires {t.expires:%Y-%m-%d}" if t.expires else "no expiry"
        click.echo(f"{t.id:>5} {t.prefix}...  {t.user:<20} {t.role:<7} {state}")


@token.command("revoke")
@click.argument("token_id", type=int)
@dry_run_option
@lab_option
@catalog_option
@json_option
def token_revoke(token_id: int, dry_run: bool, lab: str | None, catalog_url: str | None, as_json: bool) -> None:
    """Revoke a token by its id (see `labvault token list`); it stops working at once.

    \b
    Example:
      labvault token revoke 3
    """
    t = api_users.token_revoke(token_id, dry_run, _url(lab, catalog_url))
    if as_json:
        emit_json({"dry_run": dry_run, "token": t})
    else:
        click.echo(f"{'would revoke' if dry_run else 'revoked'} token {t.id} of {t.user}")
