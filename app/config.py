"""Configuration from the environment (twelve-factor): nothing secret lives in the code."""
import os

from .clock import utcnow

STORAGE_TIMEOUT = float(os.environ.get("RATELIMIT_STORAGE_TIMEOUT", "0.5"))  # seconds


API_INTRODUCTION = """\
Where can I buy this list of items at the lowest price? This API answers that over a
catalogue of stores, items and prices in several countries, and shows by working example
how an API provider uses **API keys**: to identify the applications that call it, restrict
what they may do, cap how much they may do, and watch what they did.

**Start with** `POST /v1/cheapest-stores` (a basket in, the cheapest single stores and the
best plan over several stores out), or its `GET` form for quick tries. `GET /v1/items`,
`/v1/stores`, `/v1/prices` and `/v1/deals` read the catalogue; `GET /v1/key` shows what
your key may do and how much of today's quota is left.

**Authentication:** send your key in the `X-API-Key` header, never in the URL (a key in
the query string is refused with 400: URLs end up in logs). Click *Authorize* to try the
operations here with your key.

**Every answer** carries `X-Request-ID`; keyed answers carry `RateLimit-Policy` and
`RateLimit`. Every error is `application/problem+json` with a stable `type`
(`/problems/quota-exceeded`, ...): switch on it, never on the title. Bodies are
`application/json`, and only that.
"""


class Config:
    # Database: embedded SQLite by default, PostgreSQL for scale-out
    # (DATABASE_URL=postgresql+psycopg://user@host/db).
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///storeprice.db")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}  # create_app adds the timeouts (app/database.py)
    # The longest any request waits for the database (connect, statement, pool, SQLite's
    # lock): past it the answer is a 503 problem, never a hang.
    DATABASE_TIMEOUT = float(os.environ.get("DATABASE_TIMEOUT", "5"))
    # Connections each worker keeps open: one per thread (gunicorn.conf.py's THREADS), as
    # each request holds one. Fewer, and every busy moment opens and closes connections
    # beyond the pool (on PostgreSQL, a new server process each).
    DATABASE_POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE",
                                            os.environ.get("THREADS", "8")))

    # Per-minute limits live in flask-limiter's storage. memory:// is per process, so any
    # deployment with more than one worker must point this at Redis (redis://host:6379).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Without a timeout, a Redis host that stops answering (rather than refusing) would
    # hang every request; after it, RATELIMIT_FAILURE_MODE applies.
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": STORAGE_TIMEOUT,
                                 "socket_connect_timeout": STORAGE_TIMEOUT}
    # What to do when that storage is unreachable: "closed" refuses calls with 503,
    # "open" falls back to per-process memory and logs a warning.
    RATELIMIT_FAILURE_MODE = os.environ.get("RATELIMIT_FAILURE_MODE", "closed")
    # The key layer's own settings (API_KEY_PREFIX, DEFAULT_PLAN, DEFAULT_KEY_TTL,
    # ROTATION_GRACE, KEY_PEPPER, AUTH_FAILURE_LIMIT) live with it, in app/keys/settings.py,
    # read from the same environment.

    # Reverse proxies in front of the app whose X-Forwarded-For entries are trusted for the
    # client address (server binding, per-address auth failures). 0: the socket peer only,
    # so a client cannot spoof its address with the header.
    TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", "0"))

    # Requests larger than this are refused with 413 before they are parsed.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(64 * 1024)))

    # OpenAPI document and interactive docs (flask-smorest). /docs opens with the
    # introduction (info.description) and lists the marketplace's operations first.
    API_TITLE = "Store Price API"
    API_VERSION = "v1"
    API_SPEC_OPTIONS = {"info": {"description": API_INTRODUCTION}}
    OPENAPI_TAGS_FIRST = ("cheapest", "catalogue", "writes")  # the others follow as added
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/docs/assets/"  # served by app/docs.py: /docs works offline
    # No "valid" badge: Swagger UI would fetch it from validator.swagger.io.
    OPENAPI_SWAGGER_UI_CONFIG = {"validatorUrl": None}

    # Webhooks to key holders (app/keys/webhooks/settings.py has the same defaults).
    # Seconds before each retry; after the last one a delivery is `failed`.
    WEBHOOK_RETRY_SCHEDULE = os.environ.get("WEBHOOK_RETRY_SCHEDULE",
                                            "5,300,1800,7200,18000,36000,36000")
    WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", "10"))  # a 2xx within it
    # true: http:// and private/loopback targets (the local demo); never in production.
    WEBHOOK_ALLOW_PRIVATE = os.environ.get("WEBHOOK_ALLOW_PRIVATE", "false").lower() == "true"
    # An endpoint that does nothing but fail for this many seconds is disabled (audited).
    WEBHOOK_DISABLE_AFTER = float(os.environ.get("WEBHOOK_DISABLE_AFTER", str(5 * 86400)))
    # Fernet keys, comma-separated, that encrypt the signing secrets at rest: the first
    # seals, every one opens (rotation). Empty: stored as they are (the embedded default).
    WEBHOOK_SECRET_KEYS = os.environ.get("WEBHOOK_SECRET_KEYS", "")

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # The app's clock; tests swap it to cross a UTC midnight.
    CLOCK = staticmethod(utcnow)
