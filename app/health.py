"""Liveness: ``GET /healthz`` answers without a key and checks the database."""
import marshmallow as ma
from sqlalchemy import text

from .blueprint import Blueprint
from .errors import ProblemSchema
from .extensions import db

blp = Blueprint("health", __name__, description="Liveness")


class HealthSchema(ma.Schema):
    """What a live server answers (a dead database is the 503 problem instead)."""
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["ok"]))
    database = ma.fields.String(required=True, validate=ma.validate.OneOf(["ok"]))


@blp.route("/healthz")
@blp.response(200, HealthSchema)
@blp.alt_response(503, description="Database unreachable", schema=ProblemSchema,
                  content_type="application/problem+json")
def healthz():
    """Liveness, including a database round trip.

    Answers 200 when the app and its database answer; 503 problem when the database is
    unreachable or silent. Needs no key.
    """
    db.session.execute(text("SELECT 1"))  # unreachable -> OperationalError -> 503
    return {"status": "ok", "database": "ok"}
