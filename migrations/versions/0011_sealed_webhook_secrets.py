"""sealed webhook secrets: ``webhook_endpoints.secret`` up to 300 characters

A signing secret is now stored sealed with WEBHOOK_SECRET_KEYS ("fernet:" + a Fernet
token, about 150 characters, app/keys/webhooks/sealing.py) when the server has keys; 100
characters held only the secret itself. Widening keeps every row as it is: secrets stored
before stay readable, and ``flask --app wsgi webhooks seal-secrets`` seals them.

The downgrade opens the sealed secrets again (the code before this revision reads them
as they are), so it needs the keys that sealed them in WEBHOOK_SECRET_KEYS.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SEALED = "fernet:"  # as in sealing.py; a migration keeps its own copy of what it relies on


def _width(before, after):
    with op.batch_alter_table("webhook_endpoints") as batch_op:
        batch_op.alter_column("secret", existing_type=sa.String(length=before),
                              type_=sa.String(length=after), existing_nullable=False)


def upgrade():
    _width(100, 300)


def downgrade():
    from cryptography.fernet import Fernet, InvalidToken, MultiFernet
    connection = op.get_bind()
    sealed = connection.execute(sa.text(
        "SELECT id, secret FROM webhook_endpoints WHERE secret LIKE :prefix"),
        {"prefix": SEALED + "%"}).all()
    if sealed:
        keys = [key.strip() for key in current_app.config.get("WEBHOOK_SECRET_KEYS", "")
                .split(",") if key.strip()]
        if not keys:
            raise RuntimeError(f"{len(sealed)} webhook secret(s) are sealed: set "
                               "WEBHOOK_SECRET_KEYS to the keys that sealed them to downgrade")
        box = MultiFernet([Fernet(key) for key in keys])
        opened = {}
        for endpoint_id, secret in sealed:  # every one opened before anything is written
            try:
                opened[endpoint_id] = box.decrypt(secret.removeprefix(SEALED).encode()).decode()
            except InvalidToken:
                raise RuntimeError(f"none of WEBHOOK_SECRET_KEYS opens the secret of "
                                   f"{endpoint_id}: nothing was downgraded") from None
        connection.execute(sa.text("UPDATE webhook_endpoints SET secret = :secret "
                                   "WHERE id = :id"),
                           [{"secret": secret, "id": endpoint_id}
                            for endpoint_id, secret in opened.items()])
    _width(300, 100)
