"""GET and POST /v1/notes. Each view declares its scope (``@requires``); every query goes
through the key's restrictions: listings narrowed to its topics, an explicit topic
outside them a 403 naming it (``topic:home``)."""
import marshmallow as ma
from marshmallow import fields, validate
from sqlalchemy import func, select

from app.blueprint import Blueprint
from app.extensions import db
from app.keys.openapi import keyed_operation
from app.keys.restrictions import current_restrictions
from app.keys.scope import requires
from app.schemas import PageArgs, Pattern, StrictSchema, page_schema

from .models import Note

blp = Blueprint("notes", __name__, url_prefix="/v1/notes", description="Notes")
TOPIC = Pattern(r"^[a-z][a-z0-9-]{0,29}$", error="Lower-case letters, digits and '-'.")


class NoteSchema(ma.Schema):
    id = fields.Integer(required=True)
    topic = fields.String(required=True)
    text = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class NewNote(StrictSchema):
    topic = fields.String(required=True, validate=TOPIC)
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class NoteArgs(PageArgs):
    topic = fields.String(validate=TOPIC, metadata={"description": "only this topic"})


@blp.route("", methods=["GET"])
@blp.arguments(NoteArgs, location="query")
@blp.response(200, page_schema(NoteSchema, "NotePage"))
@keyed_operation(blp, 422)
@requires("read")
def list_notes(args):
    """List notes.

    The notes of the topics the key may read, newest first; `topic` outside them is a 403.
    """
    rules = current_restrictions()
    stmt = rules.narrow(select(Note), topics=Note.topic)  # our column for "topics"
    if args.get("topic"):
        rules.check(topics=[args["topic"]])
        stmt = stmt.where(Note.topic == args["topic"])
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    page, per_page = args["page"], args["per_page"]
    notes = db.session.scalars(stmt.order_by(Note.id.desc()).limit(per_page)
                               .offset((page - 1) * per_page)).all()
    return {"data": notes, "page": page, "per_page": per_page, "total": total}


@blp.route("", methods=["POST"])
@blp.arguments(NewNote)
@blp.response(201, NoteSchema)
@keyed_operation(blp, 422)
@requires("write")
def create_note(data):
    """Write a note.

    Only in a topic the key may write: another is a 403 naming it (`topic:<t>`).
    """
    current_restrictions().check(topics=[data["topic"]])
    note = Note(**data)
    db.session.add(note)
    db.session.commit()
    return note
