"""The admin CLI of the key layer: ``flask --app wsgi keys ...`` and ``usage ...``.
Commands call the same services as the admin API, so both behave the same; a service
error (unknown key id, ...) or a database that cannot answer becomes one line on stderr
and exit code 1, never a traceback."""
import sys

import click
from flask.cli import AppGroup
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ...errors import Problem

# Unreachable, or never set up ("no such table" on SQLite, "relation does not exist",
# a ProgrammingError, on PostgreSQL), or no free pooled connection in time.
DATABASE_UNAVAILABLE = (OperationalError, ProgrammingError, InterfaceError, PoolTimeout)


class OneLineErrors:
    """Mixed into click commands and groups: service errors and an unusable database
    become a one-line message and exit code 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Problem as problem:
            fail(problem.detail)
        except DATABASE_UNAVAILABLE as error:
            fail(f"the database cannot be used ({_first_line(error)}): check DATABASE_URL; "
                 "a new database needs `flask --app wsgi db upgrade` (or `seed`) first.")


class CommandGroup(OneLineErrors, AppGroup):
    """A command group whose commands fail in one line (see OneLineErrors)."""


class Command(OneLineErrors, click.Command):
    """A single command that fails in one line (see OneLineErrors)."""


def _first_line(error: Exception) -> str:
    # The driver's own message ("no such table: api_keys"), without SQLAlchemy's SQL echo.
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else error.__class__.__name__


def fail(message: str, code: int = 1):
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def register_commands(app):
    from .keys import keys_cli
    from .owners import owners_cli
    from .plans import audit_command, plans_cli
    from .usage import usage_cli
    from ..webhooks.cli import webhooks_cli
    for command in (keys_cli, owners_cli, usage_cli, plans_cli, audit_command, webhooks_cli):
        app.cli.add_command(command)
