"""``flask --app wsgi plans ...`` and ``flask --app wsgi audit``: plans and the audit trail.
The same services (plans.py, audit.py) and schemas as the admin API."""
import json

import click
from flask.cli import with_appcontext

from .. import audit as audit_service
from .. import plans as plan_service
from ..schemas import AuditArgs, AuditEventSchema, BillingPlanSchema, PlanChanges, PlanCreate
from . import Command, CommandGroup
from .keys import load_options

plans_cli = CommandGroup("plans", help="Plans: the limits and price keys share.")


def plan_options(create: bool):
    def decorate(command):
        for option in reversed([
            click.option("--name", required=create, help="Display name."),
            click.option("--daily-limit", type=int, required=create, help="Calls per UTC day."),
            click.option("--rate-limit", required=create, help='e.g. "60/minute".'),
            click.option("--price", "price_per_1000_units", required=create,
                         help='USD per 1,000 billable units, e.g. "0.50".'),
        ]):
            command = option(command)
        return command
    return decorate


def show(plan, as_json: bool):
    data = BillingPlanSchema().dump(plan)
    click.echo(json.dumps(data) if as_json else
               f"{data['id']:<12} {data['name']:<14} {data['daily_limit']:>9}/day "
               f"{data['rate_limit']:>12}  ${data['price_per_1000_units']} per 1,000 units")


@plans_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_(as_json):
    """List plans, cheapest first."""
    plans = plan_service.list_plans()
    if as_json:
        click.echo(json.dumps(BillingPlanSchema(many=True).dump(plans)))
        return
    for plan in plans:
        show(plan, False)


@plans_cli.command("create")
@click.argument("plan_id")
@plan_options(create=True)
@click.option("--json", "as_json", is_flag=True)
def create(plan_id, as_json, **options):
    """Create a plan."""
    show(plan_service.create_plan(load_options(PlanCreate(), {"id": plan_id, **options})),
         as_json)


@plans_cli.command("update")
@click.argument("plan_id")
@plan_options(create=False)
@click.option("--json", "as_json", is_flag=True)
def update(plan_id, as_json, **options):
    """Change a plan; every key on it follows from its next call."""
    show(plan_service.update_plan(plan_id, load_options(PlanChanges(), options)), as_json)


@plans_cli.command("delete")
@click.argument("plan_id")
def delete(plan_id):
    """Delete a plan that no key is on."""
    plan_service.delete_plan(plan_id)
    click.echo(f"deleted plan {plan_id}")


@click.command("audit", cls=Command)
@click.option("--target", help="A key's or plan's id.")
@click.option("--action", help="e.g. key.rotate, plan.update.")
@click.option("--since", metavar="YYYY-MM-DD", help="A UTC day.")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@with_appcontext
def audit_command(target, action, since, limit, as_json):
    """The audit trail of key and plan changes, newest first."""
    # The API's filters and their checks; --limit replaces its page and per_page.
    filters = load_options(AuditArgs(), {"target": target, "action": action, "since": since})
    page = audit_service.list_events(target=filters.get("target"),
                                     action=filters.get("action"),
                                     since=filters.get("since"), per_page=limit)
    for event in AuditEventSchema(many=True).dump(page["data"]):
        if as_json:
            click.echo(json.dumps(event))
            continue
        changes = ", ".join(f"{field}: {before} -> {after}"
                            for field, (before, after) in event["changes"].items())
        click.echo(f"{event['at']}  {event['actor']:<16} {event['action']:<12} "
                   f"{event['target']:<12} {changes}")
    if not page["data"]:
        click.echo("No audit events.")
