"""The API-key layer: everything about API keys, and nothing about what they protect.

A team can copy this package (with ``app/errors.py``, ``app/clock.py``,
``app/extensions.py`` and ``app/schemas.py``) into its own Flask API and call
``keys.init_app(app, api, public={"health.healthz"})``. Views then declare their scope with
``@requires("read")`` (scope.py) and narrow their queries with ``current_restrictions()``
(restrictions.py). It never imports ``app.market``; an import contract checks that.

    format.py        key format, checksum, hashing (pure)
    models.py        api_keys, daily_quota, usage
    pipeline.py      the request path, in order:
      check.py         1. key check
      scope.py         2. scope
      restrictions.py  3. countries and categories
      limits.py        4. per-minute rate limit and daily quota
      metering.py      5. usage, billing units, the request log line
    lifecycle.py     create, rotate, revoke, delete, prune, scan
    usage.py         usage reports and billing
    anomalies.py     anomaly flags per key
    schemas.py       key input and output
    openapi.py       how a keyed operation is documented
    views/           self-service (/v1/key, /v1/usage) and admin API (/v1/admin/...)
    cli/             flask keys ..., flask usage ...
"""
from . import openapi, pipeline


def init_app(app, api, public=()):
    """Put every request through the key pipeline and add the key endpoints and CLI."""
    pipeline.init_app(app, public)
    openapi.register_security_scheme(api)
    from .views import account, admin
    app.url_map.converters["key_id"] = admin.KeyIdConverter
    for module in (account, admin):
        api.register_blueprint(module.blp)
    from .cli import register_commands
    register_commands(app)
