"""The key lifecycle: create, list, show, update, rotate, revoke, delete, prune, scan.
One service used by both the CLI (cli/keys.py) and the admin API (views/admin.py), so
both behave the same. Each function commits its own unit of work."""
import re
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, or_, select

from ..clock import now
from ..errors import Problem
from ..extensions import db
from . import format as keyformat
from .models import ApiKey

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """ "30d" -> 30 days; units s, m, h, d."""
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30d, 12h, 15m or 45s")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def status(key: ApiKey) -> str:
    moment = now()
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and moment >= key.expires_at:
        return "expired"
    if key.not_before is not None and moment < key.not_before:
        return "pending"
    return "active"


def create_key(name: str, **options) -> tuple[ApiKey, str]:
    """A new key and its full secret, which is returned here once and never stored."""
    config = current_app.config
    key = ApiKey(name=name, secret_hash=b"", daily_limit=config["DEFAULT_DAILY_LIMIT"],
                 rate_limit=config["DEFAULT_RATE_LIMIT"])
    if "expires_in" not in options and config["DEFAULT_KEY_TTL"]:
        options["expires_in"] = config["DEFAULT_KEY_TTL"]
    _apply(key, options)
    while True:  # 62**8 ids: a collision is rare, but never silently overwrite a key
        key.id = keyformat.generate_key_id()
        if db.session.get(ApiKey, key.id) is None:
            break
    full_key = keyformat.generate_key(key.id)
    key.secret_hash = keyformat.hash_key(full_key, config["KEY_PEPPER"])
    db.session.add(key)
    db.session.commit()
    return key, full_key


def _apply(key: ApiKey, changes: dict) -> None:
    """Copy validated changes (see schemas.KeyChanges) onto the model."""
    for field in ("name", "owner", "plan", "daily_limit", "rate_limit", "not_before"):
        if field in changes:
            setattr(key, field, changes[field])
    if "scopes" in changes:
        key.scopes = ",".join(sorted(set(changes["scopes"])))
    for field in ("countries", "categories"):
        if field in changes:
            values = changes[field]
            setattr(key, field, ",".join(sorted(set(values))) if values else None)
    if "expires_in" in changes:
        ttl = changes["expires_in"]
        key.expires_at = now() + parse_duration(ttl) if ttl else None


def list_keys(page: int = 1, per_page: int = 100) -> dict:
    total = db.session.scalar(select(func.count()).select_from(ApiKey))
    keys = db.session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return {"data": keys, "page": page, "per_page": per_page, "total": total}


def get_key(key_id: str) -> ApiKey:
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise Problem(404, "not-found", f"No key with id '{key_id}'.")
    return key


def update_key(key_id: str, changes: dict) -> ApiKey:
    key = get_key(key_id)
    _apply(key, changes)
    db.session.commit()
    return key


def rotate_key(key_id: str, grace: str | None = None) -> tuple[ApiKey, str]:
    """New secret; the old one keeps working for ``grace`` (its responses carry
    Deprecation and Sunset headers), so clients can switch without downtime."""
    key = get_key(key_id)
    if key.revoked_at is not None:
        raise Problem(409, "conflict", "A revoked key cannot be rotated; create a new one.")
    moment = now()
    full_key = keyformat.generate_key(key.id)
    key.previous_secret_hash = key.secret_hash
    key.previous_valid_until = moment + parse_duration(
        grace or current_app.config["ROTATION_GRACE"])
    key.rotated_at = moment
    key.secret_hash = keyformat.hash_key(full_key, current_app.config["KEY_PEPPER"])
    db.session.commit()
    return key, full_key


def revoke_key(key_id: str) -> ApiKey:
    """Immediate in every worker: each request reads the key row, nothing is cached."""
    key = get_key(key_id)
    if key.revoked_at is None:
        key.revoked_at = now()
        db.session.commit()
    return key


def delete_key(key_id: str) -> None:
    db.session.delete(get_key(key_id))  # usage rows stay: billing history outlives the key
    db.session.commit()


def prune_keys(unused_days: int) -> list[str]:
    """Delete keys not used (or, if never used, created) in the last ``unused_days``."""
    cutoff = now() - timedelta(days=unused_days)
    stale = or_(ApiKey.last_used_at < cutoff,
                (ApiKey.last_used_at.is_(None)) & (ApiKey.created_at < cutoff))
    ids = list(db.session.scalars(select(ApiKey.id).where(stale).order_by(ApiKey.id)))
    db.session.execute(delete(ApiKey).where(ApiKey.id.in_(ids)))
    db.session.commit()
    return ids


def scan_paths(paths: list[str]) -> list[dict]:
    """Find committed keys: format + valid checksum, then whether each is still live."""
    findings = []
    for file in _files(paths):
        try:
            text = file.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binaries and unreadable files
        for number, line in enumerate(text.splitlines(), start=1):
            for parsed in keyformat.find_keys(line):
                findings.append({"file": str(file), "line": number,
                                 "key_id": parsed.key_id, "status": _leak_status(parsed)})
    return findings


def _leak_status(parsed) -> str:
    """live (works now or will), revoked, expired, rotated-out or unknown."""
    key = db.session.get(ApiKey, parsed.key_id)
    pepper = current_app.config["KEY_PEPPER"]
    if key is None:
        return "unknown"
    if keyformat.matches(parsed.full_key, key.secret_hash, pepper):
        state = status(key)
        return "live" if state in ("active", "pending") else state
    if keyformat.matches(parsed.full_key, key.previous_secret_hash, pepper):
        in_grace = key.previous_valid_until and now() < key.previous_valid_until
        return "live" if in_grace and status(key) == "active" else "rotated-out"
    return "unknown"


def _files(paths):
    for path in map(Path, paths):
        if path.is_file():
            yield path
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.is_file() and ".git" not in file.parts and ".venv" not in file.parts:
                    yield file
