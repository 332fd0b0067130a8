"""Loading millions of rows fast: stop the database doing per-row work it can do in bulk.

Both databases check each inserted price's foreign keys and add it to every index, one row
at a time; for the prices table that is most of the cost of a large seed. The usual recipe
(PostgreSQL's manual calls it "Populating a Database") is to remove what can be rebuilt,
load, and rebuild it in bulk, all in the same transaction, so nobody sees the gap.
"""
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Table, inspect, text
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint


@contextmanager
def sqlite_bulk_mode(session: Session) -> Iterator[None]:
    """SQLite: no foreign-key checks and a bigger page cache in the block (which should end
    the session's transaction); both back as they were afterwards, on the same connection.

    SQLite can only switch foreign keys off outside a transaction, so this must come before
    the session's first statement; if the session is already in one, they stay on (the load
    is then just slower). Without them, DELETE of a whole table is also instant.
    """
    conn = session.connection()
    sqlite = conn.connection.driver_connection if conn.dialect.name == "sqlite" else None
    if sqlite is None:
        yield
        return
    before = {pragma: sqlite.execute(f"PRAGMA {pragma}").fetchone()[0]
              for pragma in ("foreign_keys", "cache_size")}
    sqlite.execute("PRAGMA foreign_keys = OFF")
    sqlite.execute("PRAGMA cache_size = -524288")  # KiB: 512 MB, used only as needed
    try:
        yield
    finally:
        sqlite.rollback()  # no-op after the block's commit; pragmas are ignored in a transaction
        for pragma, value in before.items():
            sqlite.execute(f"PRAGMA {pragma} = {value}")


@contextmanager
def indexes_rebuilt_after(conn: Connection, table: Table) -> Iterator[None]:
    """Drop ``table``'s indexes for the block and build them afterwards from sorted data.

    On PostgreSQL the primary key and the foreign keys go too: they are checked per row by
    triggers, while re-adding them checks all rows with one join. (SQLite cannot drop
    constraints; there the primary key stays, and rows should come in its order.)
    """
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        found = inspect(conn)
        names = [found.get_pk_constraint(table.name)["name"],
                 *(fk["name"] for fk in found.get_foreign_keys(table.name))]
        for name in filter(None, names):
            conn.execute(text(f'ALTER TABLE {table.name} DROP CONSTRAINT "{name}"'))
        # Sorting 30 million keys in memory instead of in temporary files: this
        # transaction only.
        conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    for index in table.indexes:
        index.drop(conn, checkfirst=True)
    yield
    if postgres:
        conn.execute(AddConstraint(table.primary_key))
        for fk in table.foreign_key_constraints:
            conn.execute(AddConstraint(fk))
    for index in table.indexes:
        index.create(conn)
