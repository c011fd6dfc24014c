"""``labvault backup schedule``: the cron line or systemd timer of a backup policy."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.backup_commands import backup_group, lab_option
from labvault.cli.main import emit_json, json_option


@backup_group.command(name="schedule")
@click.argument("policy", required=False)
@click.option("--print", "action", flag_value="print", default=True, help="Print the files (the default).")
@click.option("--install", "action", flag_value="install", help="Write the files (idempotent).")
@click.option("--uninstall", "action", flag_value="uninstall", help="Remove exactly the files labvault wrote.")
@click.option("--kind", type=click.Choice(["cron", "systemd"]), default="cron", show_default=True,
              help="A /etc/cron.d file, or a systemd service and timer.")
@click.option("--user", is_flag=True, help="systemd: a user timer under ~/.config/systemd/user.")
@click.option("--root", default="/", show_default=True, metavar="DIR",
              help="Install under this folder instead of / (an image build, a test).")
@click.option("--dry-run", is_flag=True, help="Show which files would be written or removed; change nothing.")
@lab_option
@json_option
def schedule_cmd(policy: str | None, action: str, kind: str, user: bool, root: str, dry_run: bool, lab: str | None,
                 as_json: bool) -> None:
    """Print or install what runs `labvault backup run POLICY` on the policy's `schedule:`
    (default: every policy that has one).

    \b
    Example:
      labvault backup schedule --print daily
      sudo labvault backup schedule --install daily
      labvault backup schedule --install --kind systemd --user daily
      labvault backup schedule --uninstall --kind systemd --user daily --dry-run
    """
    results = api.backup_schedule(policy, action, kind, user, root, dry_run, lab=lab)
    if as_json:
        emit_json([r.to_json() for r in results])
        return
    for r in results:
        for f in r.files:
            if f.action == "print":
                click.echo(f"# {f.path}")
                click.echo(f.text, nl=False)
            else:
                click.echo(f"{f.action}: {f.path}")
        if r.next_step:
            click.echo(f"next: {r.next_step}")
