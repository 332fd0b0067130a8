"""Notes: a second, small API that uses the key layer (``app/keys``) unchanged.

It is the recipe of the README's "Use the key layer in your own API", file by file:
this factory binds the shared extensions and calls ``keys.init_app`` with the one
restriction dimension this API declares (``topics``); models.py holds its one table;
views.py declares a scope on each view and narrows every query with the key's topics;
cli.py creates the schema. It needs nothing of the marketplace (``app/market``), the
seed or the client: tests/test_notes_example.py runs it in a copy without them.

    flask --app examples.notes init-db
    flask --app examples.notes keys create --name N --scopes read,write --topics work \\
        --daily-limit 3 --json
    flask --app examples.notes run
"""
import os

from flask import Flask

from app import http, keys
from app.database import bound_engine, engine_options
from app.errors import register_error_handlers
from app.extensions import api, db, limiter
from app.keys import Dimension

# What a key of this API may be restricted to: the topics of the notes it may read and
# write. The key layer stores and checks them; views.py says how a query is narrowed.
DIMENSIONS = [Dimension("topics", "topic", r"^[a-z][a-z0-9-]{0,29}$", "note topics")]


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL", "sqlite:///notes.db"),
        RATELIMIT_STORAGE_URI=os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        API_KEY_PREFIX=os.environ.get("API_KEY_PREFIX", "nts"),  # its keys: nts_...
        API_TITLE="Notes API", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json")
    app.config.update(config or {})
    # The layer's other settings have defaults (app/keys/settings.py); these two bound
    # every wait for the database, as in the marketplace's factory.
    app.config.setdefault("DATABASE_TIMEOUT", 5.0)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)

    http.init_app(app)  # OPTIONS, no slash merging: before any route is added
    db.init_app(app)
    with app.app_context():
        bound_engine(db.engine, app.config["DATABASE_TIMEOUT"])
    limiter.init_app(app)
    api.init_app(app)
    register_error_handlers(app)  # every error as application/problem+json

    keys.init_app(app, api, dimensions=DIMENSIONS)  # every endpoint below needs a key
    from . import cli, views
    api.register_blueprint(views.blp)
    app.cli.add_command(cli.init_db)
    return app
