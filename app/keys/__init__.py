"""The API-key layer: everything about API keys, and nothing about what they protect.

A team can copy this package (with ``app/errors.py``, ``app/clock.py``,
``app/extensions.py`` and ``app/schemas.py``) into its own Flask API and call
``keys.init_app(app, api, public={"health.healthz"})``. Views then declare their scope with
``@requires("read")`` (scope.py) and narrow their queries with ``current_restrictions()``
(restrictions.py). It never imports ``app.market``; an import contract checks that.

    format.py        key format, checksum, hashing (pure)
    models.py        plans, api_keys, daily_quota, usage, audit_events
    pipeline.py      the request path, in order:
      check.py         1. key check (key and plan in one query)
      binding.py       2. server binding (allowed_ips)
      scope.py         3. scope
      restrictions.py  4. countries and categories
      limits.py        5. per-minute rate limit and daily quota
      metering.py      6. usage, billing units, the request log line
    lifecycle.py     create, update, rotate, revoke, delete, prune
    plans.py         plans: shared limits and prices
    plan_review.py   adjusting plans from usage (upgrade/downgrade suggestions)
    audit.py         the append-only audit trail of key and plan changes
    scan.py          finding leaked keys in files
    usage.py         usage reports and billing
    anomalies.py     anomaly flags per key
    schemas.py       key input and output
    openapi.py       how a keyed operation is documented
    views/           self-service (/v1/key, /v1/usage) and admin API (/v1/admin/...)
    cli/             flask keys ..., usage ..., plans ..., audit
"""
from . import openapi, pipeline


def init_app(app, api, public=()):
    """Put every request through the key pipeline and add the key endpoints and CLI."""
    pipeline.init_app(app, public)
    openapi.register_security_scheme(api)
    from .views import account, admin, plans, reports  # noqa: F401 (reports: on admin.blp)
    app.url_map.converters["key_id"] = admin.KeyIdConverter
    for module in (account, admin, plans):
        api.register_blueprint(module.blp)
    from .cli import register_commands
    register_commands(app)
