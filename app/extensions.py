"""Extensions are created here unbound and bound to an app in ``create_app`` (init_app)."""
import logging

from flask import g
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from .errors import ProblemApi
from .openapi import EveryOperation


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)

# The schema is owned by migrations/ (Alembic): `flask --app wsgi db upgrade` creates or
# upgrades it in place. render_as_batch lets SQLite, which cannot ALTER most columns,
# apply them by copying the table.
migrate = Migrate(render_as_batch=True)

# flask-smorest builds the OpenAPI document from the marshmallow schemas; ProblemApi
# makes every HTTP error it handles come out as application/problem+json; EveryOperation
# (app/openapi.py) documents what all operations share.
api: Api = ProblemApi(spec_kwargs={"extra_plugins": [EveryOperation()]})

class ExplicitLimiter(Limiter):
    """flask-limiter without its automatic per-request hooks.

    flask-limiter owns the per-minute counters and their storage (RATELIMIT_STORAGE_URI).
    The request pipeline counts in that storage explicitly, *after* the key check, so a
    forged key id cannot spend somebody else's budget (app/keys/limits.py). The hooks
    flask-limiter adds to every request would find nothing to do, yet cost about 0.06 ms
    per call, so they are taken out again (tests/keys/test_limits.py checks they are gone)."""

    def init_app(self, app) -> None:
        super().init_app(app)
        app.before_request_funcs[None].remove(self._check_request_limit)
        app.after_request_funcs[None] = [hook for hook in app.after_request_funcs[None]
                                         if getattr(hook, "args", None) != (self,)]
        app.teardown_request_funcs[None] = [hook for hook in app.teardown_request_funcs[None]
                                            if getattr(hook, "__self__", None) is not self]


limiter = ExplicitLimiter(key_func=lambda: "unused")


def request_connection():
    """The request's one database connection, checked out on first use and returned by
    ``close_request_connection``: the pipeline's statements (key lookup, daily quota,
    metering) and the handlers' reads run on it as Core statements. They run on every
    call, so they skip the ORM session (which would check out a second connection) and
    return plain rows. Writes in handlers use the ORM session."""
    if "db_connection" not in g:
        connection = db.engine.connect()
        if connection.dialect.name == "postgresql":
            # Reads in autocommit: at READ COMMITTED each statement sees its own snapshot
            # anyway, and a read then costs no BEGIN and ROLLBACK round trips. Writes open
            # their transaction themselves (app/database.py: writers_take_turns).
            connection.execution_options(isolation_level="AUTOCOMMIT")
        g.db_connection = connection
    return g.db_connection


def close_request_connection(_error=None):
    """Teardown: give back the request's connection and end its ORM session.

    The answer is already built when this runs, so a failure here (the database went away
    and the rollback cannot reach it) is logged and never replaces the answer."""
    connection = g.pop("db_connection", None)
    if connection is not None:
        _quietly(connection.close)
    if db.session.registry.has():  # only if the handler used the ORM session
        _quietly(db.session.remove)


def _quietly(close) -> None:
    try:
        close()
    except Exception as error:  # the connection is invalidated; the pool replaces it
        logging.getLogger("storeprice").error(
            "database teardown failed (%s); the answer stands", error.__class__.__name__)
