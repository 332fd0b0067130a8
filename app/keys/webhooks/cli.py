"""``flask --app wsgi webhooks deliver [--once]``: the delivery worker (delivery.py).
Without ``--once`` it runs until stopped (SIGTERM or Ctrl-C end it after the delivery in
hand, so nothing is cut off half recorded)."""
import signal

import click

from ..cli import CommandGroup
from .delivery import run

webhooks_cli = CommandGroup("webhooks", help="Deliver signed webhooks.")


@webhooks_cli.command("deliver")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def deliver_command(once):
    """Send due webhook deliveries (and time-based events) until stopped."""
    stop = []
    if not once:
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stop.append(True))
    attempted = run(once=once, stopping=lambda: bool(stop))
    if once:
        click.echo(f"{attempted} delivery attempt(s) made.")
