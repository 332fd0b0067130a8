"""``flask --app wsgi owners ...``: organisations and the daily limit their keys share.
The same service (owners.py) as the admin API (/v1/admin/owners)."""
import json

import click

from .. import owners as owner_service
from . import CommandGroup, fail
from .terminal import printable

owners_cli = CommandGroup("owners", help="Owners (organisations) and their shared limit.")


@owners_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_(as_json):
    """List owners: shared daily limit, keys, calls today against the limit."""
    rows = owner_service.list_owners(per_page=10**6)["data"]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        limit = row["daily_limit"] if row["daily_limit"] is not None else "-"
        click.echo(f"{printable(row['owner']) or '(none)':<30} limit {limit:>9}  "
                   f"keys {row['keys']:>4}  used today {row['used_today']}")


@owners_cli.command("set")
@click.argument("owner")
@click.option("--daily-limit", required=True,
              help='Calls per UTC day all its keys share, or "none" to remove it.')
def set_(owner, daily_limit):
    """Set the daily limit an owner's keys share."""
    if daily_limit == "none":
        limit = None
    elif daily_limit.isdigit() and 1 <= int(daily_limit) <= 10**9 and len(owner) <= 120:
        limit = int(daily_limit)
    else:
        fail('--daily-limit takes 1 to 1000000000 or "none"; an owner at most 120 '
             "characters.", code=2)
    row = owner_service.set_daily_limit(owner, limit)
    click.echo(json.dumps(row))
