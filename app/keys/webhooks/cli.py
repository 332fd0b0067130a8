"""``flask --app wsgi webhooks deliver [--once]``: the delivery worker (delivery.py).
Without ``--once`` it runs until stopped (SIGTERM or Ctrl-C end it after the delivery in
hand, so nothing is cut off half recorded). ``webhooks seal-secrets``: the signing
secrets sealed with the first of WEBHOOK_SECRET_KEYS (sealing.py)."""
import signal

import click
from flask import current_app
from sqlalchemy import select

from ...extensions import db
from ..cli import CommandGroup
from . import sealing
from .delivery import run
from .models import WebhookEndpoint

webhooks_cli = CommandGroup("webhooks", help="Deliver signed webhooks, seal their secrets.")


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


@webhooks_cli.command("seal-secrets")
def seal_secrets_command():
    """Seal every signing secret with the first of WEBHOOK_SECRET_KEYS (sealing.py).

    Run it after setting WEBHOOK_SECRET_KEYS for the first time, and after putting a new
    key first, before dropping the old one. The secrets themselves do not change, so
    receivers keep verifying. All or nothing: one transaction."""
    keys = current_app.config.get("WEBHOOK_SECRET_KEYS", "")
    if not sealing.fernet(keys):
        raise click.ClickException("WEBHOOK_SECRET_KEYS is not set: nothing to seal with.")
    endpoints = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    try:
        for endpoint in endpoints:
            endpoint.secret = sealing.reseal(endpoint.secret, keys)
    except sealing.SecretUnavailable as error:
        db.session.rollback()
        raise click.ClickException(f"{endpoint.id}: {error}; nothing was changed.")
    db.session.commit()
    click.echo(f"{len(endpoints)} signing secret(s) sealed with the first key.")
