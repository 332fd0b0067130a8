"""Store Price API: the application factory."""
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import http, keys, logs
from .config import Config
from .database import bound_engine, engine_options
from .errors import register_error_handlers
from .extensions import api, db, limiter, migrate

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    # DATABASE_TIMEOUT bounds every wait for the database (app/database.py).
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **engine_options(app.config), **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    if app.config["TRUSTED_PROXY_HOPS"]:  # behind N proxies: the client is N hops back
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXY_HOPS"],
                                x_proto=0, x_host=0, x_port=0, x_prefix=0)
    # Every log line is one JSON object, with no key material in it (app/logs.py).
    logs.configure(app.config.get("LOG_LEVEL", "INFO"), app.config.get("API_KEY_PREFIX"))

    http.init_app(app)  # OPTIONS, 204s, no slash merging: before any route is added
    db.init_app(app)
    with app.app_context():
        bound_engine(db.engine, app.config["DATABASE_TIMEOUT"])
    migrate.init_app(app, db, directory=MIGRATIONS)
    limiter.init_app(app)
    api.init_app(app)
    register_error_handlers(app)

    # The key layer puts every request through its pipeline; only these need no key. The
    # marketplace declares what its keys may be restricted to. (Imported here, not at the
    # top: importing app.keys alone, as another API that uses the layer does, needs no
    # marketplace.)
    from . import market
    keys.init_app(app, api, public={"health.healthz", "docs.assets"},
                  dimensions=market.DIMENSIONS)
    market.init_app(app, api)  # the API the keys protect
    from .health import blp as health
    api.register_blueprint(health)
    from .docs import blp as docs
    app.register_blueprint(docs)  # a plain Flask blueprint: not part of the API document
    return app
