"""``flask --app examples.notes init-db``: the schema, from the models. The marketplace
keeps its schema in migrations (Flask-Migrate); an API this small can start with
``create_all``, which makes the key layer's tables (and its seeded plans) with its own."""
import click
from flask.cli import with_appcontext

from app.extensions import db

from . import models  # noqa: F401 (the notes table joins the key layer's)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create the tables: the key layer's and the notes'."""
    db.create_all()
    click.echo("Created the key layer's tables and notes.")
