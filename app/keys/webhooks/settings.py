"""The webhook settings and their defaults, read where they are used: a host API that
copies the key layer without these names in its config still gets the documented
behaviour (app/config.py sets them from the environment)."""
from flask import current_app

from .sealing import fernet

# Seconds to wait before each retry: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; after the
# last one the delivery is `failed` (1 first attempt + 7 retries, about 28 hours).
DEFAULT_RETRY_SCHEDULE = "5,300,1800,7200,18000,36000,36000"
DEFAULTS = {
    "WEBHOOK_RETRY_SCHEDULE": DEFAULT_RETRY_SCHEDULE,
    "WEBHOOK_TIMEOUT": 10.0,         # a 2xx within this many seconds is a success
    "WEBHOOK_ALLOW_PRIVATE": False,  # true: http:// and private addresses (local demo)
    "WEBHOOK_DISABLE_AFTER": 5 * 86400,  # seconds of nothing but failures, then disabled
    "WEBHOOK_POLL_INTERVAL": 1.0,    # seconds an idle worker waits before looking again
    "WEBHOOK_SCHEDULE_EVERY": 60.0,  # seconds between looks for time-based events
    "WEBHOOK_SECRET_KEYS": "",       # Fernet keys that seal signing secrets (sealing.py)
}


def setting(name: str):
    return current_app.config.get(name, DEFAULTS[name])


def check(config) -> None:
    """Refuse to start with WEBHOOK_SECRET_KEYS that are not Fernet keys: otherwise the
    first webhook created would find out."""
    try:
        fernet(config.get("WEBHOOK_SECRET_KEYS", DEFAULTS["WEBHOOK_SECRET_KEYS"]))
    except ValueError as error:
        raise RuntimeError(f"WEBHOOK_SECRET_KEYS: {error} Make one with: python -c "
                           "'from cryptography.fernet import Fernet; "
                           "print(Fernet.generate_key().decode())'") from None


def retry_schedule() -> list[float]:
    """WEBHOOK_RETRY_SCHEDULE as seconds: "1,1,1" -> [1.0, 1.0, 1.0]."""
    value = setting("WEBHOOK_RETRY_SCHEDULE")
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    return [float(seconds) for seconds in value]


def allow_private() -> bool:
    value = setting("WEBHOOK_ALLOW_PRIVATE")
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
