"""The key lifecycle: create, list, show, update, rotate, revoke, delete, prune.
One service used by the CLI (cli/keys.py), the admin API (views/admin.py) and the
self-service API (views/self_service.py), so all behave the same. Each function commits
its own unit of work, together with its audit event (audit.py): the change and its
record land together or not at all.

Over HTTP every function takes an ``actor`` (the calling key, authority.py): it sees and
acts only on keys within its own bounds (404 for others) and cannot make or change a key
beyond them (403 exceeds-own-bounds). The CLI passes none: it is the operator's root.

Edges refused with 409: a second rotation while the first one's grace period runs
(unless forced, which ends that grace now); revoking, deleting or updating the last
active admin key so that none is left; and, over HTTP, changing the last active admin
key's scopes, expiry, ``not_before`` or ``allowed_ips`` at all (any of them could lock
everyone out). A key that could never be valid (``not_before`` at or after its expiry)
is refused with 422, on create and on update."""
import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from ..clock import now
from ..errors import Problem
from ..extensions import db
from . import audit, authority
from . import format as keyformat
from .binding import parse_networks
from .bounds import Actor, sees_every_key
from .dimensions import by_field
from .models import ApiKey, Plan
from .scope import SCOPES
from .webhooks import events

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# What an audit event may show of a key (never its hashes), besides its restrictions.
AUDITED = ("name", "owner", "plan", "scopes", "allowed_ips", "daily_limit", "rate_limit",
           "not_before", "expires_at", "revoked_at", "rotated_at", "previous_valid_until")
LISTS = {"scopes", "allowed_ips"}  # stored comma-separated
# Over HTTP, the last active admin key keeps these as they are: each could make it unusable.
LAST_ADMIN_FIXED = ("scopes", "expires_at", "not_before", "allowed_ips")


def parse_duration(text: str) -> timedelta:
    """ "30d" -> 30 days; units s, m, h, d."""
    match = re.fullmatch(r"([0-9]+)([smhd])", text.strip())
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


def snapshot(key: ApiKey | None) -> dict:
    """The key's public fields, as an audit event shows them."""
    if key is None:
        return {}
    values = {field: getattr(key, field) for field in AUDITED}
    for field in LISTS:
        values[field] = sorted(values[field].split(",")) if values[field] else None
    for field in by_field():  # each declared dimension: its values, None = all
        values[field] = (key.restrictions or {}).get(field)
    return values


def create_key(name: str, actor: Actor | None = None, **options) -> tuple[ApiKey, str]:
    """A new key and its full secret, which is returned here once and never stored."""
    config = current_app.config
    key = ApiKey(name=name, secret_hash=b"", plan=config["DEFAULT_PLAN"], restrictions={})
    explicit = dict(options)  # what the caller asked for, before any default
    if actor is not None:
        authority.take_defaults(options, actor)
    if "expires_in" not in options and config["DEFAULT_KEY_TTL"]:
        options["expires_in"] = config["DEFAULT_KEY_TTL"]
    _apply(key, options)
    if actor is not None:
        authority.clamp_to_actor(key, explicit, actor)
        authority.require_within(key, actor)  # before anything is added: nothing written
    while True:  # 62**8 ids: a collision is rare, but never silently overwrite a key
        key.id = keyformat.generate_key_id()
        if db.session.get(ApiKey, key.id) is None:
            break
    full_key = keyformat.generate_key(key.id, config["API_KEY_PREFIX"])
    key.secret_hash = keyformat.hash_key(full_key, config["KEY_PEPPER"])
    db.session.add(key)
    audit.record("key.create", key.id, audit.diff({}, snapshot(key)))
    db.session.commit()
    return key, full_key


def _apply(key: ApiKey, changes: dict) -> None:
    """Copy validated changes (see schemas.KeyChanges) onto the model."""
    if "plan" in changes and db.session.get(Plan, changes["plan"]) is None:
        raise Problem(422, "validation-error", f"No plan with id '{changes['plan']}'.",
                      errors={"plan": [f"No plan with id '{changes['plan']}'."]})
    for field in ("name", "owner", "plan", "daily_limit", "rate_limit", "not_before"):
        if field in changes:  # daily_limit/rate_limit None: back to the plan's
            setattr(key, field, changes[field])
    if "scopes" in changes:
        key.scopes = ",".join(sorted(set(changes["scopes"])))
    if changes.get("allowed_ips"):  # stored in canonical form: 192.0.2.1 -> 192.0.2.1/32
        changes = {**changes, "allowed_ips": map(str, parse_networks(changes["allowed_ips"]))}
    if "allowed_ips" in changes:
        values = changes["allowed_ips"] and set(changes["allowed_ips"])
        key.allowed_ips = ",".join(sorted(values)) if values else None
    restrictions = dict(key.restrictions or {})  # a new dict: JSON columns track assignment
    for field in by_field():
        if field in changes:
            if changes[field] is None:  # all values
                restrictions.pop(field, None)
            else:
                restrictions[field] = sorted(set(changes[field]))
    key.restrictions = restrictions
    if "expires_in" in changes:
        ttl = changes["expires_in"]
        key.expires_at = now() + parse_duration(ttl) if ttl else None
    # Valid from not_before until expires_at: an empty window is a mistake. Checked only
    # when one of them changes, so a key stored so before this check can still be edited.
    timing = {"not_before", "expires_in"} & set(changes)
    if timing and key.not_before is not None and key.expires_at is not None \
            and key.not_before >= key.expires_at:
        field = "not_before" if "not_before" in timing else "expires_in"
        message = (f"not_before ({audit.wire(key.not_before)}) is not before the expiry "
                   f"({audit.wire(key.expires_at)}): the key would never be valid.")
        raise Problem(422, "validation-error", message, errors={field: [message]})


