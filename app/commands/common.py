"""What every command group shares: service errors become one line and exit code 1."""
import sys

import click
from flask.cli import AppGroup

from ..errors import Problem


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
