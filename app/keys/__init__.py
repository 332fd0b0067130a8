"""The API-key layer: everything about API keys, and nothing about what they protect.

A team can copy this package (with ``app/errors.py``, ``app/clock.py``,
``app/extensions.py`` and ``app/schemas.py``) into its own Flask API and call
``keys.init_app(app, api, public={"health.healthz"}, dimensions=[Dimension(...)])``,
declaring what its keys may be restricted to. Views then declare their scope with
``@requires("read")`` (scope.py) and narrow their queries with ``current_restrictions()``
(restrictions.py). It never imports ``app.market``; an import contract checks that.

    format.py        key format, checksum, hashing (pure)
    models.py        plans, api_keys, daily_quota, usage, audit_events
    pipeline.py      the request path, in order:
      check.py         1. key check (key and plan in one query)
      binding.py       2. server binding (allowed_ips)
      scope.py         3. scope (read, write, keys, admin)
      restrictions.py  4. the values of each dimension a key may touch
      limits.py        5. per-minute rate limit, daily quota, the owner's shared quota
      shards.py           one key's daily count over several rows, still exact (pure)
      metering.py      6. usage, billing units, the request log line
      tally.py            refused calls counted without a database write each
    settings.py      the layer's settings and their defaults
    dimensions.py    restriction dimensions, declared by the API
    lifecycle.py     create, update, rotate, revoke, delete, prune
    bounds.py        the subset rule: never more than the key that made it (pure)
    authority.py     which keys a calling key may manage, and how far
    owners.py        organisations and their shared daily limit
    plans.py         plans: shared limits and prices
    plan_review.py   adjusting plans from usage (upgrade/downgrade suggestions)
    audit.py         the append-only audit trail of key and plan changes
    webhooks/        signed webhooks to key holders (quota thresholds, expiry, ...)
    scan.py          finding leaked keys in files
    usage.py         usage reports and billing
    anomalies.py     anomaly flags per key
    schemas.py       key input and output
    openapi.py       how a keyed operation is documented
    views/           the calling key (/v1/key, /v1/usage), self-service key management
                     (/v1/keys), admin API (/v1/admin/...)
    cli/             flask keys ..., usage ..., plans ..., audit
"""
from . import openapi, pipeline, settings
from .webhooks import settings as webhook_settings
from .dimensions import Dimension, declare  # noqa: F401 (Dimension: for the host API)


def init_app(app, api, public=(), dimensions=()):
    """Put every request through the key pipeline and add the key endpoints and CLI.
    ``dimensions``: what the API's keys may be restricted to (dimensions.py)."""
    settings.apply_defaults(app.config)  # what the app does not set itself
    webhook_settings.check(app.config)   # a malformed WEBHOOK_SECRET_KEYS stops here
    declare(dimensions)  # before the schemas and CLI options are built from them
    pipeline.init_app(app, public)
    openapi.register_security_scheme(api)
    from .views import account, admin, owners, plans, reports, self_service  # noqa: F401
    from .webhooks import views as webhooks
    from . import metrics  # GET /metrics (admin)
    app.url_map.converters["key_id"] = admin.KeyIdConverter
    app.url_map.converters["owner"] = owners.OwnerConverter
    # reports: on admin.blp
    for module in (account, self_service, admin, owners, plans, webhooks, metrics):
        api.register_blueprint(module.blp)
    from .cli import register_commands
    register_commands(app)
