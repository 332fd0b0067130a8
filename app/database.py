"""No hang: every wait for the database is bounded by ``DATABASE_TIMEOUT`` seconds.

- **PostgreSQL:** ``connect_timeout`` bounds connecting, ``statement_timeout`` (sent as a
  connection option) lets a live but slow server cancel a statement, and ``pool_timeout``
  bounds the wait for a free pooled connection. None of those helps when the server (or
  the network on the way) goes *silent*: the socket stays open and the kernel keeps
  acknowledging, so libpq would wait forever. ``BoundedConnection`` therefore gives every
  wait psycopg makes for an answer the same deadline; past it the connection is closed
  (its state is unknown) and the request gets a 503 problem.
- **SQLite:** ``busy_timeout`` bounds the wait for another writer's lock."""
import logging

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger("storeprice")


class DatabaseSilent(Exception):
    """Marker mixed into the error raised when the database did not answer in time."""


def engine_options(config) -> dict:
    """SQLAlchemy engine options for the configured database and DATABASE_TIMEOUT."""
    timeout = float(config["DATABASE_TIMEOUT"])
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A local file: nothing to ping. sqlite3's timeout is SQLite's busy_timeout.
        return {"connect_args": {"timeout": timeout}}
    options = {
        # A network database can drop idle connections: check each as it leaves the pool.
        "pool_pre_ping": True,
        "pool_timeout": timeout,
    }
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg"):
        options["connect_args"] = {
            "connect_timeout": max(1, round(timeout)),  # libpq takes whole seconds
            "options": f"-c statement_timeout={int(timeout * 1000)}",
        }
    return options


def bound_engine(engine: Engine, timeout: float) -> None:
    """Make ``engine`` open BoundedConnections and treat a silent database as gone."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return
    connection_class = bounded_connection_class(timeout)

    @event.listens_for(engine, "do_connect")
    def connect(_dialect, _record, cargs, cparams):
        return connection_class.connect(*cargs, **cparams)

    @event.listens_for(engine, "handle_error")
    def silent_database(context):
        if isinstance(context.original_exception, DatabaseSilent):
            # Invalidate the connection; but in the pre-ping, raise at once instead of
            # reconnecting, so one request waits DATABASE_TIMEOUT once, not twice.
            context.is_disconnect = not context.is_pre_ping


def bounded_connection_class(limit: float):
    import psycopg
    from psycopg import errors

    class Silent(DatabaseSilent, psycopg.OperationalError):
        pass

    class BoundedConnection(psycopg.Connection):
        """psycopg's connection, with a deadline on every wait for the server. psycopg
        (3.3, pinned in requirements.txt) routes every query, commit and rollback through
        ``wait`` and already supports a timeout there; it just never sets one."""

        def wait(self, gen, interval=0.1, timeout=None):
            try:
                return super().wait(gen, interval, timeout or limit)
            except errors._WaitTimeout:  # psycopg's own "wait(timeout=...) expired"
                log.error("database silent for %g s: closing the connection", limit)
                self.pgconn.finish()  # the protocol state is unknown: never reuse it
                raise Silent(f"the database did not answer within {limit:g} s") from None

    return BoundedConnection


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite tuned for several worker processes: WAL lets readers run beside the writer,
    busy_timeout (DATABASE_TIMEOUT, via sqlite3's ``timeout``) makes a writer wait its turn
    instead of failing, and foreign keys on."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