def list_keys(page: int = 1, per_page: int = 100, actor: Actor | None = None) -> dict:
    """Oldest first. An actor sees only the keys within its bounds. The operator (no
    actor) and an admin key without bounds see every key: the database pages them. Any
    other actor's bounds span several columns (scopes, JSON restrictions, networks), so
    its keys are checked here, one by one: its owner's, or, for a restricted admin key,
    every key."""
    stmt = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if actor is not None and actor.own_owner_only:
        stmt = stmt.where(ApiKey.owner == actor.bounds.owner)
    if actor is None or sees_every_key(actor, SCOPES):
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None)
                                                                    .subquery()))
        keys = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
        return {"data": keys, "page": page, "per_page": per_page, "total": total}
    visible = [key for key in db.session.scalars(stmt) if authority.may_see(key, actor)]
    return {"data": visible[(page - 1) * per_page:page * per_page], "page": page,
            "per_page": per_page, "total": len(visible)}


def get_key(key_id: str, for_update: bool = False, actor: Actor | None = None) -> ApiKey:
    """``for_update``: the row stays locked until the commit, so a check made on it (a
    rotation in progress, the last admin) still holds when the change is written. A key
    beyond the actor's bounds is answered like a key that does not exist."""
    stmt = select(ApiKey).where(ApiKey.id == key_id)
    if for_update:
        _lock_on_sqlite()
    key = db.session.scalar(stmt.with_for_update(of=ApiKey) if for_update else stmt)
    if key is None or not authority.may_see(key, actor):
        db.session.rollback()  # ends the lock taken above
        raise Problem(404, "not-found", f"No key with id '{key_id}'.")
    return key


def update_key(key_id: str, changes: dict, actor: Actor | None = None) -> ApiKey:
    """Refused (409) if afterwards no active admin key would remain: scopes without admin
    or a not_before in the future (pending) make the last one stop counting. Over HTTP the
    last one's scopes, expiry, not_before and allowed_ips cannot change at all."""
    admins = _active_admin_ids()  # locked first, in id order (see there)
    key = get_key(key_id, for_update=True, actor=actor)
    before = snapshot(key)
    try:
        _apply(key, changes)
        authority.require_within(key, actor)  # no widening, of itself or of another key
        after = snapshot(key)
        if actor is not None and admins == {key.id} and any(
                before[field] != after[field] for field in LAST_ADMIN_FIXED):
            raise Problem(409, "last-admin-key",
                          "This is the last active admin key: over the API its scopes, "
                          "expiry, not_before and allowed_ips stay as they are, since each "
                          "could leave nobody able to manage keys. Create another admin "
                          "key first.", key_id=key.id)
        if not _is_active_admin(key):
            _keep_an_admin(admins, removing={key.id},
                           change="after this change it is no longer one, and")
    except Problem:
        db.session.rollback()  # the refused change must not be flushed by a later query
        raise
    if changed := audit.diff(before, snapshot(key)):  # nothing changed: nothing to record
        audit.record("key.update", key.id, changed)
    db.session.commit()
    return key


def rotate_key(key_id: str, grace: str | None = None, force: bool = False,
               actor: Actor | None = None) -> tuple[ApiKey, str]:
    """New secret; the old one keeps working for ``grace`` (its responses carry
    Deprecation and Sunset headers), so clients can switch without downtime.

    There is one previous-secret slot. A second rotation during a grace period would
    silently cut off the secret still in grace, so it needs ``force``, which ends that
    grace now (the event records it)."""
    # Two concurrent rotations: one waits. Only a key within the actor's bounds: rotating
    # a wider key would hand the actor its new secret (a takeover).
    key = get_key(key_id, for_update=True, actor=actor)
    if key.revoked_at is not None:
        raise Problem(409, "conflict", "A revoked key cannot be rotated; create a new one.")
    moment = now()
    in_grace = key.previous_valid_until is not None and moment < key.previous_valid_until
    if in_grace and not force:
        raise Problem(409, "rotation-in-progress",
                      f"The previous secret of this key works until "
                      f"{key.previous_valid_until:%Y-%m-%dT%H:%M:%SZ}; rotating again now "
                      "would cut it off. Wait, or force it (--force / \"force\": true) to "
                      "end that grace period now.", key_id=key.id)
    before = snapshot(key)
    full_key = keyformat.generate_key(key.id, current_app.config["API_KEY_PREFIX"])
    key.previous_secret_hash = key.secret_hash
    key.previous_valid_until = moment + parse_duration(
        grace or current_app.config["ROTATION_GRACE"])
    key.rotated_at = moment
    key.secret_hash = keyformat.hash_key(full_key, current_app.config["KEY_PEPPER"])
    changes = audit.diff(before, snapshot(key))
    if in_grace:  # said explicitly: the secret that was in grace stops working now
        changes["earlier_grace_ended"] = [audit.wire(before["previous_valid_until"]),
                                          audit.wire(moment)]
    audit.record("key.rotate", key.id, changes)
    _emit_event("key.rotated", key, moment)
    db.session.commit()
    return key, full_key


