"""Admin CLI: ``flask --app wsgi seed | keys ... | usage ...``. Commands call the same
services as the admin API, so both behave the same."""
import click
from flask import current_app

from ..extensions import db
from .keys import keys_cli
from .seed import seed_command
from .usage import usage_cli


def register_commands(app):
    app.cli.add_command(keys_cli)
    app.cli.add_command(usage_cli)
    app.cli.add_command(seed_command)

    @app.cli.command("init-db")
    def init_db():
        """Create any missing tables."""
        db.create_all()
        click.echo(f"database ready: {current_app.config['SQLALCHEMY_DATABASE_URI']}")
