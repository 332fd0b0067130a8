"""The admin CLI of the key layer: ``flask --app wsgi keys ...`` and ``usage ...``.
Commands call the same services as the admin API, so both behave the same; a service
error (unknown key id, ...) becomes one line on stderr and exit code 1."""
import sys

import click
from flask.cli import AppGroup

from ...errors import Problem


class CommandGroup(AppGroup):
    """Service errors (unknown key id, ...) become a one-line message and exit code 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Problem as problem:
            fail(problem.detail)


def fail(message: str, code: int = 1):
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def register_commands(app):
    from .keys import keys_cli
    from .plans import audit_command, plans_cli
    from .usage import usage_cli
    for command in (keys_cli, usage_cli, plans_cli, audit_command):
        app.cli.add_command(command)