def revoke_key(key_id: str, actor: Actor | None = None) -> ApiKey:
    """Immediate in every worker: each request reads the key row, nothing is cached."""
    admins = _active_admin_ids()  # locked first, in id order (see there)
    key = get_key(key_id, for_update=True, actor=actor)
    if key.revoked_at is None:
        _keep_an_admin(admins, removing={key.id})
        before = snapshot(key)
        key.revoked_at = now()
        audit.record("key.revoke", key.id, audit.diff(before, snapshot(key)))
        _emit_event("key.revoked", key, key.revoked_at)
    db.session.commit()  # also when already revoked: it ends the lock taken above
    return key


def delete_key(key_id: str, actor: Actor | None = None) -> None:
    admins = _active_admin_ids()
    key = get_key(key_id, for_update=True, actor=actor)
    _keep_an_admin(admins, removing={key.id})
    audit.record("key.delete", key.id, audit.diff(snapshot(key), {}))
    db.session.delete(key)  # usage rows and audit events stay: history outlives the key
    db.session.commit()


def prune_keys(unused_days: int, actor: Actor | None = None) -> list[str]:
    """Delete keys not used (or, if never used, created) in the last ``unused_days``,
    among those the actor may see. The last active admin keys are kept even when unused."""
    cutoff = now() - timedelta(days=unused_days)
    admins = _active_admin_ids()
    stale = or_(ApiKey.last_used_at < cutoff,
                (ApiKey.last_used_at.is_(None)) & (ApiKey.created_at < cutoff))
    keys = db.session.scalars(select(ApiKey).where(stale).order_by(ApiKey.id)
                              .with_for_update(of=ApiKey)).all()
    keys = [key for key in keys if authority.may_see(key, actor)]
    ids = {key.id for key in keys}
    if not admins - ids:
        keys = [key for key in keys if not _is_active_admin(key)]
    for key in keys:
        audit.record("key.prune", key.id, audit.diff(snapshot(key), {}))
    db.session.execute(delete(ApiKey).where(ApiKey.id.in_([key.id for key in keys])))
    db.session.commit()
    return [key.id for key in keys]


def _emit_event(event_type: str, key: ApiKey, moment) -> None:
    """The key's owner hears of it by webhook: the event joins this transaction."""
    events.emit_in_session(db.session, event_type, key.owner, key.id, moment, {
        "key_id": key.id, "owner": key.owner, "at": audit.wire(moment),
        "actor": audit.actor()})


def _is_active_admin(key: ApiKey) -> bool:
    return "admin" in key.scopes.split(",") and status(key) == "active"


def _active_admin_ids() -> set[str]:
    """The active admin keys, locked until the commit (PostgreSQL; SQLite has one writer),
    so two admins revoking each other at once cannot both succeed. Every caller takes
    these locks before any other, in id order, so two such calls cannot deadlock."""
    _lock_on_sqlite()
    # Lock every admin-scoped row, revoked or not: a filter on a column that concurrent
    # revocations change would let PostgreSQL re-check rows out of order (a deadlock).
    candidates = db.session.scalars(select(ApiKey).where(ApiKey.scopes.contains("admin"))
                                    .order_by(ApiKey.id).with_for_update(of=ApiKey))
    return {key.id for key in candidates if _is_active_admin(key)}


def _keep_an_admin(admins: set[str], removing: set[str],
                   change: str = "without it") -> None:
    if admins & removing and not admins - removing:
        raise Problem(409, "last-admin-key",
                      f"This is the last active admin key: {change} nobody could manage "
                      "keys over the API. Create another admin key first.",
                      key_id=next(iter(admins & removing)))


def _lock_on_sqlite() -> None:
    """SQLite has no row locks (and ignores FOR UPDATE): a write that matches nothing takes
    the database's write lock now, so the check that follows and the change are one serial
    step; other writers wait for the commit (busy_timeout)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(ApiKey).where(ApiKey.id.is_(None)).values(name=ApiKey.name))
