"""Liveness: ``GET /healthz`` answers without a key and checks the database."""
from .blueprint import Blueprint
from sqlalchemy import text

from .errors import ProblemSchema
from .extensions import db

blp = Blueprint("health", __name__, description="Liveness")


@blp.route("/healthz")
@blp.response(200)
@blp.alt_response(503, description="Database unreachable", schema=ProblemSchema,
                  content_type="application/problem+json")
def healthz():
    """Liveness, including a database round trip.

    Answers 200 when the app and its database answer; 503 problem when the database is
    unreachable or silent. Needs no key.
    """
    db.session.execute(text("SELECT 1"))  # unreachable -> OperationalError -> 503
    return {"status": "ok", "database": "ok"}
