"""longer labels: usage endpoints up to 200 characters, audit targets up to 120

A usage row's ``endpoint`` is the route template with its method ("POST
/v1/webhooks/<id>/deliveries/<delivery_id>/retry"). Sixty characters held the
marketplace's routes, but an API that installs the key layer may have longer ones, and a
label that does not fit would fail metering's write on PostgreSQL. An audit event's
``target`` is now also an owner (``owner.update``), whose name has up to 120 characters
as on the keys; 40 held only key and plan ids. Widening keeps every row as it is.

SQLite cannot alter a column: ``audit_events`` is copied into a new table (dropping a
table fires no trigger, so its append-only triggers let the copy happen), then the
triggers are created again on the copy.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SQLITE_APPEND_ONLY = [f"CREATE TRIGGER audit_events_no_{op_} BEFORE {op_.upper()} ON "
                      f"audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is "
                      f"append-only'); END" for op_ in ("update", "delete")]


def _widen(table, column, before, after):
    with op.batch_alter_table(table) as batch_op:
        batch_op.alter_column(column, existing_type=sa.String(length=before),
                              type_=sa.String(length=after), existing_nullable=False)
    if table == "audit_events" and op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_APPEND_ONLY:  # the copy has none
            op.execute(statement)


def upgrade():
    _widen("usage", "endpoint", 60, 200)
    _widen("audit_events", "target", 40, 120)


def downgrade():
    # Longer values would not fit back: cut them, as a report would show them.
    op.execute("UPDATE usage SET endpoint = substr(endpoint, 1, 60) "
               "WHERE length(endpoint) > 60")
    _widen("usage", "endpoint", 200, 60)
    # audit_events is append-only: its targets stay whole (on PostgreSQL the column
    # keeps its width if a longer one exists; SQLite does not enforce widths).
    if op.get_bind().dialect.name != "postgresql" or not op.get_bind().execute(
            sa.text("SELECT 1 FROM audit_events WHERE length(target) > 40 LIMIT 1")).first():
        _widen("audit_events", "target", 120, 40)
