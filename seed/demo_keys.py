"""Demo keys, one per concept. They are re-issued (new secrets) by `flask seed` (which
`make run` calls) and `flask demo-keys`, because only hashes are stored and a key can
never be shown twice."""
import os
from datetime import timedelta

import click
from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.keys import audit, lifecycle
from app.keys.models import ApiKey

DEMO_OWNER = "Store Price demo"  # the operator's own demo applications
PARTNER = "FreshMart"  # a chain's pricing partner, an organisation of its own
GROCERIES = "dairy,produce,bakery,meat,pantry,beverages,frozen,household"

DEMO_KEYS = [
    ("grocery-app", "read-only, US groceries, plan starter: the client's key "
     "(STOREPRICE_API_KEY)",
     dict(scopes=["read"], countries=["US"], categories=GROCERIES.split(","), plan="starter")),
    ("partner-write", "read + write prices and stores of its own chain, FreshMart, in US "
     "and CA, plan pro: another chain's store gets 403",
     dict(owner=PARTNER, scopes=["read", "write"], countries=["US", "CA"],
          chains=["freshmart"], plan="pro")),
    ("partner-keys", "FreshMart's key manager (scope keys): makes and revokes FreshMart's "
     "keys at /v1/keys, never wider than itself",
     dict(owner=PARTNER, scopes=["read", "write", "keys"], countries=["US", "CA"],
          chains=["freshmart"], plan="pro")),
    # The operator's own admin key never expires: a key manages only keys within its
    # bounds, expiry included, so an admin key that expired first could manage no key
    # made after it.
    ("admin", "admin: manage every key, plans and owners, see all usage and the audit "
     "trail",
     dict(scopes=["read", "write", "admin"], plan="free", expires_in=None)),
    ("expired", "already expired: every call gets 401 expired-key",
     dict(scopes=["read"])),
    ("tiny-quota", "daily limit of 5 calls (overrides plan free): the 6th call today "
     "gets 429",
     dict(scopes=["read"], daily_limit=5)),
    ("bound", "bound to 203.0.113.0/24 (allowed_ips): from here every call gets 403 "
     "ip-not-allowed",
     dict(scopes=["read"], allowed_ips=["203.0.113.0/24"])),
]


def issue_demo_keys() -> list[tuple[str, str, str]]:
    """Replace the demo keys; returns (label, description, full key)."""
    demo = select(ApiKey).where(ApiKey.owner.in_([DEMO_OWNER, PARTNER]),
                                ApiKey.name.startswith("demo "))
    for key in db.session.scalars(demo):
        # Not lifecycle.delete_key: the old demo admin may be the last admin key, and it
        # is replaced in the same run. The trail still says what happened.
        audit.record("key.delete", key.id, audit.diff(lifecycle.snapshot(key), {}))
        db.session.delete(key)
    db.session.commit()
    issued = []
    for label, description, options in DEMO_KEYS:
        key, full_key = lifecycle.create_key(f"demo {label}",
                                             **{"owner": DEMO_OWNER, **options})
        if label == "expired":  # backdate it, so it shows the expired-key problem
            key.expires_at = now() - timedelta(days=1)
            db.session.commit()
        issued.append((label, description, full_key))
    return issued


def print_demo_keys(issued) -> None:
    # `make run PORT=8000` serves on 8000: make hands PORT to this command's environment,
    # so the hints name the port gunicorn is about to bind (5000 when PORT is not set).
    url = f"http://127.0.0.1:{os.environ.get('PORT') or '5000'}"
    click.echo("\nDemo keys (new secrets on every `make run`; shown only here):")
    for label, description, full_key in issued:
        click.echo(f"  {label:<14} {full_key}\n  {'':<14} {description}")
    grocery_key = issued[0][2]
    click.echo(f"\nTry it (README walkthrough):\n  export KEY={grocery_key}\n"
               f'  curl -H "X-API-Key: $KEY" {url}/v1/key\n'
               f"\nThe partner app (client/README.md), in another terminal:\n"
               f"  export STOREPRICE_API_KEY={grocery_key} STOREPRICE_URL={url}\n"
               f"  .venv/bin/python -m client web\n")
