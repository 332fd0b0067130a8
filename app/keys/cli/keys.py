"""``flask --app wsgi keys ...``: the key lifecycle. The same service (lifecycle.py) and the
same schemas (schemas.py) as the admin API."""
import json
import sys

import click
import marshmallow as ma

from .. import lifecycle as key_service
from .. import scan as scan_service
from ..dimensions import declared
from ..schemas import (
    CodeList,
    KeyChanges,
    KeyCreate,
    KeySchema,
    NewKeySchema,
    PruneArgs,
    RotateArgs,
)
from . import CommandGroup, fail
from .terminal import printable

keys_cli = CommandGroup("keys", help="Create and manage API keys.")


def key_options(create: bool):
    """The options shared by `keys create` and `keys update`."""
    def decorate(command):
        options = [
            click.option("--name", required=create, help="The calling application."),
            click.option("--owner", help="The organisation that owns the application."),
            click.option("--plan", help="Plan id: free, starter, pro, enterprise, ..."),
            click.option("--scopes", help="Comma-separated: read,write,keys,admin."),
            # One option per restriction dimension the API declares (--countries, ...).
            *(click.option(f"--{dimension.field.replace('_', '-')}", dimension.field,
                           help=f'Comma-separated {dimension.description}, or "all".')
              for dimension in declared()),
            click.option("--allowed-ips", help="Comma-separated addresses/networks the key "
                         'may be used from (203.0.113.0/24,2001:db8::/32), or "any".'),
            click.option("--daily-limit", help='Calls per UTC day (overrides the plan), or '
                         '"plan" to take the plan\'s.'),
            click.option("--rate-limit", help='Per-minute limit, e.g. "60/minute" '
                         '(overrides the plan), or "plan".'),
            click.option("--expires-in", help='Lifetime from now: 30d, 12h; "never".'),
        ]
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


def load_options(schema, options: dict) -> dict:
    given = {name: value for name, value in options.items() if value is not None}
    for field, everything in (*((dimension.field, "all") for dimension in declared()),
                              ("allowed_ips", "any"), ("daily_limit", "plan"),
                              ("rate_limit", "plan")):
        if given.get(field) == everything:
            given[field] = None
    if isinstance(given.get("daily_limit"), str) and given["daily_limit"].isdigit():
        given["daily_limit"] = int(given["daily_limit"])
    if given.get("expires_in") == "never":
        given["expires_in"] = None
    for attribute, field in schema.fields.items():  # "US,CA" -> ["US", "CA"], as in JSON
        name = field.data_key or attribute
        if isinstance(field, CodeList) and isinstance(given.get(name), str):
            given[name] = CodeList.from_text(given[name])
    try:
        return schema.load(given)
    except ma.ValidationError as error:
        fail(f"invalid options: {json.dumps(error.messages)}", code=2)


def show(key, as_json: bool, schema=KeySchema):
    data = schema().dump(key)
    if as_json:
        click.echo(json.dumps(data))
        return
    for field, value in data.items():
        click.echo(f"{field:>20}: {value}")


@keys_cli.command("create")
@key_options(create=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object, with the key.")
def create(as_json, **options):
    """Create a key and print it once."""
    key, full_key = key_service.create_key(**load_options(KeyCreate(), options))
    key.key = full_key
    show(key, as_json, NewKeySchema)
    if not as_json:
        click.echo("\nStore the key now: it is shown only this once.", err=True)


@keys_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_(as_json):
    """List keys (never their secrets)."""
    page = key_service.list_keys(per_page=10000)
    rows = KeySchema(many=True).dump(page["data"])
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['id']}  {row['status']:<8} {','.join(row['scopes']):<16} "
                   f"{printable(row['name'])} ({printable(row['owner'] or '-')})")


@keys_cli.command("show")
@click.argument("key_id")
@click.option("--json", "as_json", is_flag=True)
def show_(key_id, as_json):
    """Show one key."""
    show(key_service.get_key(key_id), as_json)


@keys_cli.command("update")
@click.argument("key_id")
@key_options(create=False)
@click.option("--json", "as_json", is_flag=True)
def update(key_id, as_json, **options):
    """Change restrictions, limits or expiry."""
    show(key_service.update_key(key_id, load_options(KeyChanges(), options)), as_json)


@keys_cli.command("rotate")
@click.argument("key_id")
@click.option("--grace", help="How long the old secret keeps working, e.g. 24h.")
@click.option("--force", is_flag=True, help="Rotate even during a grace period (ends it).")
@click.option("--json", "as_json", is_flag=True)
def rotate(key_id, grace, force, as_json):
    """Issue a new secret; the old one works for the grace period."""
    args = load_options(RotateArgs(), {"grace": grace, "force": force})
    key, full_key = key_service.rotate_key(key_id, args.get("grace"), args["force"])
    key.key = full_key
    show(key, as_json, NewKeySchema)


@keys_cli.command("revoke")
@click.argument("key_id")
def revoke(key_id):
    """Revoke a key, effective on the next request in every worker."""
    key_service.revoke_key(key_id)
    click.echo(f"revoked {key_id}")


@keys_cli.command("delete")
@click.argument("key_id")
def delete(key_id):
    """Delete a key (usage history is kept for billing)."""
    key_service.delete_key(key_id)
    click.echo(f"deleted {key_id}")


@keys_cli.command("prune")
@click.option("--unused-days", type=int, required=True, help="1 to 36500.")
def prune(unused_days):
    """Delete keys unused for N days."""
    unused_days = load_options(PruneArgs(), {"unused_days": unused_days})["unused_days"]
    deleted = key_service.prune_keys(unused_days)
    click.echo(f"deleted {len(deleted)} key(s) unused for {unused_days} days"
               + (": " + ", ".join(deleted) if deleted else ""))


@keys_cli.command("scan")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def scan(paths):
    """Find API keys in files; exit 1 if any is live (use as a pre-commit hook)."""
    findings = scan_service.scan_paths(list(paths))
    for finding in findings:
        click.echo(f"{finding['file']}:{finding['line']}: key {finding['key_id']} "
                   f"({finding['status']})")
    live = [f for f in findings if f["status"] == "live"]
    click.echo(f"{len(findings)} key(s) found, {len(live)} live.", err=True)
    sys.exit(1 if live else 0)
