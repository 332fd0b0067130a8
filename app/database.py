"""No hang: every wait for the database is bounded by ``DATABASE_TIMEOUT`` seconds.

- **PostgreSQL:** ``connect_timeout`` bounds connecting, ``statement_timeout`` (sent as a
  connection option) lets a live but slow server cancel a statement, and ``pool_timeout``
  bounds the wait for a free pooled connection. None of those helps when the server (or
  the network on the way) goes *silent*: the socket stays open and the kernel keeps
  acknowledging, so libpq would wait forever. ``BoundedConnection`` therefore gives every
  wait psycopg makes for an answer the same deadline; past it the connection is closed
  (its state is unknown) and the request gets a 503 problem.
- **SQLite:** ``busy_timeout`` bounds the wait for another writer's lock.

**SQLite writers take turns** (``writers_take_turns``). SQLite lets one writer in at a
time; the others sleep in its busy handler and retry after 1, 2, 5 ... ms, while a turn
takes about a tenth of a millisecond. The pipeline writes twice per call, so on a busy
server most of that sleep is wasted. Its writes therefore first take an OS file lock next
to the database file, which is handed on within ~0.1 ms. The lock only orders writers:
a turn not had within DATABASE_TIMEOUT writes anyway, and SQLite's own locking still
guards the data. The kernel drops a killed worker's lock.

**PostgreSQL reads need no transaction.** The request's connection reads in autocommit
(extensions.py): at READ COMMITTED every statement sees its own snapshot anyway, and psycopg
would send a ``BEGIN`` and a ``ROLLBACK`` of their own for them. ``writers_take_turns``
turns autocommit off around each write, so a write's statements stay one transaction."""
import contextlib
import fcntl
import logging
import os
import threading
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

log = logging.getLogger("storeprice")


class DatabaseSilent(Exception):
    """Marker mixed into the error raised when the database did not answer in time."""


def engine_options(config) -> dict:
    """SQLAlchemy engine options for the configured database and DATABASE_TIMEOUT."""
    timeout = float(config["DATABASE_TIMEOUT"])
    url = config["SQLALCHEMY_DATABASE_URI"]
    pool = {"pool_size": int(config.get("DATABASE_POOL_SIZE", 8))}  # see app/config.py
    if url.startswith("sqlite"):
        # A local file: nothing to ping. sqlite3's timeout is SQLite's busy_timeout. An
        # in-memory database has a pool of its own kind (one connection), without a size.
        in_memory = url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url
        return {"connect_args": {"timeout": timeout}, **({} if in_memory else pool)}
    options = {
        **pool,
        # A network database can drop idle connections: check each as it leaves the pool.
        "pool_pre_ping": True,
        "pool_timeout": timeout,
    }
    if url.startswith("postgresql+psycopg"):
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


FIRST_PAUSE, LONGEST_PAUSE = 0.00005, 0.001  # seconds between tries for the turn


@contextlib.contextmanager
def writers_take_turns(connection, timeout: float):
    """Around one write transaction on ``connection``: on SQLite, wait for this writer's
    turn (``_sqlite_turn``); on PostgreSQL, open the transaction on a connection that reads
    in autocommit (``_one_transaction``)."""
    with _one_transaction(connection), _sqlite_turn(connection, timeout):
        yield


@contextlib.contextmanager
def _one_transaction(connection):
    """The request's connection reads in autocommit on PostgreSQL (extensions.py): the
    statements of a write must be one transaction, so autocommit is off around them. The
    caller commits or rolls back; whatever it leaves open is rolled back."""
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        yield
        return
    connection.commit()  # SQLAlchemy's bookkeeping of the reads before; nothing is sent
    connection.execution_options(isolation_level=connection.default_isolation_level)
    try:
        yield
    finally:
        if not connection.invalidated:  # a lost connection is not used again
            connection.rollback()  # nothing left open: nothing is sent
            connection.execution_options(isolation_level="AUTOCOMMIT")


@contextlib.contextmanager
def _sqlite_turn(connection, timeout: float):
    """Wait for this writer's turn (SQLite files only; elsewhere a no-op), then let the
    next writer in as soon as it ends.

    The writers of one process (a threaded worker's threads) queue on a lock of the
    process first, which hands the turn on at once; only the one at its head tries the
    file lock, whose tries are paced (``_wait_for_turn``). Without it every thread polls
    the file lock and the turn sits free between their tries."""
    turn = _turn_file(connection)
    if turn is None:
        yield
        return
    deadline = time.monotonic() + timeout
    in_process = _process_turn(connection.engine.url.database)
    first = in_process.acquire(timeout=max(0.0, timeout))
    if not first:
        log.warning("no write turn within %g s; writing anyway", timeout)
    held = first and _wait_for_turn(turn, timeout, deadline)
    try:
        yield
    finally:
        if held:
            fcntl.flock(turn, fcntl.LOCK_UN)
        if first:
            in_process.release()


_process_turns: dict[str, threading.Lock] = {}  # database path -> this process's queue


def _process_turn(path: str) -> threading.Lock:
    lock = _process_turns.get(path)
    if lock is None:
        lock = _process_turns.setdefault(path, threading.Lock())
    return lock


# A forked child (a gunicorn worker) starts with queues of its own, none held.
os.register_at_fork(after_in_child=_process_turns.clear)


def _turn_file(connection) -> int | None:
    """The lock file, opened once per pooled SQLite connection: flock excludes open
    files, so each connection (each thread's, each worker's) needs its own."""
    if connection.dialect.name != "sqlite":
        return None
    info = connection.connection.info  # lives as long as the pooled connection
    pid, turn = info.get("turn_file", (None, None))
    if pid != os.getpid():  # first use of this connection (a forked child opens its own)
        path = connection.engine.url.database
        if not path or path == ":memory:" or path.startswith("file:"):
            return None
        turn = os.open(path + "-writers", os.O_RDWR | os.O_CREAT, 0o600)
        info["turn_file"] = (os.getpid(), turn)
    return turn


@event.listens_for(Pool, "close")
def _close_turn_file(_dbapi_connection, record):
    pid, turn = record.info.pop("turn_file", (None, None))
    if pid == os.getpid():
        os.close(turn)


def _wait_for_turn(turn: int, timeout: float, deadline: float) -> bool:
    """Try the lock without blocking, so that the wait stays bounded (until ``deadline``,
    ``timeout`` seconds after the writer started waiting); the pause between tries grows
    from 50 µs to 1 ms."""
    pause = FIRST_PAUSE
    while True:
        try:
            fcntl.flock(turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                log.warning("no write turn within %g s; writing anyway", timeout)
                return False
            time.sleep(pause)
            pause = min(2 * pause, LONGEST_PAUSE)
