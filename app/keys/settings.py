"""The key layer's settings and their defaults, read from the environment.

An API that installs the layer needs to set none of them: ``keys.init_app`` fills in each
one the app's config does not already have (the app's own values, and tests', win)."""
import os

DEFAULTS = {
    # Keys look like <prefix>_<id>_<secret><checksum> (format.py): pick your API's own.
    "API_KEY_PREFIX": os.environ.get("API_KEY_PREFIX", "spk"),
    # New keys: their plan (a row of the plans table) and lifetime ("" = never expire).
    "DEFAULT_PLAN": os.environ.get("DEFAULT_PLAN", "free"),
    "DEFAULT_KEY_TTL": os.environ.get("DEFAULT_KEY_TTL", "90d"),
    # How long a rotated-out secret keeps working.
    "ROTATION_GRACE": os.environ.get("ROTATION_GRACE", "24h"),
    # Optional server-side pepper: with it, key hashes are HMAC-SHA-256, so a stolen
    # database alone cannot even confirm a guessed key.
    "KEY_PEPPER": os.environ.get("KEY_PEPPER", ""),
    # Failed authentications per client IP; beyond it, failures get 429 instead of 401.
    "AUTH_FAILURE_LIMIT": os.environ.get("AUTH_FAILURE_LIMIT", "30/minute"),
    # How many rows each key's daily count and usage are spread over (shards.py): 1
    # unless one key makes hundreds of calls a second on PostgreSQL. Read per day.
    "QUOTA_SHARDS": int(os.environ.get("QUOTA_SHARDS", "1")),
    # What the layer shares with its host (app/config.py sets them for this API): the
    # longest wait for the database, and what to do when the limiter storage is down.
    "DATABASE_TIMEOUT": float(os.environ.get("DATABASE_TIMEOUT", "5")),
    "RATELIMIT_FAILURE_MODE": os.environ.get("RATELIMIT_FAILURE_MODE", "closed"),
    "RATELIMIT_STORAGE_OPTIONS": {},
}


def apply_defaults(config) -> None:
    for name, value in DEFAULTS.items():
        config.setdefault(name, value)
