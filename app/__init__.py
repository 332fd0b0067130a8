"""Store Price API: the application factory."""
import logging
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from . import http, keys, market
from .config import Config
from .errors import register_error_handlers
from .extensions import api, db, limiter, migrate

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    # A network database can drop idle connections, so check each one as it leaves the
    # pool; SQLite is a local file, where that check would only cost a query per request.
    network_db = not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "pool_pre_ping": network_db, **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    if app.config["TRUSTED_PROXY_HOPS"]:  # behind N proxies: the client is N hops back
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXY_HOPS"],
                                x_proto=0, x_host=0, x_port=0, x_prefix=0)
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"), format="%(message)s")

    http.init_app(app)  # OPTIONS, 204s, no slash merging: before any route is added
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    limiter.init_app(app)
    api.init_app(app)
    register_error_handlers(app)

    # The key layer puts every request through its pipeline; only these need no key.
    keys.init_app(app, api, public={"health.healthz", "docs.assets"})
    market.init_app(app, api)  # the API the keys protect
    from .health import blp as health
    api.register_blueprint(health)
    from .docs import blp as docs
    app.register_blueprint(docs)  # a plain Flask blueprint: not part of the API document
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite tuned for several worker processes: WAL lets readers run beside the writer,
    busy_timeout makes a writer wait its turn instead of failing, and foreign keys on."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
