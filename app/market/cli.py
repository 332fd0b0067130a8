"""``flask --app wsgi seed``: the demo catalogue and demo keys (``make run`` uses it), and
``flask --app wsgi demo-keys``. They live with the marketplace: the demo data is its own,
and the key layer knows nothing of it."""
import click
from flask_migrate import upgrade
from sqlalchemy import select

from ..extensions import db
from .models import Country


@click.command("seed")
@click.option("--stores", type=click.IntRange(min=1), default=40, show_default=True)
@click.option("--items", type=click.IntRange(min=1), default=300, show_default=True)
@click.option("--seed", "seed_value", type=int, default=42, show_default=True)
@click.option("--if-empty", is_flag=True, help="Keep an existing catalogue (make run).")
@click.option("--no-keys", is_flag=True, help="Catalogue only, no demo keys.")
@click.option("--history-days", type=click.IntRange(min=0), default=30, show_default=True,
              help="Days of demo usage history for the plan review (0: none).")
def seed_command(stores, items, seed_value, if_empty, no_keys, history_days):
    """Upgrade the schema, load deterministic demo data and (re)issue the demo keys."""
    from seed import seed_catalogue
    from seed.demo_keys import issue_demo_keys, print_demo_keys
    upgrade()  # the schema comes from migrations/, never from create_all
    if if_empty and db.session.scalar(select(Country.code).limit(1)) is not None:
        click.echo("Catalogue already seeded; keeping it.")
    else:
        counts = seed_catalogue(db.session, stores=stores, items=items, seed=seed_value)
        click.echo("Seeded " + ", ".join(f"{n} {what}" for what, n in counts.items()) + ".")
    if not no_keys:
        from seed.history import write_history
        issued = issue_demo_keys()
        write_history(db.session, issued, history_days, seed=seed_value)
        print_demo_keys(issued)


@click.command("demo-keys")
def demo_keys_command():
    """Re-issue the demo keys (new secrets) and print them."""
    from seed.demo_keys import issue_demo_keys, print_demo_keys
    print_demo_keys(issue_demo_keys())
