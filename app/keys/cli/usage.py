"""``flask --app wsgi usage ...``: billing reports and anomaly flags. The report takes
its days through the API's schema (ReportWindow): the same bounds, defaults and rules."""
import click

from .. import anomalies as anomaly_service
from .. import plan_review
from .. import usage as usage_service
from ..schemas import ReportWindow, report_window
from . import CommandGroup
from .keys import load_options
from .terminal import printable

usage_cli = CommandGroup("usage", help="Usage reports and anomaly flags.")


@usage_cli.command("report")
@click.option("--from", "start", metavar="YYYY-MM-DD",
              help="First day (default: 29 days before --to).")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Last day (default: today, UTC).")
@click.option("--csv", "as_csv", is_flag=True, help="Per key/day/endpoint rows as CSV.")
def report(start, end, as_csv):
    """Usage per key and day, and the billing summary by plan."""
    start, end = report_window(load_options(ReportWindow(), {"from": start, "to": end}))
    if as_csv:
        click.echo(usage_service.as_csv(usage_service.daily_usage(start, end)), nl=False)
        return
    billing = usage_service.billing_summary(start, end)  # before any output: errors alone
    click.echo(f"Billing summary {start} .. {end}")
    click.echo(f"{'key':<10} {'plan':<10} {'calls':>8} {'units':>8} {'amount':>10}  name")
    for row in billing:
        name = " ".join(filter(None, (row["name"], "(deleted)" if row["deleted"] else "")))
        click.echo(f"{row['key_id']:<10} {row['plan']:<10} {row['calls']:>8} {row['units']:>8} "
                   f"{'$' + row['amount_usd']:>10}  {printable(name)}")


@usage_cli.command("anomalies")
def anomalies():
    """Keys behaving unusually this hour, each flag explained."""
    flags = anomaly_service.anomalies()
    for flag in flags:
        click.echo(f"{flag['key_id']}  {flag['flag']}: {flag['explanation']}")
    if not flags:
        click.echo("No anomalies this hour.")


@usage_cli.command("plans")
@click.option("--days", type=click.IntRange(1, 366), default=30, show_default=True)
@click.option("--csv", "as_csv", is_flag=True, help="Per-plan figures as CSV.")
def plans(days, as_csv):
    """Plan review: figures per plan, upgrade/downgrade suggestions per key."""
    result = plan_review.review(days)
    if as_csv:
        click.echo(usage_service.as_csv(result["plans"]), nl=False)
        return
    click.echo(f"Plan review, last {days} days")
    click.echo(f"{'plan':<12} {'keys':>5} {'calls':>9} {'units':>9} {'revenue':>10} "
               f"{'at limit':>9} {'p50':>6} {'p95':>6}")
    for row in result["plans"]:
        click.echo(f"{row['plan']:<12} {row['keys']:>5} {row['calls']:>9} {row['units']:>9} "
                   f"{'$' + row['revenue']:>10} {row['days_at_limit_share']:>9.1%} "
                   f"{row['p50_daily_use']:>6.0%} {row['p95_daily_use']:>6.0%}")
    click.echo("\nSuggestions:" if result["suggestions"] else "\nNo suggestions.")
    for row in result["suggestions"]:
        click.echo(f"  {row['key']}  {row['action']} {row['plan']} -> "
                   f"{row['suggested_plan'] or '(none)'}: {row['reason']}")
